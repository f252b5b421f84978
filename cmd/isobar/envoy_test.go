package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
	"github.com/isobar-dev/isobar/operator/objects"
)

// TestEnvoyPodWiring runs the operator's Envoy pod command lines through the
// real commands and checks they agree: the kubelet probes readiness where
// the control plane's stats listener serves /ready (not on the admin interface,
// which stays on the loopback where the kubelet cannot reach it), and both
// preStop hooks call the shutdown manager, which drains the admin the
// bootstrap configures and leaves the stats listener's probes uncounted.
func TestEnvoyPodWiring(t *testing.T) {
	c := &operatorv1alpha1.Contour{}
	c.Name, c.Namespace = "contour-sample", "default"
	c.Spec.Namespace.Name = "projectcontour"
	c.Spec.NetworkPublishing.Envoy.ContainerPorts = []operatorv1alpha1.ContainerPort{{Name: "http", PortNumber: 8080}, {Name: "https", PortNumber: 8443}}
	ds := objects.DaemonSet(c, objects.Images{Isobar: "isobar", Envoy: "envoy"})
	spec := ds.Spec.Template.Spec
	args := append([]string(nil), spec.InitContainers[0].Args...)
	args[1] = "-" // print instead of writing /config/envoy.json
	out, errOut, code := run(t, "", args...)
	if code != 0 {
		t.Fatalf("the init container's bootstrap exits %d: %s", code, errOut)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	admin := b.GetAdmin().GetAddress().GetSocketAddress()
	if admin.GetAddress() != "127.0.0.1" {
		t.Errorf("Envoy's admin listens on %s; it must stay on the loopback", admin.GetAddress())
	}
	if n := len(b.GetStaticResources().GetListeners()); n != 0 {
		t.Errorf("the bootstrap has %d static listeners: the control plane serves the stats listener", n)
	}
	// The stats listener is the one serve serves with the Deployment's
	// arguments.
	dep := objects.Deployment(c, objects.Images{Isobar: "isobar", Envoy: "envoy"})
	sc := newServeCmd()
	if err := sc.Flags().Parse(dep.Spec.Template.Spec.Containers[0].Args[1:]); err != nil {
		t.Fatal(err)
	}
	var sf statsFlags
	sf.address = sc.Flags().Lookup("stats-address").Value.String()
	if _, err := fmt.Sscan(sc.Flags().Lookup("stats-port").Value.String(), &sf.port); err != nil {
		t.Fatal(err)
	}
	served, err := sf.listeners()
	if err != nil || len(served) != 1 {
		t.Fatalf("serve's stats listeners: %v, %v", served, err)
	}
	stats := served[0].GetAddress().GetSocketAddress()
	var envoy, manager corev1.Container
	for _, ct := range spec.Containers {
		switch ct.Name {
		case "envoy":
			envoy = ct
		case "shutdown-manager":
			manager = ct
		}
	}
	probe := envoy.ReadinessProbe.HTTPGet
	if probe.Path != "/ready" || uint32(probe.Port.IntValue()) != stats.GetPortValue() || stats.GetAddress() != "0.0.0.0" {
		t.Errorf("readiness GET %s on %d; the stats listener is %s:%d", probe.Path, probe.Port.IntValue(), stats.GetAddress(), stats.GetPortValue())
	}
	sm := newShutdownManagerCmd()
	if err := sm.Flags().Parse(manager.Args[2:]); err != nil || manager.Args[0] != "envoy" || manager.Args[1] != "shutdown-manager" {
		t.Fatalf("shutdown-manager arguments %v: %v", manager.Args, err)
	}
	flag := func(name string) string { return sm.Flags().Lookup(name).Value.String() }
	if flag("admin-port") != fmt.Sprint(admin.GetPortValue()) || flag("admin-address") != admin.GetAddress() ||
		flag("stats-port") != fmt.Sprint(stats.GetPortValue()) {
		t.Errorf("shutdown-manager drains %s:%s ignoring %s; Envoy's admin is %s:%d, its stats listener %d",
			flag("admin-address"), flag("admin-port"), flag("stats-port"), admin.GetAddress(), admin.GetPortValue(), stats.GetPortValue())
	}
	for _, ct := range []corev1.Container{envoy, manager} {
		h := ct.Lifecycle.PreStop.HTTPGet
		if h == nil || h.Path != "/shutdown" || h.Port.String() != flag("port") || h.Host != "" {
			t.Errorf("%s's preStop is %+v, want GET /shutdown on the pod's port %s", ct.Name, ct.Lifecycle.PreStop, flag("port"))
		}
	}
}

// TestShutdownManagerCommand runs the command against a stand-in for
// Envoy's admin (Envoy cannot run here): /shutdown drains it and answers
// 200; a signal (here, the context) stops the command cleanly.
func TestShutdownManagerCommand(t *testing.T) {
	var posts atomic.Int32
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			return
		}
		io.WriteString(w, "listener.0.0.0.0_8002.downstream_cx_active: 1\nlistener.0.0.0.0_8080.downstream_cx_active: 0\n")
	}))
	defer admin.Close()
	host, adminPort, _ := net.SplitHostPort(strings.TrimPrefix(admin.URL, "http://"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := newShutdownManagerCmd()
	ctx, cancel := context.WithCancel(context.Background())
	cmd.SetContext(ctx)
	cmd.SetArgs([]string{"--address=127.0.0.1", fmt.Sprintf("--port=%d", port), "--admin-address=" + host, "--admin-port=" + adminPort,
		"--drain-delay=0s", "--check-interval=10ms"})
	done := make(chan error, 1)
	go func() { done <- cmd.Execute() }()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/shutdown", port)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || posts.Load() != 2 {
		t.Errorf("/shutdown answered %d %q after %d admin commands, want 200 after 2", resp.StatusCode, body, posts.Load())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the command ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not stop")
	}
}
