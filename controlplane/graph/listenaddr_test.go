package graph

import (
	"strings"
	"testing"
)

// TestListenerAddresses: the listeners' addresses default to 0.0.0.0,
// are written as Go prints the IP (so that equal settings give equal
// listeners), and must be IPs without a zone; the PROXY protocol setting
// is carried to the listeners.
func TestListenerAddresses(t *testing.T) {
	t.Parallel()
	o, err := Connections{}.Listener()
	if err != nil || o.HTTPAddress != "0.0.0.0" || o.HTTPSAddress != "0.0.0.0" || o.ProxyProtocol {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = Connections{HTTPAddress: "0:0::0", HTTPSAddress: "10.0.0.5", UseProxyProtocol: true}.Listener()
	if err != nil || o.HTTPAddress != "::" || o.HTTPSAddress != "10.0.0.5" || !o.ProxyProtocol {
		t.Fatalf("set: %+v, %v", o, err)
	}
	for _, c := range []Connections{{HTTPAddress: "localhost"}, {HTTPSAddress: "fe80::1%eth0"}} {
		if _, err := c.Listener(); err == nil || !strings.Contains(err.Error(), "not an IP address") {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
