package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/internal/xdscert"
)

// certgenFlags are the flags of `isobar certgen`, Contour's.
type certgenFlags struct {
	kube, inCluster, overwrite, pem, yaml bool
	kubeconfig, namespace, format, suffix string
	lifetimeDays                          uint
	outputDir                             string
	// now is the certificates' start (tests set it; default the clock).
	now time.Time
}

func newCertgenCmd() *cobra.Command {
	f := certgenFlags{namespace: "projectcontour", format: "legacy", lifetimeDays: 365, outputDir: "certs"}
	if ns := os.Getenv("CONTOUR_NAMESPACE"); ns != "" {
		f.namespace = ns
	}
	if home, err := os.UserHomeDir(); err == nil {
		f.kubeconfig = filepath.Join(home, ".kube", "config")
	}
	cmd := &cobra.Command{
		Use:   "certgen [OUTPUTDIR]",
		Short: "Generate the xDS connection's TLS certificates (Contour's certgen)",
		Long: `certgen issues a CA and the certificates of the xDS connection's mutual TLS,
as Contour's certgen does (its Job in Contour's installation runs unchanged):
contourcert for the control plane's Service "contour" and envoycert for
Envoy's, each valid for its Service's names in --namespace, for
--certificate-lifetime days. --kube writes them as Secrets (in the cluster,
--incluster, or with --kubeconfig), --yaml as Secret manifests and --pem as
PEM files (cacert.pem, contourcert.pem, contourkey.pem, envoycert.pem,
envoykey.pem) into OUTPUTDIR (default certs). --secrets-format compact puts
ca.crt, tls.crt and tls.key in each of contourcert and envoycert; legacy
(the default) puts the CA apart, in the Opaque Secret cacert (cacert.pem).
Existing Secrets and files are kept unless --overwrite.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.outputDir = args[0]
			}
			return runCertgen(cmd.Context(), &f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.kube, "kube", false, "write the Secrets to the cluster")
	fl.BoolVar(&f.inCluster, "incluster", false, "use the in-cluster configuration")
	fl.StringVar(&f.kubeconfig, "kubeconfig", f.kubeconfig, "kubeconfig file (without --incluster)")
	fl.StringVar(&f.namespace, "namespace", f.namespace, "namespace of the Services and Secrets ($CONTOUR_NAMESPACE)")
	fl.BoolVar(&f.overwrite, "overwrite", false, "replace existing Secrets and files")
	fl.BoolVar(&f.pem, "pem", false, "write PEM files into OUTPUTDIR")
	fl.BoolVar(&f.yaml, "yaml", false, "write Secret manifests into OUTPUTDIR")
	fl.StringVar(&f.format, "secrets-format", f.format, "legacy or compact")
	fl.StringVar(&f.suffix, "secrets-name-suffix", "", "appended to the Secrets' names")
	fl.UintVar(&f.lifetimeDays, "certificate-lifetime", f.lifetimeDays, "days the certificates are valid")
	return cmd
}

func runCertgen(ctx context.Context, f *certgenFlags, out io.Writer) error {
	secrets, err := f.secrets()
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	if f.pem {
		if err := f.writePEM(secrets, out); err != nil {
			return err
		}
	}
	if f.yaml {
		for _, s := range secrets {
			b, err := yaml.Marshal(s)
			if err == nil {
				err = f.writeFile(s.Name+".yaml", b, out)
			}
			if err != nil {
				return err
			}
		}
	}
	if f.kube {
		return f.writeKube(ctx, secrets, out)
	}
	return nil
}

// secrets issues the certificates and returns them as the Secrets of the
// chosen format.
func (f *certgenFlags) secrets() ([]*corev1.Secret, error) {
	if f.format != "legacy" && f.format != "compact" {
		return nil, fmt.Errorf("--secrets-format %q: must be legacy or compact", f.format)
	}
	if errs := validation.IsDNS1123Label(f.namespace); len(errs) > 0 {
		return nil, fmt.Errorf("--namespace %q: %s", f.namespace, errs[0])
	}
	if errs := validation.IsDNS1123Subdomain("contourcert" + f.suffix); len(errs) > 0 {
		return nil, fmt.Errorf("--secrets-name-suffix %q: %s", f.suffix, errs[0])
	}
	if f.lifetimeDays == 0 {
		return nil, errors.New("--certificate-lifetime 0: certificates must last at least a day")
	}
	now := f.now
	if now.IsZero() {
		now = time.Now()
	}
	set, err := xdscert.Issue(xdscert.Options{Namespace: f.namespace, Server: "contour", Client: "envoy", Now: now,
		Lifetime: time.Duration(f.lifetimeDays) * 24 * time.Hour, CAName: "Isobar xDS CA"})
	if err != nil {
		return nil, err
	}
	secret := func(typ corev1.SecretType, name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: name + f.suffix, Namespace: f.namespace}, Type: typ, Data: data}
	}
	if f.format == "compact" {
		return []*corev1.Secret{
			secret(corev1.SecretTypeTLS, "contourcert", map[string][]byte{"ca.crt": set.CA, "tls.crt": set.ServerCert, "tls.key": set.ServerKey}),
			secret(corev1.SecretTypeTLS, "envoycert", map[string][]byte{"ca.crt": set.CA, "tls.crt": set.ClientCert, "tls.key": set.ClientKey}),
		}, nil
	}
	return []*corev1.Secret{
		secret(corev1.SecretTypeTLS, "contourcert", map[string][]byte{"tls.crt": set.ServerCert, "tls.key": set.ServerKey}),
		secret(corev1.SecretTypeTLS, "envoycert", map[string][]byte{"tls.crt": set.ClientCert, "tls.key": set.ClientKey}),
		secret(corev1.SecretTypeOpaque, "cacert", map[string][]byte{"cacert.pem": set.CA}),
	}, nil
}

// writePEM writes Contour's five PEM files from the Secrets.
func (f *certgenFlags) writePEM(secrets []*corev1.Secret, out io.Writer) error {
	by := map[string]*corev1.Secret{}
	for _, s := range secrets {
		by[s.Name[:len(s.Name)-len(f.suffix)]] = s
	}
	ca := by["contourcert"].Data["ca.crt"]
	if c, ok := by["cacert"]; ok {
		ca = c.Data["cacert.pem"]
	}
	for _, p := range []struct {
		file string
		data []byte
	}{{"cacert.pem", ca}, {"contourcert.pem", by["contourcert"].Data["tls.crt"]}, {"contourkey.pem", by["contourcert"].Data["tls.key"]},
		{"envoycert.pem", by["envoycert"].Data["tls.crt"]}, {"envoykey.pem", by["envoycert"].Data["tls.key"]}} {
		if err := f.writeFile(p.file, p.data, out); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes name into the output folder (mode 0600), refusing to
// replace a file without --overwrite.
func (f *certgenFlags) writeFile(name string, data []byte, out io.Writer) error {
	path := filepath.Join(f.outputDir, name)
	if err := os.MkdirAll(f.outputDir, 0o755); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !f.overwrite {
		flags |= os.O_EXCL
	}
	file, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w (--overwrite replaces it)", path, err)
	}
	if _, err := file.Write(data); err != nil {
		file.Close()
		return err
	}
	fmt.Fprintf(out, "%s created\n", path)
	return file.Close()
}

// writeKube creates the Secrets, replacing existing ones only with
// --overwrite.
func (f *certgenFlags) writeKube(ctx context.Context, secrets []*corev1.Secret, out io.Writer) error {
	kubeconfig := f.kubeconfig
	if f.inCluster {
		kubeconfig = ""
	}
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, s := range secrets {
		_, err := cs.CoreV1().Secrets(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		switch {
		case err == nil:
			fmt.Fprintf(out, "secret/%s created\n", s.Name)
		case apierrors.IsAlreadyExists(err) && !f.overwrite:
			fmt.Fprintf(out, "secret/%s already exists\n", s.Name)
		case apierrors.IsAlreadyExists(err):
			if _, err := cs.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
				return err
			}
			fmt.Fprintf(out, "secret/%s updated\n", s.Name)
		default:
			return err
		}
	}
	return nil
}
