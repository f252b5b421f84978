package server

import (
	"errors"
	"io"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// unwatched stands for every resource a client does not look at.
var unwatched = &discoverygrpc.Resource{}

// scanResponse fills r's type, nonce and removed names from a
// DeltaDiscoveryResponse's encoding, and a Resource per resource: with its
// name and version when watched is nil or names it, else the shared
// unwatched one (the clients count those).
func scanResponse(p *pieceReader, r *discoverygrpc.DeltaDiscoveryResponse, watched map[string]bool) error {
	for {
		num, n, err := p.field()
		if err == io.EOF {
			return nil
		}
		if err != nil || n < 0 {
			if err != nil {
				return err
			}
			continue
		}
		switch num {
		case 2:
			res, err := scanResource(p, p.pos+n, watched)
			if err != nil {
				return err
			}
			r.Resources = append(r.Resources, res)
		case 4, 5, 6:
			b, err := p.take(n)
			if err != nil {
				return err
			}
			switch s := string(b); num {
			case 4:
				r.TypeUrl = s
			case 5:
				r.Nonce = s
			case 6:
				r.RemovedResources = append(r.RemovedResources, s)
			}
		default:
			if err := p.skip(n); err != nil {
				return err
			}
		}
	}
}

// scanResource reads a Resource's name and version, up to offset end.
func scanResource(p *pieceReader, end int, watched map[string]bool) (*discoverygrpc.Resource, error) {
	var name, version []byte
	for p.pos < end {
		num, n, err := p.field()
		if err != nil {
			return nil, err
		}
		if n < 0 {
			continue
		}
		if num != 1 && num != 3 {
			if err := p.skip(n); err != nil {
				return nil, err
			}
			continue
		}
		b, err := p.take(n)
		if err != nil {
			return nil, err
		}
		if num == 3 {
			name = append(name[:0], b...)
		} else {
			version = append(version[:0], b...)
		}
	}
	if p.pos != end {
		return nil, errors.New("resource overruns its length")
	}
	if watched != nil && !watched[string(name)] {
		return unwatched, nil
	}
	return &discoverygrpc.Resource{Name: string(name), Version: string(version)}, nil
}
