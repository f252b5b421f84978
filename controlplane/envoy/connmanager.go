package envoy

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// ConnectionManagers builds the HTTP connection managers of one access log
// setting and connection settings, as HTTPConnectionManager does: that of
// ingress_http and that of every TLS host, which differ mostly in their
// route configuration. What they share is encoded once, when m is built
// (each manager used to encode its 1.8 KB anew); m is never modified
// afterwards and may be shared.
type ConnectionManagers struct {
	logs []*accesslogv3.AccessLog
	s    *ConnectionSettings
	// filters are the encoded http_filters of a manager without extra
	// filters, for each HostSettings.filterSet; tail the encoded fields
	// after http_filters of a manager that forwards no client certificate
	// details.
	filters [filterSets][]byte
	tail    []byte
}

// NewConnectionManagers encodes the common parts of the connection
// managers logging to logs with the settings s (nil: DefaultConnections).
func NewConnectionManagers(logs []*accesslogv3.AccessLog, s *ConnectionSettings) *ConnectionManagers {
	if s == nil {
		s = defaultSettings
	}
	m := &ConnectionManagers{logs: logs, s: s}
	for _, h := range []HostSettings{{}, {CookieRewrite: true}, {CheckServerName: true}, {CookieRewrite: true, CheckServerName: true}} {
		m.filters[h.filterSet()] = encode(&hcmv3.HttpConnectionManager{HttpFilters: managerFilters(s, h, nil)})
	}
	tail := &hcmv3.HttpConnectionManager{}
	setManagerTail(tail, logs, s, nil)
	m.tail = encode(tail)
	return m
}

// managerTypeURL is the type URL of an Any holding a connection manager.
var managerTypeURL = "type.googleapis.com/" + string((&hcmv3.HttpConnectionManager{}).ProtoReflect().Descriptor().FullName())

// Filter is HTTPConnectionManager(statPrefix, routeConfig, logs, s, h,
// extra...) for the logs and settings of m: the same message, encoded as
// the encoding of its fields below http_filters (managerHead) followed by
// m's encodings of the other fields. Protobuf decodes concatenated
// encodings as one message holding the fields of each, so the Any holds
// the same message; its bytes (the same for the same arguments) put the
// route configuration before the fields Go's encoder writes first.
func (m *ConnectionManagers) Filter(statPrefix, routeConfig string, h HostSettings, extra ...*hcmv3.HttpFilter) *listenerv3.Filter {
	if len(extra) > 0 || h.ForwardClientCert != nil {
		return managerFilter(Any(connectionManager(statPrefix, routeConfig, m.logs, m.s, h, extra)))
	}
	filters := m.filters[h.filterSet()]
	head := managerHead(statPrefix, routeConfig, m.s)
	opts := proto.MarshalOptions{Deterministic: true}
	b, err := opts.MarshalAppend(make([]byte, 0, opts.Size(head)+len(filters)+len(m.tail)), head)
	if err != nil {
		panic(err) // as Any: cannot happen for this generated type
	}
	b = append(append(b, filters...), m.tail...)
	return managerFilter(&anypb.Any{TypeUrl: managerTypeURL, Value: b})
}

// encode is the deterministic encoding of msg, as Any's.
func encode(msg proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return b
}
