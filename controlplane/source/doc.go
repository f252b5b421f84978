// Package source owns the objects the core reads. Index holds them in typed
// maps keyed by namespace/name, with Upsert and Delete in O(1) whatever the
// arrival order; Load reads YAML/JSON files, folders and stdin into an Index
// and reports every document it could not use, naming the file, the document,
// the object and the field. Services and EndpointSlices are held as this
// package's Service and EndpointSlice, what the core reads of them; the
// informers cache those too (Trim).
//
// Index has no logic beyond storage and lookup: what the objects mean is the
// graph package's business.
package source
