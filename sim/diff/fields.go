package diff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// FieldChange is one leaf that differs between two values.
type FieldChange struct {
	// Path is a JSON path such as spec.routes[0].services[1].weight.
	Path   string `json:"path"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// String renders the change as "path: before → after".
func (c FieldChange) String() string {
	switch {
	case c.Before == "":
		return fmt.Sprintf("%s: (none) → %s", c.Path, c.After)
	case c.After == "":
		return fmt.Sprintf("%s: %s → (none)", c.Path, c.Before)
	}
	return fmt.Sprintf("%s: %s → %s", c.Path, c.Before, c.After)
}

// maxFieldChanges bounds the changes listed per object or resource.
const maxFieldChanges = 50

// fieldChanges lists the leaves that differ between two JSON-shaped values
// (maps, slices, scalars), sorted by path, at most maxFieldChanges of them
// (a last entry says how many were left out).
func fieldChanges(a, b any) []FieldChange {
	var out []FieldChange
	walkChanges("", a, b, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	if len(out) > maxFieldChanges {
		n := len(out) - maxFieldChanges
		out = append(out[:maxFieldChanges], FieldChange{Path: fmt.Sprintf("(%d more changes)", n)})
	}
	return out
}

func walkChanges(path string, a, b any, out *[]FieldChange) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for k := range keys {
			walkChanges(join(path, k), av[k], bv[k], out)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		n := max(len(av), len(bv))
		for i := 0; i < n; i++ {
			var x, y any
			if i < len(av) {
				x = av[i]
			}
			if i < len(bv) {
				y = bv[i]
			}
			walkChanges(path+"["+strconv.Itoa(i)+"]", x, y, out)
		}
		return
	}
	as, bs := render(a), render(b)
	if as != bs {
		*out = append(*out, FieldChange{Path: path, Before: as, After: bs})
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// render prints a leaf (or a whole subtree that appeared or disappeared)
// compactly; nil is "".
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strconv.Quote(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		s := string(b)
		if len(s) > 200 {
			s = s[:197] + "..."
		}
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// generic turns a JSON document into maps and slices.
func generic(data []byte) (any, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func sortStrings(s []string) { sort.Strings(s) }
