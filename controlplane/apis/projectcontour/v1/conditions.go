package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// DetailedCondition is a metav1.Condition with error and warning
// sub-conditions, as Contour writes on HTTPProxy status.
type DetailedCondition struct {
	metav1.Condition `json:",inline"`
	// Errors are the problems that make the object invalid.
	// +optional
	Errors []SubCondition `json:"errors,omitempty"`
	// Warnings are problems that do not make the object invalid.
	// +optional
	Warnings []SubCondition `json:"warnings,omitempty"`
}

// SubCondition is one error or warning under a DetailedCondition.
type SubCondition struct {
	// Type is the kind of problem, e.g. TLSError.
	// +kubebuilder:validation:MaxLength=316
	Type string `json:"type"`
	// Status is True, False or Unknown.
	// +kubebuilder:validation:Enum=True;False;Unknown
	Status metav1.ConditionStatus `json:"status"`
	// Reason is a CamelCase code, e.g. SecretNotValid.
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason"`
	// Message is for people.
	// +kubebuilder:validation:MaxLength=32768
	Message string `json:"message"`
}
