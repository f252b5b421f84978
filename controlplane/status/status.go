package status

import (
	"slices"
	"strings"
)

// Kind names of the objects that carry a status or appear in findings.
const (
	KindHTTPProxy                = "HTTPProxy"
	KindIngressRoute             = "IngressRoute"
	KindIngress                  = "Ingress"
	KindTLSCertificateDelegation = "TLSCertificateDelegation"
	KindService                  = "Service"
	KindSecret                   = "Secret"
	KindEndpoints                = "Endpoints"
	KindEndpointSlice            = "EndpointSlice"
	KindIngressClass             = "IngressClass"
	KindNamespace                = "Namespace"
	KindExtensionService         = "ExtensionService"
)

// Ref names one Kubernetes object.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String renders the reference as "Kind namespace/name".
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Less orders references by kind, namespace, then name.
func (r Ref) Less(o Ref) bool { return r.Compare(o) < 0 }

// Compare orders references as Less does: -1, 0 or +1.
func (r Ref) Compare(o Ref) int {
	if c := strings.Compare(r.Kind, o.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(r.Namespace, o.Namespace); c != 0 {
		return c
	}
	return strings.Compare(r.Name, o.Name)
}

// CurrentStatus is the summary Contour writes in status.currentStatus.
type CurrentStatus string

// The values of CurrentStatus, as Contour spells them.
const (
	Valid    CurrentStatus = "valid"
	Invalid  CurrentStatus = "invalid"
	Orphaned CurrentStatus = "orphaned"
)

// ConditionType is the type of a sub-condition (VirtualHostError, ...).
type ConditionType string

// Sub-condition types, Contour's names.
const (
	VirtualHostError     ConditionType = "VirtualHostError"
	RootNamespaceError   ConditionType = "RootNamespaceError"
	SpecError            ConditionType = "SpecError"
	TLSError             ConditionType = "TLSError"
	IncludeError         ConditionType = "IncludeError"
	RouteError           ConditionType = "RouteError"
	ServiceError         ConditionType = "ServiceError"
	TCPProxyError        ConditionType = "TCPProxyError"
	TCPProxyIncludeError ConditionType = "TCPProxyIncludeError"
	PrefixReplaceError   ConditionType = "PrefixReplaceError"
	IPFilterError        ConditionType = "IPFilterError"
	OrphanedError        ConditionType = "Orphaned"
	CORSError            ConditionType = "CORSError"
	JWTVerificationError ConditionType = "JWTVerificationError"
	AuthError            ConditionType = "AuthError"
	// RuleError is Isobar's sub-condition type for one Ingress rule.
	RuleError ConditionType = "RuleError"
	// IgnoredFieldWarning marks a field that was read but has no effect.
	IgnoredFieldWarning ConditionType = "IgnoredField"
	// EnvoyRejected marks an object whose configuration Envoy rejected (a
	// NACK): a warning while no Envoy has accepted a newer one, an error
	// when the object was taken out for it.
	EnvoyRejected ConditionType = "EnvoyRejected"
)

// SubCondition is one error or warning under the Valid condition.
type SubCondition struct {
	Type    ConditionType `json:"type"`
	Status  string        `json:"status"`
	Reason  string        `json:"reason"`
	Message string        `json:"message"`
}

// Condition is Contour's DetailedCondition of type Valid.
type Condition struct {
	Type     string         `json:"type"`
	Status   string         `json:"status"`
	Reason   string         `json:"reason"`
	Message  string         `json:"message"`
	Errors   []SubCondition `json:"errors,omitempty"`
	Warnings []SubCondition `json:"warnings,omitempty"`
}

// Object is the status of one input object.
type Object struct {
	Ref
	CurrentStatus CurrentStatus `json:"currentStatus"`
	Description   string        `json:"description"`
	Conditions    []Condition   `json:"conditions"`
}

// Severity ranks findings.
type Severity string

// Severities, from most to least serious.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Rank orders severities: error 2, warning 1, info 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

// Finding is one coded observation about the input, for `isobar check`.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Objects  []Ref    `json:"objects"`
	Message  string   `json:"message"`
}

func (f Finding) key() string {
	var b strings.Builder
	b.WriteString(f.Code)
	for _, o := range f.Objects {
		b.WriteString("\x00" + o.String())
	}
	b.WriteString("\x00" + f.Message)
	return b.String()
}

// Messages Contour writes on the Valid condition.
const (
	validReason        = "Valid"
	errorPresentReason = "ErrorPresent"
	errorPresentMsg    = "At least one error present, see Errors for details"
	orphanedMsgProxy   = "this HTTPProxy is not part of a delegation chain from a root HTTPProxy"
	orphanedMsgRoute   = "this IngressRoute is not part of a delegation chain from a root IngressRoute"
)

func validMessage(kind string) string {
	switch kind { // the common kinds without building the string each time
	case KindHTTPProxy:
		return "Valid " + KindHTTPProxy
	case KindIngress:
		return "Valid " + KindIngress
	case KindIngressRoute:
		return "Valid " + KindIngressRoute
	}
	return "Valid " + kind
}

// sortRefs sorts references in place and drops duplicates.
func sortRefs(refs []Ref) []Ref {
	slices.SortFunc(refs, Ref.Compare)
	out := refs[:0]
	for i, r := range refs {
		if i > 0 && r == refs[i-1] {
			continue
		}
		out = append(out, r)
	}
	return out
}
