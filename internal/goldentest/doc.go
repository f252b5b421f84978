// Package goldentest is the one helper for golden files. Tests compare what
// they produce with a file under golden/; `go test -update` (which
// `make update-golden` runs) rewrites the files instead. Orphans checks that
// every golden has an input, so a golden can never sit unrun.
package goldentest
