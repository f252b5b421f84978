package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// TLSFiles name the server's certificate, key and the CA client
// certificates must chain to. The files are re-read when they change, so a
// rotated certificate takes effect for new connections without a restart.
type TLSFiles struct {
	CAFile, CertFile, KeyFile string

	mu      sync.Mutex
	stamp   string
	current *tls.Config
}

// config returns the server tls.Config: TLS 1.3 only, client certificates
// required and verified.
func (f *TLSFiles) config() (*tls.Config, error) {
	if _, err := f.load(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return f.load()
		},
	}, nil
}

// load returns the config for the current files, re-reading them when a
// modification time or size changed.
func (f *TLSFiles) load() (*tls.Config, error) {
	stamp := ""
	for _, p := range []string{f.CAFile, f.CertFile, f.KeyFile} {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		stamp += fmt.Sprintf("%s|%d|%d;", p, st.ModTime().UnixNano(), st.Size())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if stamp == f.stamp && f.current != nil {
		return f.current, nil
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("xDS TLS certificate: %w", err)
	}
	ca, err := os.ReadFile(f.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("xDS TLS CA %s holds no certificate", f.CAFile)
	}
	f.current = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		Time:         time.Now,
	}
	f.stamp = stamp
	return f.current, nil
}
