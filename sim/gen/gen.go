package gen

import (
	"bufio"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

//go:embed certs
var certs embed.FS

// Options size the corpus. Zero values take the defaults of DefaultOptions.
type Options struct {
	Proxies, Routes, Ingresses, Namespaces, Endpoints, ServicesPerProxy, CertPool int
	TLSFrac, IncludeFrac, WeightedFrac, HeaderFrac                                float64
	Seed                                                                          uint64
	// EndpointKind is endpointslices, endpoints or both.
	EndpointKind string
	Domain       string
}

// DefaultOptions are the reference generator's defaults.
func DefaultOptions() Options {
	return Options{Proxies: 1000, Routes: 5, Namespaces: 10, Endpoints: 3, ServicesPerProxy: 2, CertPool: 4,
		TLSFrac: 0.3, IncludeFrac: 0.2, WeightedFrac: 0.2, HeaderFrac: 0.3, Seed: 1,
		EndpointKind: "endpointslices", Domain: "example.com"}
}

// S1k and S10k are the corpora the benchmarks use (seed 7).
func S1k() Options {
	o := DefaultOptions()
	o.Proxies, o.Ingresses, o.Seed = 1000, 100, 7
	return o
}

// S10k is the large corpus: 10,000 HTTPProxies and 1,000 Ingresses.
func S10k() Options {
	o := DefaultOptions()
	o.Proxies, o.Ingresses, o.Seed = 10000, 1000, 7
	return o
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Proxies < 0 || o.Ingresses < 0 || o.Routes < 1 || o.Namespaces < 1 || o.Endpoints < 0:
		return fmt.Errorf("counts must be non-negative; routes and namespaces at least 1")
	case o.ServicesPerProxy < 1 || o.CertPool < 1 || o.CertPool > 4:
		return fmt.Errorf("services per proxy must be at least 1 and the cert pool between 1 and 4")
	case o.EndpointKind != "endpointslices" && o.EndpointKind != "endpoints" && o.EndpointKind != "both":
		return fmt.Errorf("endpoint kind must be endpointslices, endpoints or both, not %q", o.EndpointKind)
	}
	return nil
}

// Stats counts what Write wrote.
type Stats struct{ Objects, Addresses int }

// Write writes the corpus o describes to w.
func Write(w io.Writer, o Options) (Stats, error) {
	if err := o.Validate(); err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	c := &corpus{o: o, w: bw, r: rand.New(rand.NewPCG(o.Seed, 0x150ba5)), t0: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := c.loadCerts(); err != nil {
		return Stats{}, err
	}
	c.write()
	return c.stats, bw.Flush()
}

type corpus struct {
	o     Options
	w     *bufio.Writer
	r     *rand.Rand
	t0    time.Time
	certs [][2]string
	stats Stats
}

func (c *corpus) loadCerts() error {
	for i := 0; i < c.o.CertPool; i++ {
		crt, err := certs.ReadFile(fmt.Sprintf("certs/tls-%d.crt", i))
		if err != nil {
			return err
		}
		key, err := certs.ReadFile(fmt.Sprintf("certs/tls-%d.key", i))
		if err != nil {
			return err
		}
		c.certs = append(c.certs, [2]string{base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(key)})
	}
	return nil
}

// write decides each HTTPProxy's role (a child is included by the nearest
// earlier root) and then writes namespaces, proxies with their Services,
// endpoints and Secrets, and Ingresses.
func (c *corpus) write() {
	children := make([][]int, c.o.Proxies)
	isRoot := make([]bool, c.o.Proxies)
	root := -1
	for i := 0; i < c.o.Proxies; i++ {
		if root >= 0 && c.r.Float64() < c.o.IncludeFrac {
			children[root] = append(children[root], i)
			continue
		}
		isRoot[i], root = true, i
	}
	for n := 0; n < c.o.Namespaces; n++ {
		c.begin("v1", "Namespace", "", c.ns(n))
	}
	for i := 0; i < c.o.Proxies; i++ {
		c.proxy(i, isRoot[i], children[i])
	}
	for j := 0; j < c.o.Ingresses; j++ {
		c.ingress(j)
	}
}

func (c *corpus) ns(i int) string { return fmt.Sprintf("team-%d", i%c.o.Namespaces) }

func (c *corpus) printf(format string, args ...any) { fmt.Fprintf(c.w, format, args...) }
