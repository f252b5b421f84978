// Package linediff renders the difference between two texts as a unified
// diff (the format of `diff -u`), which `isobar sim` prints when a step's
// output no longer matches its golden.
package linediff
