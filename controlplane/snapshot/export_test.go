package snapshot

// MarshalSplit exposes marshalSplit to the external tests.
var MarshalSplit = marshalSplit

// MinSplit exposes minSplit to the external tests.
const MinSplit = minSplit

// Reused returns how many elements the last encoding of the resource of
// kind k called name took from the one before (-1: none remembered).
func (e *Encoder) Reused(k Kind, name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.last[memoKey{k, name}]; ok {
		return s.reused
	}
	return -1
}

// ReferencesByUnmarshal exposes referencesByUnmarshal to the external
// tests.
var ReferencesByUnmarshal = referencesByUnmarshal
