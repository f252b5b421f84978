package snapshot_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
)

// TestSplitVersion: the version of a resource encoded element by element
// is the hash its definition gives, written out here by hand; after
// several changes through one Encoder it is what a fresh Encoder gives
// for the same content, equal contents in new messages keep it, and
// changing one element changes it.
func TestSplitVersion(t *testing.T) {
	t.Parallel()
	rc := &routev3.RouteConfiguration{Name: "big", InternalOnlyHeaders: []string{"x-a"}}
	for i := range snapshot.MinSplit {
		rc.VirtualHosts = append(rc.VirtualHosts, vhost(i, fmt.Sprint(i, ".example.com")))
	}
	below := mustMarshal(t, &routev3.RouteConfiguration{Name: "big"})                          // name = 1
	above := mustMarshal(t, &routev3.RouteConfiguration{InternalOnlyHeaders: []string{"x-a"}}) // internal_only_headers = 3
	input := []byte{0, 2}                                                                      // virtual_hosts = 2
	input = protowire.AppendVarint(input, uint64(len(below)))
	input = append(input, below...)
	input = protowire.AppendVarint(input, uint64(len(rc.VirtualHosts)))
	for _, vh := range rc.VirtualHosts {
		sum := sha256.Sum256(mustMarshal(t, vh))
		input = append(input, sum[:]...)
	}
	input = append(input, above...)
	sum := sha256.Sum256(input)
	if got, want := freshVersion(t, snapshot.KindRoute, rc), hex.EncodeToString(sum[:8]); got != want {
		t.Errorf("split version %s, want %s", got, want)
	}

	// Several changes through one Encoder; each step's content is kept to
	// compare versions with.
	var enc snapshot.Encoder
	contents := []*routev3.RouteConfiguration{}
	versions := []string{}
	cur := rc
	for step := range 6 {
		next := &routev3.RouteConfiguration{Name: "big", VirtualHosts: slices.Clone(cur.VirtualHosts), InternalOnlyHeaders: cur.InternalOnlyHeaders}
		switch step {
		case 1: // one host changed
			next.VirtualHosts[7] = vhost(7, "changed.example.com")
		case 2: // one added, one removed
			next.VirtualHosts = slices.Insert(slices.Delete(next.VirtualHosts, 100, 101), 300, vhost(-1, "new.example.com"))
		case 3: // a field after the list
			next.InternalOnlyHeaders = []string{"x-b"}
		case 4: // step 2's content again, in new messages
			next = proto.CloneOf(next)
			next.InternalOnlyHeaders = []string{"x-a"}
		case 5: // the first content again, in the first messages
			next = rc
		}
		got, err := enc.Encode(snapshot.KindRoute, "big", next)
		if err != nil {
			t.Fatal(err)
		}
		if want := freshVersion(t, snapshot.KindRoute, next); got.Version != want {
			t.Errorf("step %d: incremental version %s, from scratch %s", step, got.Version, want)
		}
		contents, versions = append(contents, next), append(versions, got.Version)
		cur = next
	}
	for i := range contents {
		for j := range i {
			if eq := proto.Equal(contents[i], contents[j]); eq != (versions[i] == versions[j]) {
				t.Errorf("steps %d and %d: equal contents %v, versions %s and %s", j, i, eq, versions[j], versions[i])
			}
		}
	}
}

// TestSplitVersionListener: a listener's filter chains, with fields on both
// sides, are versioned alike: incrementally as from scratch, and one
// chain changed changes the version.
func TestSplitVersionListener(t *testing.T) {
	t.Parallel()
	addr := &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0"}}}
	l := &listenerv3.Listener{Name: "https", Address: addr, StatPrefix: "https"}
	for i := range snapshot.MinSplit + 1 {
		l.FilterChains = append(l.FilterChains, &listenerv3.FilterChain{Name: fmt.Sprint("fc", i)})
	}
	var enc snapshot.Encoder
	first, err := enc.Encode(snapshot.KindListener, "https", l)
	if err != nil {
		t.Fatal(err)
	}
	next := proto.CloneOf(l)
	next.FilterChains = slices.Clone(l.FilterChains)
	next.FilterChains[5] = &listenerv3.FilterChain{Name: "fc5-changed"}
	got, err := enc.Encode(snapshot.KindListener, "https", next)
	if err != nil {
		t.Fatal(err)
	}
	if want := freshVersion(t, snapshot.KindListener, next); got.Version != want || got.Version == first.Version {
		t.Errorf("after one chain changed: version %s, from scratch %s, before %s", got.Version, want, first.Version)
	}
	if plain, _ := snapshot.Version(next); got.Version == plain {
		t.Error("a split version equals the plain one")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
