package main

import (
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
	"github.com/isobar-dev/isobar/operator/controller"
	"github.com/isobar-dev/isobar/operator/objects"
)

func newOperatorCmd() *cobra.Command {
	var images objects.Images
	var kubeconfig, metricsAddr, leaseNS string
	var leader bool
	var memRatio float64
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the operator: a Contour resource becomes an Isobar control plane and an Envoy fleet",
		Long: `operator reconciles operator.projectcontour.io/v1alpha1 Contour resources: for
each it deploys, in spec.namespace.name (default projectcontour), the RBAC,
xDS mTLS certificates, configuration, the Isobar control plane Deployment
(spec.replicas, default 2), the Envoy DaemonSet and their Services, repairs
drift, and reports Available (ContourAvailable / ContourUnavailable).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
			ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
			applyMemoryLimit(memRatio, log)
			cfg, err := restConfig(kubeconfig)
			if err != nil {
				return exitWith(exitBadInput, err)
			}
			scheme := runtime.NewScheme()
			utilruntime.Must(clientgoscheme.AddToScheme(scheme))
			utilruntime.Must(operatorv1alpha1.AddToScheme(scheme))
			mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: metricsAddr},
				LeaderElection: leader, LeaderElectionID: "isobar-operator", LeaderElectionNamespace: leaseNS})
			if err != nil {
				return err
			}
			if err := (&controller.Reconciler{Client: mgr.GetClient(), Images: images}).SetupWithManager(mgr); err != nil {
				return err
			}
			return mgr.Start(ctrl.SetupSignalHandler())
		},
	}
	f := cmd.Flags()
	f.StringVar(&images.Isobar, "isobar-image", objects.DefaultIsobar, "image of the Isobar control plane (and the bootstrap init container)")
	f.StringVar(&images.Envoy, "envoy-image", objects.DefaultEnvoy, "image of Envoy")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration)")
	f.StringVar(&metricsAddr, "metrics-address", ":8080", "address of the operator's metrics (0 disables)")
	f.BoolVar(&leader, "leader-election", true, "elect a leader among operator replicas")
	f.StringVar(&leaseNS, "leader-election-namespace", "isobar-operator", "namespace of the operator's Lease")
	f.Float64Var(&memRatio, "memory-limit-ratio", 0.9, memoryLimitRatioUsage)
	return cmd
}
