package source

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Origin says where an object was read from. Objects from a cluster have none.
type Origin struct {
	File string `json:"file,omitempty"`
	// Doc is the 1-based index of the document in File.
	Doc int `json:"doc,omitempty"`
	// Line is the 1-based line where the document starts.
	Line int `json:"line,omitempty"`
}

// Index holds every object the core reads, keyed by namespace/name.
// EndpointSlices are grouped by the Service they belong to (the
// kubernetes.io/service-name label). The zero value is not usable; call
// NewIndex.
type Index struct {
	Namespaces map[string]*corev1.Namespace
	// Services are what the core reads of each Service (see Service).
	Services map[types.NamespacedName]*Service
	// EndpointSlices, by Service, each Service's sorted by name (most
	// Services have one: a slice of one pointer, where a map took 250
	// bytes), are copied on write shard by shard (see Objects); a
	// Service's slice is replaced, never written, once the index has been
	// snapshotted.
	EndpointSlices Objects[[]*EndpointSlice]
	Endpoints      map[types.NamespacedName]*corev1.Endpoints
	Secrets        map[types.NamespacedName]*corev1.Secret
	Ingresses      map[types.NamespacedName]*networkingv1.Ingress
	IngressClasses map[string]*networkingv1.IngressClass
	// HTTPProxies are copied on write shard by shard (see Objects).
	HTTPProxies   Objects[*contourv1.HTTPProxy]
	Delegations   map[types.NamespacedName]*contourv1.TLSCertificateDelegation
	IngressRoutes map[types.NamespacedName]*heptiov1beta1.IngressRoute
	// LegacyDelegations are contour.heptio.com/v1beta1 TLSCertificateDelegations.
	LegacyDelegations map[types.NamespacedName]*heptiov1beta1.TLSCertificateDelegation
	// ExtensionServices are projectcontour.io/v1alpha1 ExtensionServices.
	ExtensionServices map[types.NamespacedName]*contourv1alpha1.ExtensionService

	// Origins records where each object came from, when known and asked
	// for (LoadOptions.Origins).
	Origins map[status.Ref]Origin
	// Notes are observations made while indexing that are not errors (an
	// object converted from a removed API version, a default namespace
	// applied...). Load fills them; the graph turns them into findings.
	Notes []status.Finding

	// shared has a bit per map that a Snapshot may share (see own);
	// snapshotted is set once Snapshot has been called.
	shared      uint16
	snapshotted bool
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return &Index{
		Namespaces:        map[string]*corev1.Namespace{},
		Services:          map[types.NamespacedName]*Service{},
		Endpoints:         map[types.NamespacedName]*corev1.Endpoints{},
		Secrets:           map[types.NamespacedName]*corev1.Secret{},
		Ingresses:         map[types.NamespacedName]*networkingv1.Ingress{},
		IngressClasses:    map[string]*networkingv1.IngressClass{},
		Delegations:       map[types.NamespacedName]*contourv1.TLSCertificateDelegation{},
		IngressRoutes:     map[types.NamespacedName]*heptiov1beta1.IngressRoute{},
		LegacyDelegations: map[types.NamespacedName]*heptiov1beta1.TLSCertificateDelegation{},
		ExtensionServices: map[types.NamespacedName]*contourv1alpha1.ExtensionService{},
		Origins:           map[status.Ref]Origin{},
	}
}

// Key returns the map key for namespace/name.
func Key(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// SortedKeys returns the keys of m sorted by namespace, then name. Processors
// iterate through it so that output never depends on map order.
func SortedKeys[V any](m map[types.NamespacedName]V) []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

// sortKeys sorts keys by namespace, then name.
func sortKeys(keys []types.NamespacedName) { slices.SortFunc(keys, CompareKeys) }

// CompareKeys orders keys by namespace, then name: SortedKeys' order.
func CompareKeys(a, b types.NamespacedName) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// ServiceLabel is the EndpointSlice label naming the Service it belongs to.
const ServiceLabel = discoveryv1.LabelServiceName
