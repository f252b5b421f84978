package translate

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// maxNameLength is Contour's limit for cluster and secret names.
const maxNameLength = 60

// hashname joins parts with "/". When the result is not shorter than l
// (Contour's rule: a name of exactly l characters is shortened too), parts
// are shortened from the last to the first, each to l/len(parts)
// characters ending in "-" and the first 6 hex characters of the SHA-256 of
// the full name, until the name fits; when even that is too long, the name
// is the SHA-256 hex itself, cut to l. This is Contour's Hashname, so
// long names stay identical to Contour's.
func hashname(l int, parts ...string) string {
	full := strings.Join(parts, "/")
	if len(full) < l {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	hash := hex.EncodeToString(sum[:])
	short := append([]string(nil), parts...)
	for i := len(short) - 1; i >= 0; i-- {
		short[i] = shorten(l/len(short), short[i], hash[:6])
		if r := strings.Join(short, "/"); len(r) < l {
			return r
		}
	}
	return hash[:min(len(hash), l)]
}

// shorten cuts s to l characters, ending it with "-" and suffix.
func shorten(l int, s, suffix string) string {
	switch {
	case l >= len(s):
		return s
	case l <= len(suffix):
		return suffix[:l]
	}
	return s[:l-len(suffix)-1] + "-" + suffix
}

// VirtualHostName is the Envoy name of the virtual host of fqdn: the fqdn
// itself, or, from 60 characters on, Contour's hashed name (its Hashname
// with the same limit: the SHA-256 hex of the fqdn cut to 60 characters),
// so that long hosts' names, and the stats named after them, are Contour's.
// Route configurations list their virtual hosts sorted by this name.
func VirtualHostName(fqdn string) string {
	if len(fqdn) < maxNameLength {
		return fqdn
	}
	return hashname(maxNameLength, fqdn)
}

// emptyHash is shortHash(""), the hash of a cluster without options.
const emptyHash = "da39a3ee5e"

// shortHash is the first 10 hex characters of SHA-1.
func shortHash(s string) string {
	if s == "" {
		return emptyHash
	}
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:5])
}

// shortHashBytes is shortHash(string(b)), without copying b (a
// certificate, for every TLS host).
func shortHashBytes(b []byte) string {
	if len(b) == 0 {
		return emptyHash
	}
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:5])
}

// ClusterName is the Envoy name of c: namespace/service/port/<hash of the
// options>, truncated Contour-style; for a DNS-name cluster (a remote
// JWKS), dnsname/<scheme>/<host> (see dnsNameClusterName).
func ClusterName(c *graph.Cluster) string {
	if c.DNSNameScheme != "" {
		return dnsNameClusterName(c)
	}
	if x := c.Extension; x != nil {
		return graph.ExtensionClusterName(c.Namespace, x.Name)
	}
	return hashname(maxNameLength, c.Namespace, c.Service, strconv.Itoa(int(c.Port.Port)), shortHash(clusterOptions(c)))
}

// ClusterEDSName is the ClusterLoadAssignment name of EDS cluster c: that
// of its Service port, or for an ExtensionService's cluster its own name
// (Contour's).
func ClusterEDSName(c *graph.Cluster) string {
	if x := c.Extension; x != nil {
		return graph.ExtensionClusterName(c.Namespace, x.Name)
	}
	name := EDSName(c.Namespace, c.Service, c.Port.Name)
	if hp := c.HealthPort; hp != nil {
		// Its endpoints carry health-check ports: not the Service port's
		// assignment (Contour gives both one name, and one overwrites the
		// other).
		name += "/health/" + portName(hp.Name, hp.Port)
	}
	return name
}

// portName is a Service port's name, or its number when unnamed.
func portName(name string, port int32) string {
	if name == "" {
		return strconv.Itoa(int(port))
	}
	return name
}

// EDSName is the ClusterLoadAssignment name of a Service port, Contour's:
// namespace/service/<port name>, or namespace/service for an unnamed port
// (the only port of its Service: the API server requires names of
// several, and so does the loader).
func EDSName(namespace, service, portName string) string {
	if portName == "" {
		return namespace + "/" + service
	}
	return namespace + "/" + service + "/" + portName
}

// SecretName is the SDS name of a secret: namespace/name/<hash of the
// certificate (or CA)>.
func SecretName(s *graph.Secret) string {
	data := s.Cert
	if len(data) == 0 {
		data = s.CA
	}
	return hashname(maxNameLength, s.Namespace, s.Name, shortHashBytes(data))
}

// clusterOptions is the canonical string of everything that makes two
// clusters of one Service port different; empty for the defaults.
func clusterOptions(c *graph.Cluster) string {
	var parts []string
	if c.LoadBalancer != "" && c.LoadBalancer != graph.RoundRobin {
		parts = append(parts, "lb="+string(c.LoadBalancer))
	}
	if h := c.HealthCheck; h != nil {
		parts = append(parts, fmt.Sprintf("hc=%s|%s|%s|%s|%d|%d|%v", h.Path, h.Host, h.Interval, h.Timeout,
			h.UnhealthyThreshold, h.HealthyThreshold, h.ExpectedStatuses))
	}
	if v := c.Validation; v != nil {
		names := append([]string(nil), v.SubjectNames...)
		sort.Strings(names)
		ca := ""
		if v.CA != nil {
			ca = shortHashBytes(v.CA.CA)
		}
		parts = append(parts, "ca="+ca, "san="+strings.Join(names, ","))
	}
	if c.Protocol != "" {
		parts = append(parts, "proto="+c.Protocol)
	}
	if c.SNI != "" {
		parts = append(parts, "sni="+c.SNI)
	}
	if hp := c.HealthPort; hp != nil {
		parts = append(parts, "healthport="+strconv.Itoa(int(hp.Port)))
	}
	if d := c.IdleConnection; d != nil {
		parts = append(parts, "idle="+d.String())
	}
	if r := c.SlowStart; r != nil {
		parts = append(parts, fmt.Sprintf("slowstart=%s|%g|%d", r.Window, r.Aggression, r.MinWeightPercent))
	}
	return strings.Join(parts, ";")
}
