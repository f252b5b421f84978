package source

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reuse lets several loads share decoded objects: a YAML document whose
// text was already decoded by a load with the same Reuse is not decoded
// again, and both indexes hold the same object. `isobar diff` reads the base
// and the head this way, where all but a few documents are identical.
// Objects in the indexes are then shared, so callers must treat them as
// read-only (the core does). Loads sharing a Reuse must run one after the
// other; a Reuse belongs to one DefaultNamespace (loads with another one do
// not use it).
type Reuse struct {
	mu        sync.Mutex
	namespace string
	docs      map[string]decoded
}

// decoded is the result of a document that yielded exactly one object and
// nothing else.
type decoded struct {
	h   header
	dec decoder
	obj metav1.Object
}

// NewReuse returns an empty Reuse.
func NewReuse() *Reuse { return &Reuse{docs: map[string]decoded{}} }

// usable binds r to the namespace of the first load and reports whether a
// load with namespace may use it.
func (r *Reuse) usable(namespace string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.namespace == "" {
		r.namespace = namespace
	}
	return r.namespace == namespace
}

func (r *Reuse) get(key string) (decoded, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.docs[key]
	return d, ok
}

func (r *Reuse) put(key string, d decoded) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs[key] = d
}

// decodeReusing decodes one YAML document into rec, through r when the
// document was seen before.
func decodeReusing(r *Reuse, rec *recorder, file string, d document) {
	if r == nil {
		decodeYAML(rec, file, d)
		return
	}
	key := d.raw
	if hit, ok := r.get(key); ok {
		where := Problem{File: file, Doc: d.index, Line: firstContentLine(d),
			Kind: hit.h.Kind, Namespace: hit.h.Metadata.Namespace, Name: hit.h.Metadata.Name}
		rec.add(where, hit.h, hit.dec, hit.obj)
		return
	}
	decodeYAML(rec, file, d)
	if d, ok := rec.only(); ok {
		r.put(key, d)
	}
}
