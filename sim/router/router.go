package router

import (
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Options tune evaluation.
type Options struct {
	// PortMap maps a request's port to Envoy's listener port, as the Envoy
	// Service does (default 80→8080, 443→8443). Ports not listed map to
	// themselves.
	PortMap map[int]uint32
}

// Router evaluates requests against one configuration. Build it once with
// New; Evaluate is safe for concurrent use.
type Router struct {
	opts      Options
	listeners map[uint32]*listener
	routes    map[string]*routeConfig
	clusters  map[string]*clusterv3.Cluster
	endpoints map[string]int // ClusterLoadAssignment name → endpoint count
}

type listener struct {
	name   string
	tls    bool // has the TLS inspector
	chains []*chain
	// byName indexes chains by exact lower-case server name; wildcard
	// server names and chains without names are scanned.
	byName map[string]*chain
	others []*chain
}

type chain struct {
	index       int
	serverNames []string
	transport   string // transport_protocol match
	tls         bool   // terminates TLS
	hcm         *hcmv3.HttpConnectionManager
	lua         luaScripts // of hcm
	tcp         *tcpproxyv3.TcpProxy
	clientCert  string // what its TLS context asks of clients (clientCertificate)
}

type routeConfig struct {
	rc     *routev3.RouteConfiguration
	exact  map[string]*routev3.VirtualHost
	suffix []domainHost // "*.x", longest first
	prefix []domainHost // "x.*", longest first
	star   *routev3.VirtualHost
}

type domainHost struct {
	domain string
	vh     *routev3.VirtualHost
}

// New indexes res for evaluation.
func New(res *xds.Resources, opts Options) *Router {
	if opts.PortMap == nil {
		opts.PortMap = map[int]uint32{80: 8080, 443: 8443}
	}
	r := &Router{opts: opts, listeners: map[uint32]*listener{}, routes: map[string]*routeConfig{},
		clusters: map[string]*clusterv3.Cluster{}, endpoints: map[string]int{}}
	for _, l := range res.Listeners {
		port := l.GetAddress().GetSocketAddress().GetPortValue()
		r.listeners[port] = indexListener(l)
	}
	for _, rc := range res.Routes {
		r.routes[rc.GetName()] = indexRouteConfig(rc)
	}
	for _, c := range res.Clusters {
		r.clusters[c.GetName()] = c
	}
	for _, e := range res.Endpoints {
		n := 0
		for _, l := range e.GetEndpoints() {
			n += len(l.GetLbEndpoints())
		}
		r.endpoints[e.GetClusterName()] = n
	}
	return r
}

func indexListener(l *listenerv3.Listener) *listener {
	out := &listener{name: l.GetName()}
	for _, f := range l.GetListenerFilters() {
		if strings.Contains(f.GetName(), "tls_inspector") {
			out.tls = true
		}
	}
	for i, fc := range l.GetFilterChains() {
		c := &chain{index: i, serverNames: fc.GetFilterChainMatch().GetServerNames(),
			transport: fc.GetFilterChainMatch().GetTransportProtocol(), tls: fc.GetTransportSocket() != nil, clientCert: clientCertificate(fc)}
		for _, f := range fc.GetFilters() {
			tc := f.GetTypedConfig()
			if tc == nil {
				continue
			}
			var hcm hcmv3.HttpConnectionManager
			var tcp tcpproxyv3.TcpProxy
			switch {
			case tc.MessageIs(&hcm) && tc.UnmarshalTo(&hcm) == nil:
				c.hcm, c.lua = &hcm, readLuaScripts(&hcm)
			case tc.MessageIs(&tcp) && tc.UnmarshalTo(&tcp) == nil:
				c.tcp = &tcp
			}
		}
		for i, n := range c.serverNames {
			c.serverNames[i] = strings.ToLower(n)
		}
		out.chains = append(out.chains, c)
	}
	out.byName = map[string]*chain{}
	for _, c := range out.chains {
		wild := len(c.serverNames) == 0 || c.transport != ""
		for _, n := range c.serverNames {
			if strings.HasPrefix(n, "*") {
				wild = true
			} else if _, dup := out.byName[n]; !dup {
				out.byName[n] = c
			}
		}
		if wild {
			out.others = append(out.others, c)
		}
	}
	return out
}

func indexRouteConfig(rc *routev3.RouteConfiguration) *routeConfig {
	out := &routeConfig{rc: rc, exact: map[string]*routev3.VirtualHost{}}
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			d = strings.ToLower(d)
			switch {
			case d == "*":
				out.star = vh
			case strings.HasPrefix(d, "*"):
				out.suffix = append(out.suffix, domainHost{d, vh})
			case strings.HasSuffix(d, "*"):
				out.prefix = append(out.prefix, domainHost{d, vh})
			default:
				out.exact[d] = vh
			}
		}
	}
	byLength := func(s []domainHost) {
		sort.SliceStable(s, func(i, j int) bool { return len(s[i].domain) > len(s[j].domain) })
	}
	byLength(out.suffix)
	byLength(out.prefix)
	return out
}

// virtualHost picks the virtual host for authority as Envoy does: exact
// domain, then the longest suffix wildcard, then the longest prefix
// wildcard, then "*".
func (rc *routeConfig) virtualHost(authority string) *routev3.VirtualHost {
	a := strings.ToLower(authority)
	if vh, ok := rc.exact[a]; ok {
		return vh
	}
	for _, s := range rc.suffix {
		if len(a) > len(s.domain)-1 && strings.HasSuffix(a, s.domain[1:]) {
			return s.vh
		}
	}
	for _, p := range rc.prefix {
		if len(a) > len(p.domain)-1 && strings.HasPrefix(a, p.domain[:len(p.domain)-1]) {
			return p.vh
		}
	}
	return rc.star
}

// parsed is a request broken into the parts matching uses.
type parsed struct {
	scheme, host, authority, path, rawQuery string
	port                                    int
	query                                   url.Values
	headers                                 map[string]string
	method                                  string
	sni                                     string
	// clientIP is the connection's peer address; invalid when not given.
	clientIP netip.Addr
	// noClientCert: the client presents no TLS certificate.
	noClientCert bool
}

func parseRequest(req Request) (*parsed, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, err
	}
	p := &parsed{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), rawQuery: u.RawQuery,
		query: u.Query(), headers: map[string]string{}, method: strings.ToUpper(req.Method), sni: strings.ToLower(req.SNI), noClientCert: req.WithoutClientCertificate} // Envoy lower-cases the SNI
	if p.scheme != "http" && p.scheme != "https" {
		return nil, errScheme(u.Scheme)
	}
	if p.method == "" {
		p.method = "GET"
	}
	if p.clientIP, err = parseClientIP(req.ClientIP); err != nil {
		return nil, err
	}
	p.path = u.EscapedPath()
	if p.path == "" {
		p.path = "/"
	}
	p.port = 80
	if p.scheme == "https" {
		p.port = 443
	}
	if ps := u.Port(); ps != "" {
		p.port, _ = strconv.Atoi(ps)
	}
	p.authority = u.Host
	for k, v := range req.Headers {
		k = strings.ToLower(k)
		if k == "host" || k == ":authority" {
			p.authority = v
			continue
		}
		p.headers[k] = v
	}
	if p.sni == "" && p.scheme == "https" && net.ParseIP(p.host) == nil {
		p.sni = p.host
	}
	return p, nil
}

type errScheme string

func (e errScheme) Error() string {
	return "unsupported scheme " + strconv.Quote(string(e)) + ": use http or https"
}
