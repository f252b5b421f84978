package diff

import (
	"encoding/json"
	"reflect"
	"sort"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Change says what happened to an object or resource.
type Change string

// Kinds of change.
const (
	Added   Change = "added"
	Removed Change = "removed"
	Changed Change = "changed"
)

// ObjectChange is one input object that differs between the states.
type ObjectChange struct {
	Ref    status.Ref    `json:"object"`
	Change Change        `json:"change"`
	Fields []FieldChange `json:"fields,omitempty"`
}

// compareObjects lists objects added, removed or changed, ignoring status and
// server-managed metadata.
func compareObjects(base, head *source.Index) ([]ObjectChange, error) {
	base, head = withoutEqual(base, head)
	b, err := objectDocs(base)
	if err != nil {
		return nil, err
	}
	h, err := objectDocs(head)
	if err != nil {
		return nil, err
	}
	var out []ObjectChange
	for _, e := range mergeRefs(keysOf(b), keysOf(h)) {
		bv, inBase := b[e]
		hv, inHead := h[e]
		switch {
		case !inBase:
			out = append(out, ObjectChange{Ref: e, Change: Added})
		case !inHead:
			out = append(out, ObjectChange{Ref: e, Change: Removed})
		default:
			if fc := fieldChanges(bv, hv); len(fc) > 0 {
				out = append(out, ObjectChange{Ref: e, Change: Changed, Fields: fc})
			}
		}
	}
	return out, nil
}

// objectDocs renders every object of idx as a generic JSON value without
// status and server-managed metadata.
func objectDocs(idx *source.Index) (map[status.Ref]any, error) {
	out := map[status.Ref]any{}
	if idx == nil {
		return out, nil
	}
	for _, e := range idx.Entries() {
		raw, err := json.Marshal(e.Object)
		if err != nil {
			return nil, err
		}
		v, err := generic(raw)
		if err != nil {
			return nil, err
		}
		if m, ok := v.(map[string]any); ok {
			delete(m, "status")
			if meta, ok := m["metadata"].(map[string]any); ok {
				for _, k := range []string{"resourceVersion", "uid", "generation", "managedFields", "selfLink"} {
					delete(meta, k)
				}
			}
		}
		out[e.Ref] = v
	}
	return out, nil
}

func keysOf[V any](m map[status.Ref]V) []status.Ref {
	out := make([]status.Ref, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// mergeRefs returns the sorted union of two reference lists.
func mergeRefs(a, b []status.Ref) []status.Ref {
	seen := map[status.Ref]bool{}
	var out []status.Ref
	for _, r := range append(append([]status.Ref(nil), a...), b...) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sortRefs(out)
	return out
}

func sortRefs(refs []status.Ref) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].Less(refs[j]) })
}

// withoutEqual returns the entries of both indexes minus the objects that
// are deeply equal on both sides (most of them, in a review), so that only
// the rest are rendered and compared field by field.
func withoutEqual(base, head *source.Index) (*source.Index, *source.Index) {
	if base == nil || head == nil {
		return base, head
	}
	he := head.EntriesUnordered()
	hs := make(map[status.Ref]any, len(he))
	for _, e := range he {
		hs[e.Ref] = e.Object
	}
	nb, nh := source.NewIndex(), source.NewIndex()
	for _, e := range base.EntriesUnordered() {
		if h, ok := hs[e.Ref]; ok && reflect.DeepEqual(e.Object, h) {
			delete(hs, e.Ref)
			continue
		}
		_ = nb.Upsert(e.Object)
	}
	for _, o := range hs {
		_ = nh.Upsert(o)
	}
	return nb, nh
}
