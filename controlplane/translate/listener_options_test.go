package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestListenerOptions: Contour's listener.per-connection-buffer-limit-bytes,
// listener.socket-options.tos and listener.connection-balancer reach both
// listeners (and HTTPSListenerOf, the incremental compiler's ingress_https);
// unset, the listeners carry none of them (only Contour's TCP keepalive,
// which every listener has).
func TestListenerOptions(t *testing.T) {
	t.Parallel()
	tos := &corev3.SocketOption{Description: "IPv4 type of service", Level: 0, Name: 1,
		Value: &corev3.SocketOption_IntValue{IntValue: 184}, State: corev3.SocketOption_STATE_LISTENING}
	keepalive := wantKeepalive()
	exact := &listenerv3.Listener_ConnectionBalanceConfig{BalanceType: &listenerv3.Listener_ConnectionBalanceConfig_ExactBalance_{
		ExactBalance: &listenerv3.Listener_ConnectionBalanceConfig_ExactBalance{}}}
	for _, tc := range []struct {
		name string
		conn graph.Connections
		want *listenerv3.Listener // only the listener options
	}{{
		name: "unset",
		want: &listenerv3.Listener{SocketOptions: keepalive},
	}, {
		name: "every option",
		conn: graph.Connections{PerConnectionBufferLimitBytes: 32768, SocketTOS: 184, ConnectionBalancer: "exact"},
		want: &listenerv3.Listener{PerConnectionBufferLimitBytes: wrapperspb.UInt32(32768), SocketOptions: append(keepalive[:4:4], tos),
			ConnectionBalanceConfig: exact},
	}, {
		name: "the buffer limit alone",
		conn: graph.Connections{PerConnectionBufferLimitBytes: 1},
		want: &listenerv3.Listener{PerConnectionBufferLimitBytes: wrapperspb.UInt32(1), SocketOptions: keepalive},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New(8080, 8443, graph.AccessLog{})
			g.Connections = tc.conn
			vh := g.SecureVirtualHost("a.com")
			vh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("CERT"), Key: []byte("KEY")}
			vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"},
				Backends: []graph.Backend{{Cluster: &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 80}}}}})
			res, _, err := Translate(g, source.NewIndex())
			if err != nil {
				t.Fatal(err)
			}
			incremental, err := HTTPSListenerOf(8443, tc.conn, res.Listener("ingress_https").GetFilterChains())
			if err != nil {
				t.Fatal(err)
			}
			for name, l := range map[string]*listenerv3.Listener{"ingress_http": res.Listener("ingress_http"),
				"ingress_https": res.Listener("ingress_https"), "HTTPSListenerOf": incremental} {
				got := &listenerv3.Listener{PerConnectionBufferLimitBytes: l.GetPerConnectionBufferLimitBytes(),
					SocketOptions: l.GetSocketOptions(), ConnectionBalanceConfig: l.GetConnectionBalanceConfig()}
				if d := cmp.Diff(tc.want, got, protocmp.Transform()); d != "" {
					t.Errorf("%s (-want +got):\n%s", name, d)
				}
			}
		})
	}
}

// TestListenerOptionsRefused: values Contour refuses fail the translation
// and Check.
func TestListenerOptionsRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []graph.Connections{{SocketTOS: 256}, {ConnectionBalancer: "round-robin"}, {ConnectionBalancer: "Exact"}} {
		g := graph.New(8080, 8443, graph.AccessLog{})
		g.Connections = c
		if _, _, err := Translate(g, source.NewIndex()); err == nil {
			t.Errorf("%+v was accepted", c)
		}
		if c.Check() == nil {
			t.Errorf("Check accepted %+v", c)
		}
		if _, err := HTTPSListenerOf(8443, c, []*listenerv3.FilterChain{{}}); err == nil {
			t.Errorf("HTTPSListenerOf accepted %+v", c)
		}
	}
}
