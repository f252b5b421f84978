package graph

import (
	"fmt"
	"net/textproto"
	"sort"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// GlobalHeaders is Contour's global header policy (its configuration
// file's policy.request-headers, policy.response-headers and
// policy.applyToIngress): headers set on and removed from the requests to,
// and the responses of, every Service an HTTPProxy routes to, and every
// Service an Ingress routes to when ApplyToIngress is set. A Service's own
// policy wins over it: a header that policy sets keeps its value, and
// removals are added to the Service's. Values may hold
// %CONTOUR_NAMESPACE%, %CONTOUR_SERVICE_NAME% and %CONTOUR_SERVICE_PORT%.
// Setting Host (a rewrite of the request's authority) is not part of it:
// CheckGlobalHeader refuses it.
type GlobalHeaders struct {
	Request, Response HeadersPolicy
	ApplyToIngress    bool
}

// CheckGlobalHeader returns an error when name (and, for a header set,
// value) cannot be in a GlobalHeaders policy.
func CheckGlobalHeader(name, value string) error {
	if err := validateHeaderName(name, false); err != nil {
		return err
	}
	if strings.EqualFold(name, "host") {
		return fmt.Errorf("setting Host is not supported by Isobar's global header policy")
	}
	return validateHeaderValue(value)
}

// empty reports whether g changes nothing.
func (g GlobalHeaders) empty() bool {
	return len(g.Request.Set)+len(g.Request.Remove)+len(g.Response.Set)+len(g.Response.Remove) == 0
}

// applyTo merges g into the header policies of a backend of namespace
// routing to svc (its name and port, for the dynamic values).
func (g GlobalHeaders) applyTo(be *Backend, namespace string, svc *contourv1.Service) {
	if g.empty() {
		return
	}
	be.RequestHeaders = mergeHeaders(g.Request, be.RequestHeaders, namespace, svc)
	be.ResponseHeaders = mergeHeaders(g.Response, be.ResponseHeaders, namespace, svc)
}

// mergeHeaders returns own with the headers of global it does not set or
// remove already (own is not modified; nil when both are empty).
func mergeHeaders(global HeadersPolicy, own *HeadersPolicy, namespace string, svc *contourv1.Service) *HeadersPolicy {
	if len(global.Set) == 0 && len(global.Remove) == 0 {
		return own
	}
	out := &HeadersPolicy{}
	if own != nil {
		out.Set, out.Remove = append([]Header(nil), own.Set...), append([]string(nil), own.Remove...)
		out.HostRewrite, out.HostRewriteHeader = own.HostRewrite, own.HostRewriteHeader
	}
	for _, h := range global.Set {
		if !hasHeader(out.Set, h.Name) {
			out.Set = append(out.Set, Header{Name: textproto.CanonicalMIMEHeaderKey(h.Name), Value: expandDynamic(h.Value, namespace, svc)})
		}
	}
	for _, n := range global.Remove {
		if !containsFold(out.Remove, n) {
			out.Remove = append(out.Remove, textproto.CanonicalMIMEHeaderKey(n))
		}
	}
	sort.Slice(out.Set, func(i, j int) bool { return out.Set[i].Name < out.Set[j].Name })
	sort.Strings(out.Remove)
	return out
}

func hasHeader(hs []Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
