package live

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Quarantine tells the loop which HTTPProxies Envoy rejected (serve
// --exclude-rejected reads the xDS server's standing rejections).
type Quarantine interface {
	// Changed is signalled when the rejections change.
	Changed() <-chan struct{}
	// Rejected returns the HTTPProxies the standing rejections name, each
	// with why.
	Rejected() map[status.Ref]string
}

// recentBuilds is how many incremental builds' changed HTTPProxies the loop
// remembers to tell which of a rejection's objects are to blame.
const recentBuilds = 16

// maxBlamed bounds the HTTPProxies one exclusion takes out: more (a whole
// ingress_http whose rejection names no host, and no recent change among
// them) is too broad to blame, and nothing is excluded.
const maxBlamed = 10

// exclusion is an HTTPProxy taken out, with why and its spec then: it
// comes back when its spec changes (or it is deleted).
type exclusion struct {
	why  string
	spec contourv1.HTTPProxySpec
}

// quarantine is the loop's record of excluded HTTPProxies.
type quarantine struct {
	excluded map[status.Ref]exclusion
	// recent are the HTTPProxies the last incremental builds changed.
	recent []map[status.Ref]bool
	// dirty is set when excluded changed since the compiler was made.
	dirty bool
}

// noteChanged remembers the HTTPProxies an incremental build changed.
func (q *quarantine) noteChanged(keys []types.NamespacedName) {
	changed := make(map[status.Ref]bool, len(keys))
	for _, k := range keys {
		changed[status.Ref{Kind: status.KindHTTPProxy, Namespace: k.Namespace, Name: k.Name}] = true
	}
	q.recent = append(q.recent, changed)
	if len(q.recent) > recentBuilds {
		q.recent = q.recent[1:]
	}
}

// exclude takes out the HTTPProxies rejected names that exist in idx: of
// them, those changed by recent builds when there are any (a rejection
// names every object a resource was built from, and the one that just
// changed is the likely culprit), otherwise all, unless they are more than
// maxBlamed. It reports whether any was added.
func (q *quarantine) exclude(rejected map[status.Ref]string, idx *source.Index) bool {
	blamed := map[status.Ref]string{}
	for ref, why := range rejected {
		for _, changed := range q.recent {
			if changed[ref] {
				blamed[ref] = why
			}
		}
	}
	if len(blamed) == 0 {
		blamed = rejected
	}
	if len(blamed) > maxBlamed {
		return false
	}
	added := false
	for ref, why := range blamed {
		if _, done := q.excluded[ref]; done || ref.Kind != status.KindHTTPProxy {
			continue
		}
		p, ok := idx.HTTPProxies.Get(source.Key(ref.Namespace, ref.Name))
		if !ok {
			continue
		}
		if q.excluded == nil {
			q.excluded = map[status.Ref]exclusion{}
		}
		q.excluded[ref] = exclusion{why: why, spec: *p.Spec.DeepCopy()}
		added = true
	}
	q.dirty = q.dirty || added
	return added
}

// release brings back the excluded HTTPProxies whose spec changed in idx
// or that idx no longer has, and reports whether any came back.
func (q *quarantine) release(idx *source.Index) bool {
	released := false
	for ref, ex := range q.excluded {
		p, ok := idx.HTTPProxies.Get(source.Key(ref.Namespace, ref.Name))
		if !ok || !equality.Semantic.DeepEqual(p.Spec, ex.spec) {
			delete(q.excluded, ref)
			released = true
		}
	}
	q.dirty = q.dirty || released
	return released
}

// reasons returns the excluded HTTPProxies with why, for graph.Options.
func (q *quarantine) reasons() map[status.Ref]string {
	if len(q.excluded) == 0 {
		return nil
	}
	out := make(map[status.Ref]string, len(q.excluded))
	for ref, ex := range q.excluded {
		out[ref] = ex.why
	}
	return out
}
