package gen

import (
	"fmt"
	"time"
)

func (c *corpus) proxy(i int, root bool, children []int) {
	ns, name := c.ns(i), fmt.Sprintf("proxy-%d", i)
	for k := 0; k < c.o.ServicesPerProxy; k++ {
		c.service(ns, fmt.Sprintf("svc-%d-%d", i, k))
	}
	secret := ""
	if root && c.r.Float64() < c.o.TLSFrac {
		secret = name + "-tls"
		c.secret(ns, secret, i)
	}
	c.begin("projectcontour.io/v1", "HTTPProxy", ns, name)
	c.printf("spec:\n")
	if root {
		c.printf("  virtualhost:\n    fqdn: p%d.%s\n", i, c.o.Domain)
		if secret != "" {
			c.printf("    tls:\n      secretName: %s\n", secret)
		}
	}
	if len(children) > 0 {
		c.printf("  includes:\n")
		for _, ch := range children {
			c.printf("  - name: proxy-%d\n    namespace: %s\n    conditions:\n    - prefix: /inc-%d\n", ch, c.ns(ch), ch)
		}
	}
	c.printf("  routes:\n")
	for k := 0; k < c.o.Routes; k++ {
		prefix := "/"
		if k > 0 {
			prefix = fmt.Sprintf("/r%d", k)
		}
		c.printf("  - conditions:\n    - prefix: %s\n", prefix)
		if c.r.Float64() < c.o.HeaderFrac {
			c.printf("    - header:\n        name: x-variant\n        exact: v%d\n", k)
		}
		c.printf("    services:\n")
		first := k % c.o.ServicesPerProxy
		if c.o.ServicesPerProxy > 1 && c.r.Float64() < c.o.WeightedFrac {
			c.printf("    - name: svc-%d-%d\n      port: 80\n      weight: 90\n", i, first)
			c.printf("    - name: svc-%d-%d\n      port: 80\n      weight: 10\n", i, (first+1)%c.o.ServicesPerProxy)
			continue
		}
		c.printf("    - name: svc-%d-%d\n      port: 80\n", i, first)
	}
}

func (c *corpus) ingress(j int) {
	ns, name, svc := c.ns(j), fmt.Sprintf("ing-%d", j), fmt.Sprintf("ing-svc-%d", j)
	c.service(ns, svc)
	secret := ""
	if c.r.Float64() < c.o.TLSFrac {
		secret = name + "-tls"
		c.secret(ns, secret, j)
	}
	host := fmt.Sprintf("ing-%d.%s", j, c.o.Domain)
	c.begin("networking.k8s.io/v1", "Ingress", ns, name)
	c.printf("spec:\n")
	if secret != "" {
		c.printf("  tls:\n  - hosts:\n    - %s\n    secretName: %s\n", host, secret)
	}
	c.printf("  rules:\n  - host: %s\n    http:\n      paths:\n", host)
	for _, p := range []string{"/", "/api"} {
		c.printf("      - path: %s\n        pathType: Prefix\n        backend:\n          service:\n            name: %s\n            port:\n              number: 80\n", p, svc)
	}
}

// service writes a Service with one HTTP port and its endpoints.
func (c *corpus) service(ns, name string) {
	c.begin("v1", "Service", ns, name)
	c.printf("spec:\n  type: ClusterIP\n  selector:\n    app: %s\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n", name)
	ips := make([]string, c.o.Endpoints)
	for e := range ips {
		c.stats.Addresses++
		n := c.stats.Addresses
		ips[e] = fmt.Sprintf("10.%d.%d.%d", (n>>16)&255, (n>>8)&255, n&255)
	}
	if c.o.EndpointKind != "endpoints" {
		c.begin("discovery.k8s.io/v1", "EndpointSlice", ns, name+"-1", "kubernetes.io/service-name", name)
		c.printf("addressType: IPv4\nports:\n- name: http\n  port: 8080\n  protocol: TCP\nendpoints:\n")
		for _, ip := range ips {
			c.printf("- addresses:\n  - %s\n  conditions:\n    ready: true\n", ip)
		}
	}
	if c.o.EndpointKind != "endpointslices" {
		c.begin("v1", "Endpoints", ns, name)
		if len(ips) > 0 {
			c.printf("subsets:\n- addresses:\n")
			for _, ip := range ips {
				c.printf("  - ip: %s\n", ip)
			}
			c.printf("  ports:\n  - name: http\n    port: 8080\n    protocol: TCP\n")
		}
	}
}

func (c *corpus) secret(ns, name string, i int) {
	pair := c.certs[i%len(c.certs)]
	c.begin("v1", "Secret", ns, name)
	c.printf("type: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n", pair[0], pair[1])
}

// begin starts a document. labels are name, value pairs. Every object has a
// distinct, increasing creationTimestamp so oldest-wins rules have one answer.
func (c *corpus) begin(apiVersion, kind, ns, name string, labels ...string) {
	c.printf("---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", apiVersion, kind, name)
	if ns != "" {
		c.printf("  namespace: %s\n", ns)
	}
	c.printf("  creationTimestamp: %q\n", c.t0.Add(time.Duration(c.stats.Objects)*time.Second).Format(time.RFC3339))
	if len(labels) > 0 {
		c.printf("  labels:\n")
		for k := 0; k+1 < len(labels); k += 2 {
			c.printf("    %s: %s\n", labels[k], labels[k+1])
		}
	}
	c.stats.Objects++
}
