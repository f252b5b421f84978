package kube

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// readVerbs are the verbs an informer needs.
var readVerbs = []string{"list", "watch"}

// required says whether the core cannot do without obj's kind: with it
// unreadable the configuration would be wrong, not merely poorer, so the
// watcher refuses to start. Endpoints (EndpointSlices are read),
// IngressClasses, ExtensionServices, the heptio kinds and Namespaces are
// optional (Contour's own ClusterRole grants some of them no access);
// Namespaces are required with Options.RequireNamespaces, where their
// annotations grant includes.
func required(obj client.Object, opts Options) bool {
	switch obj.(type) {
	case *corev1.Service, *corev1.Secret, *discoveryv1.EndpointSlice, *networkingv1.Ingress,
		*contourv1.HTTPProxy, *contourv1.TLSCertificateDelegation:
		return true
	case *corev1.Namespace:
		return opts.RequireNamespaces
	}
	return false
}

// accessChecker asks the API server what the account serve runs as may do,
// with SelfSubjectAccessReviews, before informers that would otherwise
// retry a forbidden list for ever and never sync.
type accessChecker struct {
	client     authorizationclient.SelfSubjectAccessReviewInterface
	namespaces []string // the watched namespaces; none: the whole cluster
}

func newAccessChecker(cfg *rest.Config, httpClient *http.Client, namespaces []string) (*accessChecker, error) {
	c, err := authorizationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return &accessChecker{client: c.SelfSubjectAccessReviews(), namespaces: namespaces}, nil
}

// denied returns what the account may not do of listing and watching the
// resource of mapping, as "verb resource" phrases (with " in namespace"
// when namespaces are watched); none when it may. A review that fails
// counts as allowed: the informer then says what is wrong.
func (a *accessChecker) denied(ctx context.Context, mapping *meta.RESTMapping) []string {
	namespaces := []string{""}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace && len(a.namespaces) > 0 {
		namespaces = a.namespaces
	}
	var out []string
	for _, ns := range namespaces {
		for _, verb := range readVerbs {
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb,
					Group: mapping.Resource.Group, Version: mapping.Resource.Version, Resource: mapping.Resource.Resource}}}
			res, err := a.client.Create(ctx, review, metav1.CreateOptions{})
			if err != nil || res.Status.Allowed {
				continue
			}
			what := verb + " " + resourceName(mapping)
			if ns != "" {
				what += " in namespace " + ns
			}
			out = append(out, what)
		}
	}
	return out
}

// resourceName is the resource of mapping as RBAC rules name it:
// "secrets", "httpproxies.projectcontour.io".
func resourceName(mapping *meta.RESTMapping) string {
	if mapping.Resource.Group == "" {
		return mapping.Resource.Resource
	}
	return mapping.Resource.Resource + "." + mapping.Resource.Group
}

// forbiddenError is the error of a required kind the account may not read.
func forbiddenError(kind string, denied []string) error {
	return fmt.Errorf("%s: the account serve runs as may not %s: grant it get, list and watch (Contour's ClusterRole does)",
		kind, strings.Join(denied, ", "))
}
