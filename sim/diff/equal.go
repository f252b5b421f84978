package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// digests holds the content hash (snapshot.Version) of every resource of
// one state and of every virtual host, so that comparing two states encodes
// each message once. A route configuration's digest covers its
// own fields and its virtual hosts' digests, so its hosts are not encoded
// twice. Equal digests mean equal resources (translate emits no NaNs and
// no unknown fields, the cases where encodings and proto.Equal differ).
type digests map[proto.Message]string

// digest encodes the resources of res on every core.
func digest(res *xds.Resources) digests {
	if res == nil {
		return digests{}
	}
	var msgs []proto.Message
	for _, l := range res.Listeners {
		msgs = append(msgs, l)
	}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			msgs = append(msgs, vh)
		}
	}
	for _, c := range res.Clusters {
		msgs = append(msgs, c)
	}
	for _, e := range res.Endpoints {
		msgs = append(msgs, e)
	}
	for _, s := range res.Secrets {
		msgs = append(msgs, s)
	}
	sums := make([]string, len(msgs))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h snapshot.Hasher
			for i := w; i < len(msgs); i += workers {
				sums[i], _ = h.Version(msgs[i]) // an unencodable message has "" and compares with proto.Equal
			}
		}()
	}
	wg.Wait()
	out := make(digests, len(msgs)+len(res.Routes))
	for i, m := range msgs {
		if sums[i] != "" {
			out[m] = sums[i]
		}
	}
	for _, rc := range res.Routes {
		if d, ok := routeConfigDigest(rc, out); ok {
			out[rc] = d
		}
	}
	return out
}

// routeConfigDigest hashes the version of rc's fields other than its
// virtual hosts, then the digests of its hosts in order; false when a part
// has no digest.
func routeConfigDigest(rc *routev3.RouteConfiguration, hosts digests) (string, bool) {
	m := rc.ProtoReflect()
	shell := m.Type().New()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != "virtual_hosts" {
			shell.Set(fd, v)
		}
		return true
	})
	v, err := snapshot.Version(shell.Interface())
	if err != nil {
		return "", false
	}
	h := sha256.New()
	h.Write([]byte(v))
	for _, vh := range rc.GetVirtualHosts() {
		d, ok := hosts[vh]
		if !ok {
			return "", false
		}
		h.Write([]byte(d))
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// same reports whether a (digested in da) and b (in db) are equal.
func same(da, db digests, a, b proto.Message) bool {
	x, okA := da[a]
	y, okB := db[b]
	if !okA || !okB {
		return proto.Equal(a, b)
	}
	return x == y
}
