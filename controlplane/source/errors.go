package source

import "errors"

// ErrUnsupportedType is returned by Upsert and Delete for a Go type the core
// does not read.
var ErrUnsupportedType = errors.New("unsupported object type")
