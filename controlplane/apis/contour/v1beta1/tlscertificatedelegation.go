package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TLSCertificateDelegation (heptio era) lets IngressRoutes in other
// namespaces use Secrets of its namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,path=tlscertificatedelegations,singular=tlscertificatedelegation
type TLSCertificateDelegation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec TLSCertificateDelegationSpec `json:"spec"`
}

// TLSCertificateDelegationSpec lists the delegations.
type TLSCertificateDelegationSpec struct {
	Delegations []CertificateDelegation `json:"delegations"`
}

// CertificateDelegation lets TargetNamespaces ("*" for all) use SecretName.
type CertificateDelegation struct {
	SecretName       string   `json:"secretName"`
	TargetNamespaces []string `json:"targetNamespaces"`
}

// TLSCertificateDelegationList is a list of TLSCertificateDelegations.
//
// +kubebuilder:object:root=true
type TLSCertificateDelegationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []TLSCertificateDelegation `json:"items"`
}
