package status

import (
	"fmt"
	"testing"
)

// benchReport is a report the size of the S10k corpus's: 10,000
// HTTPProxies and 1,000 Ingresses over 10 namespaces, most valid, some
// tracked only, a few with errors and warnings.
func benchReport() *Report {
	r := NewReport()
	for i := range 11000 {
		kind, name := KindHTTPProxy, fmt.Sprint("proxy-", i)
		if i >= 10000 {
			kind, name = KindIngress, fmt.Sprint("ing-", i)
		}
		ref := Ref{Kind: kind, Namespace: fmt.Sprint("team-", i%10), Name: name}
		switch {
		case i%10 == 3:
			r.Track(ref)
		case i%50 == 7:
			r.Error(ref, RouteError, "Bad", "route %d is bad", i)
			r.Warning(ref, SpecError, "Odd", "field %d is odd", i)
		default:
			r.Valid(ref)
		}
	}
	return r
}

func BenchmarkReportObjects(b *testing.B) {
	r := benchReport()
	b.ReportAllocs()
	for b.Loop() {
		r.Objects()
	}
}
