package xds

import (
	"encoding/json"
	"fmt"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	// Register the extension types that appear inside Any fields, so
	// protojson can read them.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

var unmarshal = protojson.UnmarshalOptions{DiscardUnknown: false}

// Parse reads Resources from either the document Marshal writes (YAML or
// JSON with the keys listeners, routes, clusters, endpoints, secrets; other
// keys are ignored) or an Envoy admin /config_dump. Lists come back sorted.
func Parse(data []byte) (*Resources, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, fmt.Errorf("not a mapping: %w", err)
	}
	var res *Resources
	if _, ok := top["configs"]; ok {
		res, err = parseConfigDump(js)
	} else {
		res, err = parseDocument(top)
	}
	if err != nil {
		return nil, err
	}
	res.Sort()
	return res, nil
}

func parseDocument(top map[string]json.RawMessage) (*Resources, error) {
	res := &Resources{}
	var err error
	if res.Listeners, err = parseList[*listenerv3.Listener](top, "listeners"); err != nil {
		return nil, err
	}
	if res.Routes, err = parseList[*routev3.RouteConfiguration](top, "routes"); err != nil {
		return nil, err
	}
	if res.Clusters, err = parseList[*clusterv3.Cluster](top, "clusters"); err != nil {
		return nil, err
	}
	if res.Endpoints, err = parseList[*endpointv3.ClusterLoadAssignment](top, "endpoints"); err != nil {
		return nil, err
	}
	if res.Secrets, err = parseList[*tlsv3.Secret](top, "secrets"); err != nil {
		return nil, err
	}
	return res, nil
}

// parseList decodes top[key], a list of protojson objects of type T.
func parseList[T proto.Message](top map[string]json.RawMessage, key string) ([]T, error) {
	raw, ok := top[key]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: not a list: %w", key, err)
	}
	out := make([]T, 0, len(items))
	for i, item := range items {
		var zero T
		m := zero.ProtoReflect().New().Interface().(T)
		if err := unmarshal.Unmarshal(item, m); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// parseConfigDump reads the dynamic (and static) resources of an Envoy
// admin config dump.
func parseConfigDump(js []byte) (*Resources, error) {
	var dump adminv3.ConfigDump
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(js, &dump); err != nil {
		return nil, fmt.Errorf("config dump: %w", err)
	}
	res := &Resources{}
	for i, c := range dump.GetConfigs() {
		m, err := c.UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("configs[%d]: %w", i, err)
		}
		switch d := m.(type) {
		case *adminv3.ListenersConfigDump:
			for _, l := range d.GetStaticListeners() {
				if err := appendAny(&res.Listeners, l.GetListener()); err != nil {
					return nil, err
				}
			}
			for _, l := range d.GetDynamicListeners() {
				if err := appendAny(&res.Listeners, l.GetActiveState().GetListener()); err != nil {
					return nil, err
				}
			}
		case *adminv3.RoutesConfigDump:
			for _, r := range d.GetStaticRouteConfigs() {
				if err := appendAny(&res.Routes, r.GetRouteConfig()); err != nil {
					return nil, err
				}
			}
			for _, r := range d.GetDynamicRouteConfigs() {
				if err := appendAny(&res.Routes, r.GetRouteConfig()); err != nil {
					return nil, err
				}
			}
		case *adminv3.ClustersConfigDump:
			for _, c := range d.GetStaticClusters() {
				if err := appendAny(&res.Clusters, c.GetCluster()); err != nil {
					return nil, err
				}
			}
			for _, c := range d.GetDynamicActiveClusters() {
				if err := appendAny(&res.Clusters, c.GetCluster()); err != nil {
					return nil, err
				}
			}
		case *adminv3.EndpointsConfigDump:
			for _, e := range d.GetDynamicEndpointConfigs() {
				if err := appendAny(&res.Endpoints, e.GetEndpointConfig()); err != nil {
					return nil, err
				}
			}
		case *adminv3.SecretsConfigDump:
			for _, s := range d.GetDynamicActiveSecrets() {
				if err := appendAny(&res.Secrets, s.GetSecret()); err != nil {
					return nil, err
				}
			}
		}
	}
	return res, nil
}

// appendAny unpacks a (possibly nil) Any into a new T and appends it.
func appendAny[T proto.Message](list *[]T, a interface {
	UnmarshalTo(proto.Message) error
	GetTypeUrl() string
}) error {
	if a == nil || a.GetTypeUrl() == "" {
		return nil
	}
	var zero T
	m := zero.ProtoReflect().New().Interface().(T)
	if err := a.UnmarshalTo(m); err != nil {
		return fmt.Errorf("%s: %w", a.GetTypeUrl(), err)
	}
	*list = append(*list, m)
	return nil
}
