package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TLSCertificateDelegation lets HTTPProxies and Ingresses in other
// namespaces use Secrets of its own namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=tlscertificatedelegations,shortName=tlscerts,singular=tlscertificatedelegation
type TLSCertificateDelegation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec TLSCertificateDelegationSpec `json:"spec"`
	// +optional
	Status TLSCertificateDelegationStatus `json:"status,omitempty"`
}

// TLSCertificateDelegationSpec lists the delegations.
type TLSCertificateDelegationSpec struct {
	Delegations []CertificateDelegation `json:"delegations"`
}

// CertificateDelegation lets TargetNamespaces ("*" for all) use SecretName.
type CertificateDelegation struct {
	// SecretName is a Secret in this object's namespace.
	SecretName string `json:"secretName"`
	// TargetNamespaces may use the Secret; "*" means every namespace.
	TargetNamespaces []string `json:"targetNamespaces"`
}

// TLSCertificateDelegationStatus is not written by Isobar (nor Contour).
type TLSCertificateDelegationStatus struct {
	// +optional
	Conditions []DetailedCondition `json:"conditions,omitempty"`
}

// TLSCertificateDelegationList is a list of TLSCertificateDelegations.
//
// +kubebuilder:object:root=true
type TLSCertificateDelegationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []TLSCertificateDelegation `json:"items"`
}
