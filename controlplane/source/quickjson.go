package source

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// quickUnmarshal decodes compact JSON into the object v points to, for the
// common case, several times faster than the strict decoder. It answers
// true only when the strict decoder (sigs.k8s.io/json UnmarshalStrict)
// would have decoded the same value without any error: every key names a
// field exactly (no unknown, case-folded or duplicate key), every value has
// the field's type. It declines (false) everything else — null, escaped
// strings, whitespace, interface{} fields, text unmarshalers, "string"
// options — and v is then in an unspecified state: the caller decodes a new
// object strictly, which also explains errors. FuzzQuickUnmarshal checks the
// agreement.
func quickUnmarshal(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	q := quickDecoder{jsonScanner{data: data}}
	return q.value(rv.Elem()) && q.pos == len(data)
}

// quickPlan is what the decoder knows of one Go type.
type quickPlan struct {
	kind reflect.Kind
	// unmarshaler: *T implements json.Unmarshaler, which then decodes it.
	unmarshaler bool
	// unsupported: the fast path never decodes this type.
	unsupported bool
	// fields of a struct by exact JSON name.
	fields map[string]quickField
}

// quickField is one JSON member of a struct: its path through embedded
// structs and its ordinal (for duplicate detection).
type quickField struct {
	index   []int
	ordinal int
}

var (
	quickPlans       sync.Map // reflect.Type → *quickPlan
	jsonUnmarshaler  = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler  = reflect.TypeFor[encoding.TextUnmarshaler]()
	quickPlanBuilder sync.Mutex
)

func planOf(t reflect.Type) *quickPlan {
	if p, ok := quickPlans.Load(t); ok {
		return p.(*quickPlan)
	}
	quickPlanBuilder.Lock()
	defer quickPlanBuilder.Unlock()
	p := &quickPlan{kind: t.Kind()}
	pt := reflect.PointerTo(t)
	switch {
	case pt.Implements(jsonUnmarshaler):
		p.unmarshaler = true
	case pt.Implements(textUnmarshaler):
		p.unsupported = true
	case p.kind == reflect.Struct:
		p.fields, p.unsupported = structFields(t)
	case p.kind == reflect.Map:
		k := t.Key()
		p.unsupported = k.Kind() != reflect.String || reflect.PointerTo(k).Implements(textUnmarshaler)
	}
	quickPlans.Store(t, p)
	return p
}

// structFields lists the JSON members of a struct as encoding/json does:
// exported fields by tag name (or Go name), fields of untagged embedded
// structs promoted, a shallower name hiding deeper ones. Anything subtler
// (embedded pointers, the "string" option, two fields with one name at one
// depth) makes the type unsupported (true).
func structFields(t reflect.Type) (map[string]quickField, bool) {
	type level struct {
		t     reflect.Type
		index []int
	}
	out := map[string]quickField{}
	current := []level{{t: t}}
	for len(current) > 0 {
		var next []level
		found := map[string][]int{}
		for _, l := range current {
			for i := 0; i < l.t.NumField(); i++ {
				sf := l.t.Field(i)
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if strings.Contains(","+opts+",", ",string,") {
					return nil, true
				}
				index := append(append([]int(nil), l.index...), i)
				if sf.Anonymous && name == "" {
					if sf.Type.Kind() == reflect.Pointer {
						return nil, true
					}
					if sf.Type.Kind() == reflect.Struct {
						next = append(next, level{t: sf.Type, index: index})
						continue
					}
				}
				if !sf.IsExported() {
					continue
				}
				if name == "" {
					name = sf.Name
				}
				if _, hidden := out[name]; hidden {
					continue
				}
				if _, twice := found[name]; twice {
					return nil, true
				}
				found[name] = index
			}
		}
		for name, index := range found {
			out[name] = quickField{index: index, ordinal: len(out)}
		}
		current = next
	}
	return out, false
}

type quickDecoder struct{ jsonScanner }

// value decodes one JSON value into v, which is settable.
func (q *quickDecoder) value(v reflect.Value) bool {
	p := planOf(v.Type())
	switch {
	case p.unsupported:
		return false
	case p.unmarshaler:
		start := q.pos
		if q.peek() == 'n' || !q.skip() {
			return false
		}
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(q.data[start:q.pos]) == nil
	}
	switch p.kind {
	case reflect.Pointer:
		if q.peek() == 'n' {
			return false
		}
		nv := reflect.New(v.Type().Elem())
		if !q.value(nv.Elem()) {
			return false
		}
		v.Set(nv)
		return true
	case reflect.String:
		s, ok := q.string()
		v.SetString(s)
		return ok
	case reflect.Struct:
		return q.structValue(v, p)
	case reflect.Map:
		return q.mapValue(v)
	case reflect.Slice:
		return q.sliceValue(v)
	}
	return q.scalar(v, p.kind)
}

// scalar decodes booleans and numbers as encoding/json does.
func (q *quickDecoder) scalar(v reflect.Value, kind reflect.Kind) bool {
	start := q.pos
	for q.pos < len(q.data) {
		if c := q.data[q.pos]; c == ',' || c == '}' || c == ']' {
			break
		}
		q.pos++
	}
	tok := string(q.data[start:q.pos])
	switch kind {
	case reflect.Bool:
		if tok != "true" && tok != "false" {
			return false
		}
		v.SetBool(tok == "true")
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || v.OverflowInt(n) || !validNumber([]byte(tok)) {
			return false
		}
		v.SetInt(n)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(tok, 10, 64)
		if err != nil || v.OverflowUint(n) || !validNumber([]byte(tok)) {
			return false
		}
		v.SetUint(n)
		return true
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(tok, v.Type().Bits())
		if err != nil || v.OverflowFloat(f) || !validNumber([]byte(tok)) {
			return false
		}
		v.SetFloat(f)
		return true
	}
	return false
}

func (q *quickDecoder) structValue(v reflect.Value, p *quickPlan) bool {
	var seen uint64 // fields by ordinal; structs with more fall back
	if len(p.fields) > 64 {
		return false
	}
	return q.members(func(key []byte) bool {
		f, ok := p.fields[string(key)]
		if !ok || seen&(1<<f.ordinal) != 0 {
			return false
		}
		seen |= 1 << f.ordinal
		fv := v.Field(f.index[0])
		for _, i := range f.index[1:] {
			fv = fv.Field(i)
		}
		return q.value(fv)
	})
}

// skipValue passes over one value like jsonScanner.skip, without
// allocating (object keys with escapes decline).
func (q *quickDecoder) skipValue() bool {
	switch q.peek() {
	case '{':
		return q.members(func([]byte) bool { return q.skipValue() })
	case '[':
		return q.array(q.skipValue)
	}
	return q.skip()
}

// string reads a plain string literal.
func (q *quickDecoder) string() (string, bool) {
	raw, ok := q.plainString()
	return string(raw), ok
}

func (q *quickDecoder) mapValue(v reflect.Value) bool {
	if q.peek() != '{' {
		return false
	}
	if sm, ok := v.Addr().Interface().(*map[string]string); ok { // labels, annotations
		m := map[string]string{}
		ok := q.members(func(key []byte) bool {
			if _, dup := m[string(key)]; dup {
				return false
			}
			k := string(key)
			s, ok := q.string()
			m[k] = s
			return ok
		})
		*sm = m
		return ok
	}
	t := v.Type()
	m := reflect.MakeMap(t)
	ok := q.members(func(key []byte) bool {
		k := reflect.ValueOf(string(key)).Convert(t.Key())
		if m.MapIndex(k).IsValid() {
			return false
		}
		e := reflect.New(t.Elem()).Elem()
		if !q.value(e) {
			return false
		}
		m.SetMapIndex(k, e)
		return true
	})
	v.Set(m)
	return ok
}

func (q *quickDecoder) sliceValue(v reflect.Value) bool {
	t := v.Type()
	if t.Elem().Kind() == reflect.Uint8 { // []byte: base64 text
		raw, ok := q.plainString()
		if !ok {
			return false
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
		n, err := base64.StdEncoding.Decode(b, raw)
		if err != nil {
			return false
		}
		v.SetBytes(b[:n])
		return true
	}
	start, n := q.pos, 0 // count first: elements are decoded in place, without regrowing
	if !q.array(func() bool { n++; return q.skipValue() }) {
		return false
	}
	q.pos = start
	v.Set(reflect.MakeSlice(t, n, n))
	i := 0
	return q.array(func() bool { i++; return q.value(v.Index(i - 1)) })
}
