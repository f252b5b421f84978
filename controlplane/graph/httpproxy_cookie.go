package graph

import (
	"fmt"
	"regexp"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// ReasonCookieRewritePoliciesInvalid is Contour's reason for a bad
// cookieRewritePolicies entry, on a route or on a service.
const ReasonCookieRewritePoliciesInvalid = "CookieRewritePoliciesInvalid"

// CookieRewrite is one HTTPProxy cookieRewritePolicies entry: how Envoy
// rewrites the attributes of the Set-Cookie response headers that set the
// cookie Name (compared exactly). An empty Path, Domain or SameSite and a
// nil Secure leave that attribute as the upstream sent it; at least one
// is set.
type CookieRewrite struct {
	Name string
	// Path and Domain replace the attribute's value, or add the attribute.
	Path, Domain string
	// Secure adds the Secure attribute (true) or removes it (false).
	Secure *bool
	// SameSite is Strict, Lax or None: it replaces or adds the attribute.
	SameSite string
}

// Limits and character sets of Contour's CRD validation, which Isobar
// applies itself (files read offline never meet the API server).
const maxCookieRewriteLen = 4096

var cookieDomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// cookieRewrites validates a list of cookieRewritePolicies as Contour does
// (its CRD's patterns and enum, then its processor's checks: no cookie
// named twice, at least one attribute per entry). field names the list in
// errors, e.g. "cookieRewritePolicies" or "services[1].cookieRewritePolicies".
// The first problem is returned; nil means no policies.
func cookieRewrites(policies []contourv1.CookieRewritePolicy, field string) ([]CookieRewrite, error) {
	var out []CookieRewrite
	seen := map[string]bool{}
	for i, p := range policies {
		at := fmt.Sprintf("%s[%d]", field, i)
		if err := checkCookieName(p.Name); err != nil {
			return nil, fmt.Errorf("%s.name: %w", at, err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("%s: duplicate cookie rewrite rule for cookie %q", at, p.Name)
		}
		seen[p.Name] = true
		r := CookieRewrite{Name: p.Name, Secure: p.Secure}
		if p.PathRewrite != nil {
			if err := checkCookiePath(p.PathRewrite.Value); err != nil {
				return nil, fmt.Errorf("%s.pathRewrite.value: %w", at, err)
			}
			r.Path = p.PathRewrite.Value
		}
		if p.DomainRewrite != nil {
			v := p.DomainRewrite.Value
			if len(v) > maxCookieRewriteLen || !cookieDomain.MatchString(v) {
				return nil, fmt.Errorf("%s.domainRewrite.value: %q is not a lower-case DNS name of at most %d characters", at, v, maxCookieRewriteLen)
			}
			r.Domain = v
		}
		if p.SameSite != nil {
			switch *p.SameSite {
			case "Strict", "Lax", "None":
				r.SameSite = *p.SameSite
			default:
				return nil, fmt.Errorf("%s.sameSite: %q is not Strict, Lax or None", at, *p.SameSite)
			}
		}
		if r.Path == "" && r.Domain == "" && r.Secure == nil && r.SameSite == "" {
			return nil, fmt.Errorf("%s: no attributes rewritten for cookie %q", at, p.Name)
		}
		out = append(out, r)
	}
	return out, nil
}

// checkCookieName accepts an RFC 6265 cookie name as Contour's CRD does:
// 1 to 4096 characters, none of them a control character, space, tab or
// separator.
func checkCookieName(s string) error {
	if s == "" || len(s) > maxCookieRewriteLen {
		return fmt.Errorf("%q must have 1 to %d characters", s, maxCookieRewriteLen)
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == ' ' || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r)
	}); i >= 0 {
		return fmt.Errorf("%q has %q, which a cookie name cannot have", s, s[i])
	}
	return nil
}

// checkCookiePath accepts a Path value as Contour's CRD does: 1 to 4096
// characters, no ';' and no control character.
func checkCookiePath(s string) error {
	if s == "" || len(s) > maxCookieRewriteLen {
		return fmt.Errorf("%q must have 1 to %d characters", s, maxCookieRewriteLen)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ';' }) >= 0 {
		return fmt.Errorf("%q has a ';' or a control character", s)
	}
	return nil
}

// routeCookieRewrites reads route i's own cookieRewritePolicies into r. A
// problem is fatal to the route (Contour's CookieRewritePoliciesInvalid).
// On a route without services the policies are checked, then reported as
// ignored: only responses from services pass Envoy's Lua filter with them.
func (b *builder) routeCookieRewrites(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int) error {
	rules, err := cookieRewrites(spec.CookieRewritePolicies, "cookieRewritePolicies")
	if err != nil {
		return routeError{status.RouteError, ReasonCookieRewritePoliciesInvalid, err.Error()}
	}
	if rules != nil && len(spec.Services) == 0 {
		b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
			"Spec.Routes[%d].cookieRewritePolicies has no effect on a route without services and is ignored", i)
		return nil
	}
	r.CookieRewrites = rules
	return nil
}

// serviceCookieRewrites reads service j's cookieRewritePolicies of route i.
// A mirror's are checked, then reported as ignored: Envoy discards the
// mirror's responses.
func (b *builder) serviceCookieRewrites(p *contourv1.HTTPProxy, svc *contourv1.Service, i, j int) ([]CookieRewrite, error) {
	if len(svc.CookieRewritePolicies) == 0 {
		return nil, nil // (most services: no field name to format)
	}
	rules, err := cookieRewrites(svc.CookieRewritePolicies, fmt.Sprintf("services[%d].cookieRewritePolicies", j))
	if err != nil {
		return nil, routeError{status.RouteError, ReasonCookieRewritePoliciesInvalid, err.Error()}
	}
	if rules != nil && svc.Mirror {
		b.report.Warning(proxyRef(p), status.ServiceError, ReasonIgnoredField,
			"Spec.Routes[%d].Services[%d].cookieRewritePolicies has no effect on a mirror (its responses are discarded) and is ignored", i, j)
		return nil, nil
	}
	return rules, nil
}
