package graph

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

func TestParseCORSPolicy(t *testing.T) {
	t.Parallel()
	tenMinutes, zero, ms := 10*time.Minute, time.Duration(0), 1500*time.Millisecond
	methods := []contourv1.CORSHeaderValue{"GET", "POST"}
	for name, tc := range map[string]struct {
		in      contourv1.CORSPolicy
		want    *CORSPolicy
		wantErr string // substring; "" means no error
	}{
		"star, exact origins and a regex": {
			in: contourv1.CORSPolicy{AllowOrigin: []string{"*", "https://a.example.com", "http://b.example.com:8080", `https://.*\.example\.com`},
				AllowMethods: methods, AllowHeaders: []contourv1.CORSHeaderValue{"authorization", "x-b3-*"},
				ExposeHeaders: []contourv1.CORSHeaderValue{"Content-Length"}, MaxAge: "10m", AllowCredentials: true, AllowPrivateNetwork: true},
			want: &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "*"}, {Value: "https://a.example.com"}, {Value: "http://b.example.com:8080"},
				{Value: `https://.*\.example\.com`, Regex: true}},
				AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"authorization", "x-b3-*"}, ExposeHeaders: []string{"Content-Length"},
				MaxAge: &tenMinutes, AllowCredentials: true, AllowPrivateNetwork: true},
		},
		"an origin with a path is a regex": {
			in:   contourv1.CORSPolicy{AllowOrigin: []string{"https://a.example.com/"}, AllowMethods: methods},
			want: &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "https://a.example.com/", Regex: true}}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{}, ExposeHeaders: []string{}},
		},
		"what reads back as scheme://host is exact, as in Contour": {
			in:   contourv1.CORSPolicy{AllowOrigin: []string{"https://(a"}, AllowMethods: methods},
			want: &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "https://(a"}}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{}, ExposeHeaders: []string{}},
		},
		"0s disables caching": {
			in:   contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: methods, MaxAge: "0s"},
			want: &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{}, ExposeHeaders: []string{}, MaxAge: &zero},
		},
		"fractions of a second are kept": {
			in:   contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: methods, MaxAge: "1.5s"},
			want: &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{}, ExposeHeaders: []string{}, MaxAge: &ms},
		},
		"no origin":            {in: contourv1.CORSPolicy{AllowMethods: methods}, wantErr: ".AllowOrigin: at least one origin is required"},
		"invalid regex":        {in: contourv1.CORSPolicy{AllowOrigin: []string{"*", "^https://(a"}, AllowMethods: methods}, wantErr: `.AllowOrigin[1]: "^https://(a" is neither`},
		"empty origin":         {in: contourv1.CORSPolicy{AllowOrigin: []string{"*", ""}, AllowMethods: methods}, wantErr: ".AllowOrigin[1]: empty"},
		"no method":            {in: contourv1.CORSPolicy{AllowOrigin: []string{"*"}}, wantErr: ".AllowMethods: at least one method is required"},
		"two methods in one":   {in: contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: []contourv1.CORSHeaderValue{"GET, POST"}}, wantErr: `.AllowMethods[0]: "GET, POST" contains ','`},
		"empty header":         {in: contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: methods, AllowHeaders: []contourv1.CORSHeaderValue{"a", ""}}, wantErr: ".AllowHeaders[1]: empty"},
		"header with a space":  {in: contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: methods, ExposeHeaders: []contourv1.CORSHeaderValue{"x y"}}, wantErr: `.ExposeHeaders[0]: "x y" contains ' '`},
		"max age not duration": {in: contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: methods, MaxAge: "10"}, wantErr: `.MaxAge: "10" is not a duration`},
		"negative max age":     {in: contourv1.CORSPolicy{AllowOrigin: []string{"*"}, AllowMethods: methods, MaxAge: "-1s"}, wantErr: `.MaxAge: "-1s" is negative`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCORSPolicy(&tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("policy (-want +got):\n%s", d)
			}
		})
	}
}

// corsTLSSecret is a TLS Secret document for a.com.
func corsTLSSecret(t *testing.T) string {
	cert, key := testCert(t, "a.com", "a.com")
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: cert, namespace: ns}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n",
		enc(cert), enc(key))
}

func TestCORSOnVirtualHosts(t *testing.T) {
	t.Parallel()
	const policy = "corsPolicy: {allowOrigin: [\"*\"], allowMethods: [GET]}"
	want := &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET"}, AllowHeaders: []string{}, ExposeHeaders: []string{}}
	tcpProxy := func(cors string) string {
		return "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: p, namespace: ns}\nspec:\n  virtualhost: {fqdn: a.com, tls: {passthrough: true}, " +
			cors + "}\n  tcpproxy: {services: [{name: s, port: 80}]}\n" + svcs("ns", "s")
	}
	proxy := func(vhost string) string {
		return "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: p, namespace: ns}\nspec:\n  virtualhost: " + vhost +
			"\n  routes: [{services: [{name: s, port: 80}]}]\n" + svcs("ns", "s")
	}
	for name, tc := range map[string]struct {
		yaml                     string
		wantInsecure, wantSecure bool // the host exists with the policy
		wantStatus, wantMessage  string
	}{
		"plain host":            {yaml: proxy("{fqdn: a.com, " + policy + "}"), wantInsecure: true, wantStatus: "HTTPProxy ns/p: valid"},
		"TLS host":              {yaml: proxy("{fqdn: a.com, tls: {secretName: cert}, "+policy+"}") + corsTLSSecret(t), wantInsecure: true, wantSecure: true, wantStatus: "HTTPProxy ns/p: valid"},
		"bad max age":           {yaml: proxy("{fqdn: a.com, corsPolicy: {allowOrigin: [\"*\"], allowMethods: [GET], maxAge: -5m}}"), wantStatus: "HTTPProxy ns/p: invalid PolicyDidNotParse", wantMessage: `Spec.VirtualHost.CORSPolicy.MaxAge: "-5m" is negative`},
		"a tcpproxy ignores it": {yaml: tcpProxy(policy), wantStatus: "HTTPProxy ns/p: valid warn:IgnoredField"},
		"a bad one still invalidates a tcpproxy root": {yaml: tcpProxy("corsPolicy: {allowOrigin: [], allowMethods: [GET]}"), wantStatus: "HTTPProxy ns/p: invalid PolicyDidNotParse",
			wantMessage: "Spec.VirtualHost.CORSPolicy.AllowOrigin: at least one origin is required"},
		"TLS, no methods": {yaml: proxy("{fqdn: a.com, tls: {secretName: cert}, corsPolicy: {allowOrigin: [\"*\"]}}") + corsTLSSecret(t), wantStatus: "HTTPProxy ns/p: invalid PolicyDidNotParse",
			wantMessage: "Spec.VirtualHost.CORSPolicy.AllowMethods: at least one method is required"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml)
			if d := cmp.Diff([]string{tc.wantStatus}, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			vh, svh := g.VirtualHosts["a.com"], g.SecureVirtualHosts["a.com"]
			if strings.Contains(tc.wantStatus, "invalid") && (vh != nil || svh != nil) {
				t.Errorf("an invalid root's host is served: %v %v", vh, svh)
			}
			if got := vh != nil && cmp.Equal(vh.CORS, want); got != tc.wantInsecure {
				t.Errorf("insecure host with the policy: got %v, want %v (host %v)", got, tc.wantInsecure, vh)
			}
			if got := svh != nil && cmp.Equal(svh.CORS, want); got != tc.wantSecure {
				t.Errorf("secure host with the policy: got %v, want %v (host %v)", got, tc.wantSecure, svh)
			}
			if tc.wantMessage != "" {
				o, _ := r.Object(status.Ref{Kind: status.KindHTTPProxy, Namespace: "ns", Name: "p"})
				if !strings.Contains(fmt.Sprint(o.Conditions), tc.wantMessage) || !strings.Contains(fmt.Sprint(o.Conditions), string(status.CORSError)) {
					t.Errorf("conditions %v: want a CORSError saying %q", o.Conditions, tc.wantMessage)
				}
			}
		})
	}
}
