package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// run executes the isobar command line in-process from the repository root
// and returns its stdout, stderr and exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runIn(t, goldentest.Root(), stdin, args...)
}

// runIn is run from another working directory.
func runIn(t *testing.T, dir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.Chdir(wd) }()
	var out, errb bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	err = cmd.Execute()
	code := 0
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		if ee.err != nil {
			errb.WriteString("isobar: " + ee.err.Error() + "\n")
		}
	case err != nil:
		code = exitBadInput
		errb.WriteString("isobar: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

// TestFixtureRequests runs every requests.yaml next to a fixture through
// `isobar route --requests` and requires every expectation to hold; the text
// output is kept as a golden under golden/route/.
func TestFixtureRequests(t *testing.T) {
	files, err := filepath.Glob(goldentest.Path("fixtures/*/requests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(goldentest.Path("fixtures/*/*/requests.yaml"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no requests files found")
	}
	used := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(goldentest.Root(), filepath.Dir(f))
		rel = filepath.ToSlash(rel)
		golden := "golden/route/" + strings.TrimPrefix(rel, "fixtures/") + ".txt"
		used[golden] = true
		t.Run(rel, func(t *testing.T) {
			args := append([]string{"route", "-f", rel, "--requests", rel + "/requests.yaml"}, headerArgs(t, filepath.Join(filepath.Dir(f), "input.yaml"))...)
			out, errOut, code := run(t, "", args...)
			if code != 0 {
				t.Errorf("exit %d\n%s%s", code, out, errOut)
			}
			goldentest.CheckText(t, golden, []byte(out))
		})
	}
	goldentest.Orphans(t, "golden/route", used)
}

// headerArgs returns the command-line options a fixture's input.yaml asks
// for in its "# args:" header line.
func headerArgs(t *testing.T, input string) []string {
	t.Helper()
	data, err := os.ReadFile(input)
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "# args:"); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// TestBootstrapInitContainer is the seed's init container command line:
// `isobar bootstrap --admin-address=0.0.0.0 /config/contour.json`.
func TestBootstrapInitContainer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "contour.json")
	_, errOut, code := run(t, "", "bootstrap", "--admin-address=0.0.0.0", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"address": "0.0.0.0"`, `"port_value": 9001`, `"ads_config"`, `"name": "contour"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("bootstrap lacks %s", want)
		}
	}
	_, _, code = run(t, "", "bootstrap", "--xds-ca-file=/x", "-")
	if code != exitBadInput {
		t.Errorf("a partial TLS configuration must exit 2, got %d", code)
	}
}

// TestBootstrapTakesContourArgs: the init container of Contour's Envoy
// DaemonSet (`contour bootstrap ...`) runs `isobar bootstrap` unchanged:
// its TLS file flags name the xDS certificates, the overload limits and
// DNS family apply, and the namespace and resource version are accepted.
func TestBootstrapTakesContourArgs(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := run(t, "", "bootstrap", "-", "--xds-address=contour", "--xds-port=8001", "--admin-address=/admin/admin.sock",
		"--envoy-cafile="+dir+"/ca.crt", "--envoy-cert-file="+dir+"/tls.crt", "--envoy-key-file="+dir+"/tls.key",
		"--namespace=projectcontour", "--xds-resource-version=v3", "--dns-lookup-family=v4",
		"--overload-max-heap=2147483648", "--overload-downstream-max-conn=50000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{dir + "/ca.crt", dir + "/tls.crt", dir + "/tls.key", `"dns_lookup_family": "V4_ONLY"`,
		`"max_heap_size_bytes": "2147483648"`, `"max_active_downstream_connections": "50000"`, `"path": "/admin/admin.sock"`} {
		if !strings.Contains(out, want) {
			t.Errorf("bootstrap lacks %s", want)
		}
	}
}

// TestBootstrapAdminInContourPods: without admin flags, where Contour's
// DaemonSet shares /admin (here a temporary folder standing for it), the
// admin endpoint is the socket there; elsewhere, and with a flag given,
// it is the address.
func TestBootstrapAdminInContourPods(t *testing.T) {
	saved := contourAdminDir
	t.Cleanup(func() { contourAdminDir = saved })
	contourAdminDir = filepath.Join(t.TempDir(), "admin")
	for _, tc := range []struct {
		mkdir bool
		args  []string
		want  string
	}{
		{false, nil, `"port_value": 9001`},
		{true, nil, `"path": "` + contourAdminDir + `/admin.sock"`},
		{true, []string{"--admin-port=9001"}, `"port_value": 9001`},
		{true, []string{"--admin-address=127.0.0.1"}, `"address": "127.0.0.1"`},
	} {
		if tc.mkdir {
			if err := os.MkdirAll(contourAdminDir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		out, errOut, code := run(t, "", append([]string{"bootstrap", "-"}, tc.args...)...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("/admin there: %v, %v: exit %d %s; want %s in\n%s", tc.mkdir, tc.args, code, errOut, tc.want, out)
		}
	}
}

// TestListenerPortFlagsAreChecked: a listener port (or access log setting)
// Envoy could not use is a usage error (exit 2) naming the flag, for every
// command that compiles.
func TestListenerPortFlagsAreChecked(t *testing.T) {
	in := "fixtures/seeds/talk-canary/input.yaml"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"translate", "-f", in, "--envoy-service-http-port", "70000"}, "--envoy-service-http-port 70000: not a port number"},
		{[]string{"check", "-f", in, "--envoy-service-https-port", "0"}, "--envoy-service-https-port 0: not a port number"},
		{[]string{"route", "-f", in, "--envoy-service-http-port", "8443", "--url", "http://x/"}, "both 8443"},
		{[]string{"diff", "--base", in, "--head", in, "--envoy-service-http-port", "99999"}, "--envoy-service-http-port 99999"},
		{[]string{"translate", "-f", in, "--accesslog-format", "text"}, `access log format "text": use envoy or json`},
		{[]string{"check", "-f", in, "--accesslog-level", "debug"}, `access log level "debug"`},
		{[]string{"translate", "-f", in, "--route-source-metadata", "never"}, `route metadata "never": use auto or always`},
		{[]string{"translate", "-f", in, "--now", "yesterday"}, `--now "yesterday": not an RFC 3339 time`},
	} {
		_, errOut, code := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestRouteClientIP: --client-ip makes route evaluate IP filters (403 when
// denied, the address in the JSON request), and a bad address is a usage
// error.
func TestRouteClientIP(t *testing.T) {
	in := "fixtures/httpproxy-ip-filters"
	out, errOut, code := run(t, "", "route", "-f", in, "--url", "http://office.example.com/", "--client-ip", "198.51.100.7", "-o", "json")
	if code != exitFindings || !strings.Contains(out, `"clientIP": "198.51.100.7"`) || !strings.Contains(out, `"status": 403`) ||
		!strings.Contains(out, `"body": "RBAC: access denied"`) {
		t.Errorf("denied: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, "", "route", "-f", in, "--url", "http://office.example.com/", "--client-ip", "10.1.1.1"); code != 0 {
		t.Errorf("allowed: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = run(t, "", "route", "-f", in, "--url", "http://office.example.com/", "--client-ip", "10.1.1")
	if code != exitBadInput || !strings.Contains(errOut, `--client-ip "10.1.1" is not an IP address`) {
		t.Errorf("bad address: exit %d, stderr %q", code, errOut)
	}
}

// TestCheckNow: certificates are checked against --now (the clock by
// default); off turns the check off.
func TestCheckNow(t *testing.T) {
	in := "fixtures/tls-certificate-time/input.yaml"
	for now, want := range map[string]string{"": "CertificateExpired", "2020-06-01T00:00:00Z": "CertificateNotYetValid", "off": ""} {
		out, errOut, code := run(t, "", "check", "-f", in, "--fail-on", "warning", "--now", now)
		if now == "" {
			out, errOut, code = run(t, "", "check", "-f", in, "--fail-on", "warning")
		}
		wantCode := 1
		if want == "" {
			wantCode = 0
		}
		if code != wantCode || !strings.Contains(out, want) || (want == "" && strings.Contains(out, "Certificate")) {
			t.Errorf("--now %q: exit %d, output %q %q; want exit %d with %q", now, code, out, errOut, wantCode, want)
		}
		if now == "2020-06-01T00:00:00Z" && strings.Contains(out, "CertificateExpired") {
			t.Errorf("in 2020 the old certificate had not expired yet: %s", out)
		}
	}
}
