package controlplane_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestAllFindingsTellsOnce: an object's condition is left out when a
// finding of the same code and severity names the object, and kept
// otherwise.
func TestAllFindingsTellsOnce(t *testing.T) {
	a := status.Ref{Kind: "HTTPProxy", Namespace: "team-a", Name: "www"}
	b := status.Ref{Kind: "HTTPProxy", Namespace: "team-b", Name: "www"}
	c := status.Ref{Kind: "HTTPProxy", Namespace: "team-c", Name: "app"}
	ing := status.Ref{Kind: "Ingress", Namespace: "team-d", Name: "web"}
	duplicate := status.Finding{Code: "DuplicateVhost", Severity: status.SeverityError, Objects: []status.Ref{a, b},
		Message: `fqdn "www.example.com" is claimed by 2 roots; HTTPProxy team-a/www is the oldest and keeps it`}
	ignored := status.Finding{Code: "IgnoredField", Severity: status.SeverityInfo, Objects: []status.Ref{ing},
		Message: "spec.tls[0].hosts: no rule names this host"}
	cond := func(errs, warns []status.SubCondition) []status.Condition {
		return []status.Condition{{Type: "Valid", Errors: errs, Warnings: warns}}
	}
	res := &controlplane.Result{
		Findings: []status.Finding{ignored, duplicate},
		Statuses: []status.Object{
			{Ref: a, CurrentStatus: "valid"},
			{Ref: b, CurrentStatus: "invalid", Conditions: cond([]status.SubCondition{
				{Type: "VirtualHostError", Reason: "DuplicateVhost", Message: "fqdn \"www.example.com\" is used in multiple HTTPProxys"},
			}, nil)},
			{Ref: c, CurrentStatus: "invalid", Conditions: cond([]status.SubCondition{
				{Type: "IncludeError", Reason: "IncludeNotFound", Message: "include team-c/child not found"},
			}, nil)},
			// Same code as a finding naming it, but another severity: kept.
			{Ref: ing, CurrentStatus: "valid", Conditions: cond(nil, []status.SubCondition{
				{Type: "SpecError", Reason: "IgnoredField", Message: "spec.rules[0].http.paths[1]: duplicate path"},
			})},
		},
	}
	want := []status.Finding{
		duplicate,
		{Code: "IncludeNotFound", Severity: status.SeverityError, Objects: []status.Ref{c}, Message: "include team-c/child not found"},
		{Code: "IgnoredField", Severity: status.SeverityWarning, Objects: []status.Ref{ing}, Message: "spec.rules[0].http.paths[1]: duplicate path"},
		ignored,
	}
	if d := cmp.Diff(want, res.AllFindings()); d != "" {
		t.Errorf("AllFindings (-want +got):\n%s", d)
	}
}
