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

// hashname joins parts with "/"; when the result is longer than l, parts are
// truncated from the right and a 6-character SHA-256 suffix of the full name
// keeps names distinct (Contour's Hashname).
func hashname(l int, parts ...string) string {
	full := strings.Join(parts, "/")
	if len(full) <= l {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	suffix := hex.EncodeToString(sum[:])[:6]
	budget := l - len(suffix) - 1
	if budget < 0 {
		return suffix
	}
	return strings.TrimRight(full[:budget], "/") + "-" + suffix
}

// shortHash is the first 10 hex characters of SHA-1.
func shortHash(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// ClusterName is the Envoy name of c: namespace/service/port/<hash of the
// options>, truncated Contour-style.
func ClusterName(c *graph.Cluster) string {
	return hashname(maxNameLength, c.Namespace, c.Service, strconv.Itoa(int(c.Port.Port)), shortHash(clusterOptions(c)))
}

// EDSName is the ClusterLoadAssignment name of a Service port:
// namespace/service/<port name, or number when unnamed>.
func EDSName(namespace, service string, portName string, port int32) string {
	if portName == "" {
		portName = strconv.Itoa(int(port))
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
	return hashname(maxNameLength, s.Namespace, s.Name, shortHash(string(data)))
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
			ca = shortHash(string(v.CA.CA))
		}
		parts = append(parts, "ca="+ca, "san="+strings.Join(names, ","))
	}
	if c.Protocol != "" {
		parts = append(parts, "proto="+c.Protocol)
	}
	if c.SNI != "" {
		parts = append(parts, "sni="+c.SNI)
	}
	return strings.Join(parts, ";")
}
