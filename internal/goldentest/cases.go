package goldentest

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// Case is one folder under fixtures/ holding an input.yaml.
type Case struct {
	Name  string // path below fixtures/, slash-separated
	Input string // absolute path of input.yaml
}

// Cases finds every fixtures/**/input.yaml outside fixtures/scenarios.
func Cases(t testing.TB) []Case {
	t.Helper()
	root := Path("fixtures")
	var cases []Case
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "scenarios" {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "input.yaml" {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			cases = append(cases, Case{Name: filepath.ToSlash(rel), Input: p})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// CaseOptions reads a case's compile options and default namespace from
// a header line of its input.yaml:
//
//	# args: --root-namespaces=roots,marketing --ingress-class=x --disable-permit-insecure
func CaseOptions(t testing.TB, input []byte) (controlplane.Options, string) {
	t.Helper()
	opts := controlplane.Options{}
	ns := "default"
	for _, line := range strings.Split(string(input), "\n") {
		args, ok := strings.CutPrefix(line, "# args:")
		if !ok {
			continue
		}
		for _, a := range strings.Fields(args) {
			k, v, _ := strings.Cut(a, "=")
			switch k {
			case "--root-namespaces":
				opts.RootNamespaces = strings.Split(v, ",")
			case "--ingress-class":
				opts.IngressClass = v
			case "--disable-permit-insecure":
				opts.DisablePermitInsecure = true
			case "--enable-external-name":
				opts.EnableExternalName = true
			case "--accesslog-format":
				opts.AccessLog.Format = v
			case "--accesslog-level":
				opts.AccessLog.Level = v
			case "--accesslog-path":
				opts.AccessLog.Path = v
			case "--connect-timeout":
				opts.Upstream.ConnectTimeout = v
			case "--dns-lookup-family":
				opts.Upstream.DNSLookupFamily = v
			case "--tls-minimum-protocol-version":
				opts.Connections.MinimumTLSVersion = v
			case "--cluster-upstream-tls-minimum-protocol-version":
				opts.Upstream.TLSMinimumVersion = v
			case "--cluster-upstream-tls-maximum-protocol-version":
				opts.Upstream.TLSMaximumVersion = v
			case "--cluster-upstream-tls-cipher-suite":
				opts.Upstream.TLSCipherSuites = joinLine(opts.Upstream.TLSCipherSuites, v)
			case "--tls-maximum-protocol-version":
				opts.Connections.MaximumTLSVersion = v
			case "--tls-cipher-suite":
				opts.Connections.CipherSuites = joinLine(opts.Connections.CipherSuites, v)
			case "--default-http-version":
				opts.Connections.HTTPVersions = joinLine(opts.Connections.HTTPVersions, v)
			case "--policy-request-header-set", "--policy-response-header-set":
				name, value, _ := strings.Cut(v, "=")
				p := &opts.Headers.Request
				if k == "--policy-response-header-set" {
					p = &opts.Headers.Response
				}
				p.Set = append(p.Set, graph.Header{Name: name, Value: value})
			case "--policy-request-header-remove":
				opts.Headers.Request.Remove = append(opts.Headers.Request.Remove, v)
			case "--policy-response-header-remove":
				opts.Headers.Response.Remove = append(opts.Headers.Response.Remove, v)
			case "--policy-apply-to-ingress":
				opts.Headers.ApplyToIngress = true
			case "--server-header-transformation":
				opts.Connections.ServerHeaderTransformation = v
			case "--listener-connection-balancer":
				opts.Connections.ConnectionBalancer = v
			case "--listener-max-requests-per-connection", "--listener-http2-max-concurrent-streams",
				"--listener-per-connection-buffer-limit-bytes", "--listener-socket-tos",
				"--cluster-max-requests-per-connection", "--cluster-per-connection-buffer-limit-bytes",
				"--cluster-circuit-breakers-max-connections", "--cluster-circuit-breakers-max-retries":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					t.Fatalf("%s %q: %v", k, v, err)
				}
				*map[string]*uint32{"--listener-max-requests-per-connection": &opts.Connections.MaxRequestsPerConnection,
					"--listener-http2-max-concurrent-streams":      &opts.Connections.HTTP2MaxConcurrentStreams,
					"--listener-per-connection-buffer-limit-bytes": &opts.Connections.PerConnectionBufferLimitBytes,
					"--listener-socket-tos":                        &opts.Connections.SocketTOS,
					"--cluster-max-requests-per-connection":        &opts.Upstream.MaxRequestsPerConnection,
					"--cluster-per-connection-buffer-limit-bytes":  &opts.Upstream.PerConnectionBufferLimitBytes,
					"--cluster-circuit-breakers-max-connections":   &opts.Upstream.CircuitBreakers.MaxConnections,
					"--cluster-circuit-breakers-max-retries":       &opts.Upstream.CircuitBreakers.MaxRetries}[k] = uint32(n)
			case "--now":
				now, err := time.Parse(time.RFC3339, v)
				if err != nil {
					t.Fatalf("--now %q: %v", v, err)
				}
				opts.Now = now
			case "--num-trusted-hops":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					t.Fatalf("--num-trusted-hops %q: %v", v, err)
				}
				opts.Connections.NumTrustedHops = uint32(n)
			case "--rate-limit-service":
				if err := opts.RateLimitService.ParseRateLimitService(v); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
			case "--rate-limit-default-policy":
				var p contourv1.GlobalRateLimitPolicy
				if err := json.Unmarshal([]byte(v), &p); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				d, err := graph.DefaultGlobalRateLimit(&p)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				opts.RateLimitService.Default = d
			case "--rate-limit-domain":
				opts.RateLimitService.Domain = v
			case "--rate-limit-fail-open":
				opts.RateLimitService.FailOpen = true
			case "--rate-limit-x-headers":
				opts.RateLimitService.XRateLimitHeaders = true
			case "--rate-limit-resource-exhausted-code":
				opts.RateLimitService.ResourceExhaustedCode = true
			case "--namespace", "-n":
				ns = v
			default:
				t.Fatalf("unknown option %q in the args header", a)
			}
		}
	}
	opts.Options = opts.Options.Defaults()
	return opts, ns
}

// joinLine appends v to a setting of one entry a line.
func joinLine(s, v string) string {
	if s == "" {
		return v
	}
	return s + "\n" + v
}
