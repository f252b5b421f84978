package graph

import (
	"fmt"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// Reasons of an authorization server's protocol settings: Contour's, and
// Isobar's for a serviceType the CRD does not allow.
const (
	ReasonAuthContextForHTTP     = "AuthContextForHTTP"
	ReasonAuthBadAllowedHeader   = "AuthBadAllowedHeader"
	ReasonAuthServiceTypeInvalid = "AuthServiceTypeInvalid"
)

// HTTPAuthorization is how Envoy calls an HTTP authorization server
// (serviceType http): a request with the client's method, path (after
// PathPrefix) and the headers Envoy always sends plus the allowed ones;
// a 2xx answer lets the request through with the allowed headers of the
// answer added.
type HTTPAuthorization struct {
	PathPrefix string
	// AllowedAuthorizationHeaders are the client's headers also sent to
	// the server; AllowedUpstreamHeaders the server's headers added to
	// the request sent upstream.
	AllowedAuthorizationHeaders, AllowedUpstreamHeaders []HeaderNameMatch
}

// HeaderNameMatch matches a header name: Kind is "exact", "prefix",
// "suffix" or "contains".
type HeaderNameMatch struct {
	Kind, Value string
	IgnoreCase  bool
}

// authProtocolError is a protocol setting Contour refuses, with its
// reason.
type authProtocolError struct {
	reason string
	err    error
}

func (e *authProtocolError) Error() string { return e.err.Error() }

// httpAuthorization reads the protocol of an authorization server: nil for
// a gRPC server (serviceType grpc or empty), the HTTP settings for an http
// one. field names the setting in errors ("Spec.Virtualhost.Authorization").
// It refuses, with Contour's reasons, context entries for an HTTP server
// (they are sent to gRPC servers only) and an allowed header that does not
// set exactly one of exact, prefix, suffix and contains; ignored are the
// HTTP settings of a gRPC server, which it returns as a warning.
func httpAuthorization(field string, serviceType contourv1.AuthorizationServiceType, settings *contourv1.HTTPAuthorizationServerSettings,
	policy *contourv1.AuthorizationPolicy) (az *HTTPAuthorization, warning string, err *authProtocolError) {
	switch serviceType {
	case "", contourv1.AuthorizationGRPCService:
		if settings != nil {
			warning = field + ".HTTPServerSettings is ignored: it applies to serviceType http only"
		}
		return nil, warning, nil
	case contourv1.AuthorizationHTTPService:
	default:
		return nil, "", &authProtocolError{ReasonAuthServiceTypeInvalid,
			fmt.Errorf("%s.ServiceType %q is not one of grpc or http", field, serviceType)}
	}
	if policy != nil && len(policy.Context) > 0 {
		return nil, "", &authProtocolError{ReasonAuthContextForHTTP,
			fmt.Errorf("%s.AuthPolicy.Context are only applied to grpc service type", field)}
	}
	az = &HTTPAuthorization{}
	if settings == nil {
		return az, "", nil
	}
	az.PathPrefix = settings.PathPrefix
	var e error
	if az.AllowedAuthorizationHeaders, e = headerNameMatches(settings.AllowedAuthorizationHeaders); e != nil {
		return nil, "", &authProtocolError{ReasonAuthBadAllowedHeader,
			fmt.Errorf("%s.HTTPServerSettings.AllowedAuthorizationHeaders is invalid: %w", field, e)}
	}
	if az.AllowedUpstreamHeaders, e = headerNameMatches(settings.AllowedUpstreamHeaders); e != nil {
		return nil, "", &authProtocolError{ReasonAuthBadAllowedHeader,
			fmt.Errorf("%s.HTTPServerSettings.AllowedUpstreamHeaders is invalid: %w", field, e)}
	}
	return az, "", nil
}

// headerNameMatches reads allowed headers, each of which must set exactly
// one way of matching.
func headerNameMatches(in []contourv1.HTTPAuthorizationServerAllowedHeaders) ([]HeaderNameMatch, error) {
	var out []HeaderNameMatch
	for i, h := range in {
		var m []HeaderNameMatch
		for _, c := range []HeaderNameMatch{{"exact", h.Exact, h.IgnoreCase}, {"prefix", h.Prefix, h.IgnoreCase},
			{"suffix", h.Suffix, h.IgnoreCase}, {"contains", h.Contains, h.IgnoreCase}} {
			if c.Value != "" {
				m = append(m, c)
			}
		}
		switch len(m) {
		case 0:
			return nil, fmt.Errorf("[%d]: one of prefix, suffix, exact or contains is required", i)
		case 1:
			out = append(out, m[0])
		default:
			return nil, fmt.Errorf("[%d]: only one of prefix, suffix, exact, and contains should be set", i)
		}
	}
	return out, nil
}
