package scenario

import (
	"fmt"
	"testing"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestApplyMovesSlices checks that a step giving an EndpointSlice another
// Service's label moves it: the index, which groups slices by Service,
// keeps no copy under the first.
func TestApplyMovesSlices(t *testing.T) {
	const slice = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: ns, labels: {kubernetes.io/service-name: %s}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.0.0.1]}]
`
	load := func(service string) *source.Index {
		t.Helper()
		idx, problems := source.LoadBytes(source.LoadOptions{}, "t.yaml", []byte(fmt.Sprintf(slice, service)))
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		return idx
	}
	st, err := apply(load("web"), load("api").Entries(), nil, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := st.idx.EndpointSlices.Get(source.Key("ns", "web")); len(list) != 0 {
		t.Errorf("web still has the slice: %v", list)
	}
	if list, _ := st.idx.EndpointSlices.Get(source.Key("ns", "api")); len(list) != 1 {
		t.Errorf("api's slices: %v", list)
	}
}
