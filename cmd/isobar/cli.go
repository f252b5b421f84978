package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/spf13/cobra"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// cliFlags are the flags of `isobar cli`, Contour's.
type cliFlags struct {
	caFile, certFile, keyFile, addr, nodeID string
	delta, nack, once, showSecrets          bool
}

// cliTypes are the subcommands of `isobar cli` and the types they watch.
var cliTypes = []struct{ cmd, typ, what string }{
	{"cds", resourcev3.ClusterType, "clusters"}, {"eds", resourcev3.EndpointType, "ClusterLoadAssignments"},
	{"lds", resourcev3.ListenerType, "listeners"}, {"rds", resourcev3.RouteType, "route configurations"},
	{"sds", resourcev3.SecretType, "secrets"}, {"rtds", resourcev3.RuntimeType, "runtime layers"},
}

func newCliCmd() *cobra.Command {
	f := cliFlags{addr: "127.0.0.1:8001", nodeID: "ContourCLI", caFile: os.Getenv("CLI_CAFILE"), certFile: os.Getenv("CLI_CERT_FILE"),
		keyFile: os.Getenv("CLI_KEY_FILE")}
	if id := os.Getenv("CLI_NODE_ID"); id != "" {
		f.nodeID = id
	}
	cmd := &cobra.Command{
		Use:   "cli",
		Short: "Watch what the xDS server serves, as an Envoy would (Contour's cli)",
		Long: `cli connects to the xDS server as an Envoy would and prints every answer for
one type, as JSON, ACKing each (--nack: rejecting each), until interrupted
(--once: after the first). Names given after the type subscribe to those
resources alone. Private keys are redacted unless --show-secrets. The server
is --contour (127.0.0.1:8001); with --cafile, --cert-file and --key-file
(or CLI_CAFILE, CLI_CERT_FILE, CLI_KEY_FILE) over mutual TLS, the server
named "contour" as certgen names it.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.caFile, "cafile", f.caFile, "CA bundle of the server's certificate")
	pf.StringVar(&f.certFile, "cert-file", f.certFile, "client certificate")
	pf.StringVar(&f.keyFile, "key-file", f.keyFile, "client key")
	pf.StringVar(&f.addr, "contour", f.addr, "the xDS server, host:port")
	pf.BoolVar(&f.delta, "delta", false, "incremental xDS instead of state of the world")
	pf.BoolVar(&f.nack, "nack", false, "reject every answer (for testing)")
	pf.StringVar(&f.nodeID, "node-id", f.nodeID, "node ID the client gives")
	pf.BoolVar(&f.once, "once", false, "exit after the first answer")
	pf.BoolVar(&f.showSecrets, "show-secrets", false, "print private keys")
	for _, t := range cliTypes {
		cmd.AddCommand(&cobra.Command{
			Use:   t.cmd + " [NAME...]",
			Short: "Watch " + t.what,
			RunE: func(cmd *cobra.Command, names []string) error {
				return runCli(cmd.Context(), f, t.typ, names, cmd.OutOrStdout())
			},
		})
	}
	return cmd
}

// dial connects to the server, over mutual TLS when files are given.
func (f cliFlags) dial() (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if f.caFile != "" || f.certFile != "" || f.keyFile != "" {
		if f.caFile == "" || f.certFile == "" || f.keyFile == "" {
			return nil, errors.New("--cafile, --cert-file and --key-file go together")
		}
		pair, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
		if err != nil {
			return nil, err
		}
		ca, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("--cafile %s: no certificate", f.caFile)
		}
		creds = credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: "contour", MinVersion: tls.VersionTLS12})
	}
	return grpc.NewClient(f.addr, grpc.WithTransportCredentials(creds))
}

func runCli(ctx context.Context, f cliFlags, typ string, names []string, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	conn, err := f.dial()
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	defer conn.Close()
	ads := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn)
	node := &corev3.Node{Id: f.nodeID}
	if f.delta {
		return watchDelta(ctx, f, ads, node, typ, names, out)
	}
	st, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	req := &discoverygrpc.DiscoveryRequest{TypeUrl: typ, ResourceNames: names, Node: node}
	for {
		if err := st.Send(req); err != nil {
			return err
		}
		resp, err := st.Recv()
		if err != nil {
			return err
		}
		if err := f.print(out, resp, resp.GetResources()); err != nil || f.once {
			return err
		}
		req = &discoverygrpc.DiscoveryRequest{TypeUrl: typ, ResourceNames: names, VersionInfo: resp.GetVersionInfo(),
			ResponseNonce: resp.GetNonce(), ErrorDetail: f.rejection()}
	}
}

// watchDelta is runCli over incremental xDS.
func watchDelta(ctx context.Context, f cliFlags, ads discoverygrpc.AggregatedDiscoveryServiceClient, node *corev3.Node, typ string,
	names []string, out io.Writer) error {
	st, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	req := &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: names, Node: node}
	for {
		if err := st.Send(req); err != nil {
			return err
		}
		resp, err := st.Recv()
		if err != nil {
			return err
		}
		anys := make([]*anypb.Any, len(resp.GetResources()))
		for i, r := range resp.GetResources() {
			anys[i] = r.GetResource()
		}
		if err := f.print(out, resp, anys); err != nil || f.once {
			return err
		}
		req = &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResponseNonce: resp.GetNonce(), ErrorDetail: f.rejection()}
	}
}

// rejection is the error an answer is NACKed with (--nack), nil to ACK.
func (f cliFlags) rejection() *statuspb.Status {
	if !f.nack {
		return nil
	}
	return &statuspb.Status{Code: 3, Message: "rejected by isobar cli --nack"}
}

// print writes an answer as indented JSON, private keys redacted in its
// resources (anys) unless --show-secrets.
func (f cliFlags) print(out io.Writer, resp proto.Message, anys []*anypb.Any) error {
	if !f.showSecrets {
		for _, a := range anys {
			var s tlsv3.Secret
			if a.GetTypeUrl() != resourcev3.SecretType || a.UnmarshalTo(&s) != nil {
				continue
			}
			if err := a.MarshalFrom(xds.Redact(&s)); err != nil {
				return err
			}
		}
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(resp)
	if err != nil {
		return err
	}
	var ind bytes.Buffer // protojson's spacing varies on purpose: indent it the same way every time
	if err := json.Indent(&ind, b, "", "  "); err != nil {
		return err
	}
	ind.WriteByte('\n')
	_, err = out.Write(ind.Bytes())
	return err
}
