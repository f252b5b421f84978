package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, cn string) *ca {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ca{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a certificate for cn (server and client usage).
func (a *ca) leaf(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMutualTLS: clients without a certificate or with one from a foreign
// CA are refused; a trusted client gets its config; a rotated server
// certificate on disk is used for new connections without a restart.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	trusted, foreign := newCA(t, "isobar-ca"), newCA(t, "foreign-ca")
	scrt, skey := trusted.leaf(t, "localhost")
	files := &TLSFiles{CAFile: write(t, dir, "ca.crt", trusted.pem), CertFile: write(t, dir, "tls.crt", scrt), KeyFile: write(t, dir, "tls.key", skey)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(Options{Address: "127.0.0.1", TLS: files})
	go func() { _ = s.Run(ctx) }()
	if err := s.SetResources(ctx, compiled(t, "fixtures/seeds/talk-basic")); err != nil {
		t.Fatal(err)
	}
	<-s.Listening()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(trusted.pem)
	fetch := func(cfg *tls.Config) error {
		cfg.RootCAs, cfg.ServerName, cfg.MinVersion = roots, "localhost", tls.VersionTLS12
		conn, err := grpc.NewClient(s.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			return err
		}
		defer conn.Close()
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		stream, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(cctx)
		if err != nil {
			return err
		}
		if err := stream.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType}); err != nil {
			return err
		}
		_, err = stream.Recv()
		return err
	}
	clientCert := func(a *ca) []tls.Certificate {
		c, k := a.leaf(t, "envoy")
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{pair}
	}
	if err := fetch(&tls.Config{}); err == nil {
		t.Error("a client without a certificate was served")
	}
	if err := fetch(&tls.Config{Certificates: clientCert(foreign)}); err == nil {
		t.Error("a client with a foreign CA's certificate was served")
	}
	if err := fetch(&tls.Config{Certificates: clientCert(trusted)}); err != nil {
		t.Fatalf("a trusted client was refused: %v", err)
	}
	// Rotate the server certificate on disk: new handshakes present it.
	time.Sleep(10 * time.Millisecond)
	ncrt, nkey := trusted.leaf(t, "localhost")
	write(t, dir, "tls.crt", ncrt)
	write(t, dir, "tls.key", nkey)
	var seen []byte
	cfg := &tls.Config{Certificates: clientCert(trusted), VerifyConnection: func(cs tls.ConnectionState) error {
		seen = cs.PeerCertificates[0].Raw
		return nil
	}}
	if err := fetch(cfg); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	block, _ := pem.Decode(ncrt)
	if string(seen) != string(block.Bytes) {
		t.Error("the rotated certificate was not used for a new connection")
	}
}
