package diff

import (
	"crypto/sha256"
	"runtime"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// digests holds the SHA-256 of the deterministic encoding of every resource
// of one state and of every virtual host, so that comparing two states
// encodes each message once. A route configuration's digest covers its
// own fields and its virtual hosts' digests, so its hosts are not encoded
// twice. Equal digests mean equal resources (translate emits no NaNs and
// no unknown fields, the cases where encodings and proto.Equal differ).
type digests map[proto.Message][32]byte

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
	sums := make([][32]byte, len(msgs))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := w; i < len(msgs); i += workers {
				buf, _ = deterministic.MarshalAppend(buf[:0], msgs[i])
				sums[i] = sha256.Sum256(buf)
			}
		}()
	}
	wg.Wait()
	out := make(digests, len(msgs)+len(res.Routes))
	for i, m := range msgs {
		out[m] = sums[i]
	}
	for _, rc := range res.Routes {
		out[rc] = routeConfigDigest(rc, out)
	}
	return out
}

// routeConfigDigest hashes the fields of rc other than its virtual hosts,
// then the digests of its hosts in order.
func routeConfigDigest(rc *routev3.RouteConfiguration, hosts digests) [32]byte {
	m := rc.ProtoReflect()
	shell := m.Type().New()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != "virtual_hosts" {
			shell.Set(fd, v)
		}
		return true
	})
	b, _ := deterministic.Marshal(shell.Interface())
	h := sha256.New()
	h.Write(b)
	for _, vh := range rc.GetVirtualHosts() {
		sum := hosts[vh]
		h.Write(sum[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
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
