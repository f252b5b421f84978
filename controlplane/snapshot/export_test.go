package snapshot

// MarshalSplit exposes marshalSplit to the external tests.
var MarshalSplit = marshalSplit

// MinSplit exposes minSplit to the external tests.
const MinSplit = minSplit
