package scenario

import (
	"encoding/json"
	"reflect"

	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// sameDocument compares two translate documents: the resources as protos
// (proto.Equal), the statuses and findings as values.
func sameDocument(a, b []byte) (bool, error) {
	ra, err := xds.Parse(a)
	if err != nil {
		return false, nil // an unreadable golden differs
	}
	rb, err := xds.Parse(b)
	if err != nil {
		return false, err
	}
	if !ra.Equal(rb) {
		return false, nil
	}
	var sa, sb struct {
		Status   json.RawMessage `json:"status"`
		Findings json.RawMessage `json:"findings"`
	}
	if err := yaml.Unmarshal(a, &sa); err != nil {
		return false, nil
	}
	if err := yaml.Unmarshal(b, &sb); err != nil {
		return false, err
	}
	var va, vb any
	_ = json.Unmarshal(append(append([]byte(`[`), sa.Status...), append([]byte(`,`), append(sa.Findings, ']')...)...), &va)
	_ = json.Unmarshal(append(append([]byte(`[`), sb.Status...), append([]byte(`,`), append(sb.Findings, ']')...)...), &vb)
	return reflect.DeepEqual(va, vb), nil
}
