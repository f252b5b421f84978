package server

import (
	"errors"
	"fmt"

	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
)

// CheckRuntime returns an error when r cannot be served as Options.Runtime:
// it is not valid (go-control-plane's Validate: it needs a name) or cannot
// be encoded (a key or value that is not UTF-8).
func CheckRuntime(r *runtimev3.Runtime) error {
	if r == nil {
		return errors.New("no runtime layer")
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("runtime layer: %w", err)
	}
	if _, _, err := snapshot.Encode(r); err != nil {
		return fmt.Errorf("runtime layer %q: %w", r.GetName(), err)
	}
	return nil
}

// setRuntime puts r in the runtime cache as its first revision. A layer
// CheckRuntime refuses is not served (New's caller checks it first) and
// the failure is logged.
func (s *Server) setRuntime(r *runtimev3.Runtime) {
	if err := CheckRuntime(r); err != nil {
		s.opts.Logger.Error("runtime layer not served", "error", err)
		return
	}
	b, v, _ := snapshot.Encode(r)
	t := resourcev3.RuntimeType
	s.deltas[t].update([]wired{newWired(t, r.GetName(), snapshot.Encoding{Head: b, Version: v})}, nil)
	s.versions[t][r.GetName()] = v
	s.metrics.resources.WithLabelValues(shortType(t)).Set(1)
}
