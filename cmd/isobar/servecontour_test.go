package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// contourServeArgs is one of each flag `contour serve` defines (Contour's
// cmd/contour/serve.go), as a Contour Deployment may pass them.
var contourServeArgs = []string{
	"--incluster", "--kubeconfig=/k", "--xds-address=0.0.0.0", "--xds-port=8001", "--contour-cafile=/certs/ca.crt",
	"--contour-cert-file=/certs/tls.crt", "--contour-key-file=/certs/tls.key", "--insecure", "--config-path=/c.yaml",
	"--contour-config-name=x", "--debug", "--debug-http-address=127.0.0.1", "--debug-http-port=6060",
	"--disable-feature=tlsroutes", "--disable-leader-election", "--envoy-http-access-log=/dev/stdout",
	"--envoy-https-access-log=/dev/stdout", "--envoy-service-http-address=0.0.0.0", "--envoy-service-http-port=8080",
	"--envoy-service-https-address=0.0.0.0", "--envoy-service-https-port=8443", "--envoy-service-name=envoy",
	"--envoy-service-namespace=projectcontour", "--health-address=0.0.0.0", "--health-port=8000",
	"--http-address=0.0.0.0", "--http-port=8000", "--ingress-class-name=contour", "--ingress-status-address=1.2.3.4",
	"--kubernetes-client-burst=10", "--kubernetes-client-qps=5", "--kubernetes-debug=2",
	"--leader-election-lease-duration=15s", "--leader-election-renew-deadline=10s", "--leader-election-retry-period=2s",
	"--leader-election-resource-name=leader-elect", "--leader-election-resource-namespace=projectcontour",
	"--root-namespaces=a,b", "--stats-address=0.0.0.0", "--stats-port=8002", "--use-proxy-protocol",
	"--watch-namespaces=a,b", "--disable-feature=extensionservices", "--accesslog-format=json",
}

// TestServeTakesEveryContourFlag: every flag of `contour serve` parses.
func TestServeTakesEveryContourFlag(t *testing.T) {
	cmd := newServeCmd()
	if err := cmd.ParseFlags(contourServeArgs); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"use-proxy-protocol": "true", "kubernetes-client-qps": "5", "debug": "true",
		"leader-election-lease-duration": "15s", "disable-feature": "[tlsroutes,extensionservices]"} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
}

// TestContourServeFlags: defaults for zero values, Contour's checks, the
// informers left out, the log level and the second health endpoint.
func TestContourServeFlags(t *testing.T) {
	var c contourServeFlags
	level, err := c.apply()
	if err != nil || level != slog.LevelInfo || c.clientQPS != 100 || c.clientBurst != 200 || c.leaseDuration != 15*time.Second ||
		c.renew != 10*time.Second || c.retry != 2*time.Second || c.disableExtensionServices {
		t.Fatalf("zero flags: %+v, %v, %v", c, level, err)
	}
	c = contourServeFlags{debug: true, disabledFeatures: []string{"grpcroutes", "extensionservices"}}
	if level, err = c.apply(); err != nil || level != slog.LevelDebug || !c.disableExtensionServices {
		t.Fatalf("debug and features: %+v, %v, %v", c, level, err)
	}
	for _, bad := range []struct {
		c    contourServeFlags
		want string
	}{
		{contourServeFlags{contourConfigName: "cfg"}, "ContourConfiguration resources are not supported"},
		{contourServeFlags{disabledFeatures: []string{"httpproxies"}}, `--disable-feature "httpproxies"`},
		{contourServeFlags{clientQPS: -1}, "must be above 0"},
		{contourServeFlags{leaseDuration: time.Second, renew: 2 * time.Second}, "leader election"},
		{contourServeFlags{kubernetesDebug: 10}, "--kubernetes-debug 10"},
	} {
		if _, err := bad.c.apply(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: %v, want %q", bad.c, err, bad.want)
		}
	}
	for _, h := range []struct {
		c    contourServeFlags
		want string
	}{
		{contourServeFlags{}, ""},
		{contourServeFlags{healthAddress: "0.0.0.0", healthPort: 8000}, ""},
		{contourServeFlags{healthPort: 8001}, "0.0.0.0:8001"},
		{contourServeFlags{healthAddress: "::1"}, "[::1]:8000"},
	} {
		if got := h.c.healthEndpoint("0.0.0.0", 8000); got != h.want {
			t.Errorf("%+v: health endpoint %q, want %q", h.c, got, h.want)
		}
	}
}

// TestServeNamespaceFromContourEnv: as Contour's, serve defaults the
// Envoy Service's and the Lease's namespaces to $CONTOUR_NAMESPACE, which
// Contour's Deployment sets (a chart may install it elsewhere than
// projectcontour).
func TestServeNamespaceFromContourEnv(t *testing.T) {
	t.Setenv("CONTOUR_NAMESPACE", "edge")
	cmd := newServeCmd()
	for _, flag := range []string{"envoy-service-namespace", "leader-election-namespace"} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != "edge" {
			t.Errorf("--%s = %q, want edge", flag, got)
		}
	}
	t.Setenv("CONTOUR_NAMESPACE", "")
	if got := newServeCmd().Flags().Lookup("leader-election-namespace").Value.String(); got != "projectcontour" {
		t.Errorf("without CONTOUR_NAMESPACE: %q", got)
	}
}
