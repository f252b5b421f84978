package objects

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
)

func sample() *operatorv1alpha1.Contour {
	c := &operatorv1alpha1.Contour{}
	c.Name, c.Namespace = "contour-sample", "default"
	c.Spec.Replicas = 2
	c.Spec.Namespace.Name = "projectcontour"
	c.Spec.NetworkPublishing.Envoy.Type = operatorv1alpha1.LoadBalancerService
	c.Spec.NetworkPublishing.Envoy.ContainerPorts = []operatorv1alpha1.ContainerPort{{Name: "http", PortNumber: 8080}, {Name: "https", PortNumber: 8443}}
	return c
}

func TestValidate(t *testing.T) {
	t.Parallel()
	np := int32(30080)
	for name, tc := range map[string]struct {
		mutate func(*operatorv1alpha1.Contour)
		want   string
	}{
		"defaults are valid": {func(*operatorv1alpha1.Contour) {}, ""},
		"duplicate name":     {func(c *operatorv1alpha1.Contour) { c.Spec.NetworkPublishing.Envoy.ContainerPorts[1].Name = "http" }, `container port "http" is given twice`},
		"same number":        {func(c *operatorv1alpha1.Contour) { c.Spec.NetworkPublishing.Envoy.ContainerPorts[1].PortNumber = 8080 }, "both use 8080"},
		"admin port":         {func(c *operatorv1alpha1.Contour) { c.Spec.NetworkPublishing.Envoy.ContainerPorts[0].PortNumber = 9001 }, "uses 9001"},
		"shutdown port":      {func(c *operatorv1alpha1.Contour) { c.Spec.NetworkPublishing.Envoy.ContainerPorts[0].PortNumber = 8090 }, "uses 8090"},
		"node ports need type": {func(c *operatorv1alpha1.Contour) {
			c.Spec.NetworkPublishing.Envoy.NodePorts = []operatorv1alpha1.NodePort{{Name: "http", PortNumber: &np}}
		}, "not NodePortService"},
	} {
		c := sample()
		tc.mutate(c)
		err := Validate(c)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

func TestServices(t *testing.T) {
	t.Parallel()
	np := int32(30443)
	for name, tc := range map[string]struct {
		typ      operatorv1alpha1.PublishingType
		nodePort int32
		want     corev1.ServiceType
	}{
		"load balancer": {operatorv1alpha1.LoadBalancerService, 0, corev1.ServiceTypeLoadBalancer},
		"node port":     {operatorv1alpha1.NodePortService, 30443, corev1.ServiceTypeNodePort},
		"cluster ip":    {operatorv1alpha1.ClusterIPService, 0, corev1.ServiceTypeClusterIP},
	} {
		c := sample()
		c.Spec.NetworkPublishing.Envoy.Type = tc.typ
		if tc.nodePort != 0 {
			c.Spec.NetworkPublishing.Envoy.NodePorts = []operatorv1alpha1.NodePort{{Name: "https", PortNumber: &np}}
		}
		envoy := Services(c)[1]
		if envoy.Name != "envoy" || envoy.Spec.Type != tc.want {
			t.Errorf("%s: %s type %s", name, envoy.Name, envoy.Spec.Type)
		}
		if p := envoy.Spec.Ports; p[0].Port != 80 || p[0].TargetPort.IntValue() != 8080 || p[1].Port != 443 || p[1].TargetPort.IntValue() != 8443 || p[1].NodePort != tc.nodePort {
			t.Errorf("%s: ports %+v", name, p)
		}
	}
}

func TestDeploymentArgs(t *testing.T) {
	t.Parallel()
	c := sample()
	class := "internal"
	c.Spec.IngressClassName = &class
	d := Deployment(c, Images{Isobar: "i", Envoy: "e"})
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{"serve", "--xds-port=8001", "--http-port=8000", "--ingress-class=internal", "--xds-ca-file=/certs/ca.crt"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	ds := DaemonSet(c, Images{Isobar: "i", Envoy: "e"})
	if got := strings.Join(ds.Spec.Template.Spec.InitContainers[0].Args[:2], " "); got != "bootstrap /config/envoy.json" {
		t.Errorf("init container args %q", got)
	}
}

func TestCertRotation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secrets, err := CertSecrets(sample(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 || secrets[0].Name != ServerCert || secrets[1].Name != EnvoyCert {
		t.Fatalf("secrets %v", secrets)
	}
	for _, at := range []struct {
		when time.Time
		want bool
	}{{now, false}, {now.Add(200 * 24 * time.Hour), false}, {now.Add(250 * 24 * time.Hour), true}} {
		if got := NeedsRotation(secrets[0], at.when); got != at.want {
			t.Errorf("NeedsRotation at %s = %v", at.when, got)
		}
	}
	if !NeedsRotation(nil, now) {
		t.Error("a missing Secret needs a certificate")
	}
}
