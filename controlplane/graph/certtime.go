package graph

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Reasons for serving certificates used outside their validity. Envoy
// still serves them (clients refuse them), so the object stays valid, with
// a warning (which `check` and the findings metric list under the reason).
const (
	ReasonCertificateExpired     = "CertificateExpired"
	ReasonCertificateNotYetValid = "CertificateNotYetValid"
)

// checkCertificateTime warns on ref when s's certificate is not valid at
// Options.Now (nothing when Now is zero). field names where ref refers to s.
func (b *builder) checkCertificateTime(ref status.Ref, field string, s *Secret) {
	now := b.opts.Now
	if now.IsZero() || s == nil || s.NotAfter.IsZero() {
		return
	}
	reason, verb, at := "", "", time.Time{}
	switch {
	case now.After(s.NotAfter):
		reason, verb, at = ReasonCertificateExpired, "expired at", s.NotAfter
	case now.Before(s.NotBefore):
		reason, verb, at = ReasonCertificateNotYetValid, "is not valid before", s.NotBefore
	default:
		return
	}
	msg := field + ": the certificate of Secret \"" + s.Namespace + "/" + s.Name + "\" " + verb + " " +
		at.UTC().Format(time.RFC3339) + " (checked at " + now.UTC().Format(time.RFC3339) + "); clients will refuse it"
	b.report.Warning(ref, status.TLSError, reason, "%s", msg)
}

// NextCertificateTime returns the earliest NotBefore or NotAfter after now
// among the serving certificates of idx's TLS Secrets: when the answer of a
// compile at now would next change for the time alone. Zero when there is
// none. Certificates that do not parse are skipped (the compile reports
// them).
func NextCertificateTime(idx *source.Index, now time.Time) time.Time {
	seen := map[string]bool{}
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, s := range idx.Secrets {
		pemData := s.Data[corev1.TLSCertKey]
		if len(pemData) == 0 || seen[string(pemData)] {
			continue
		}
		seen[string(pemData)] = true
		certs, err := parseCertificates(pemData)
		if err != nil {
			continue
		}
		consider(certs[0].NotBefore)
		consider(certs[0].NotAfter.Add(time.Second)) // expired once past NotAfter
	}
	return next
}
