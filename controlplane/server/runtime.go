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

// setRuntime puts r in the runtime cache as its first revision; a layer
// that is not valid is not served and the failure is logged.
func (s *Server) setRuntime(r *runtimev3.Runtime) {
	if err := r.Validate(); err != nil {
		s.opts.Logger.Error("runtime layer not served", "error", err)
		return
	}
	t := resourcev3.RuntimeType
	if len(s.putFixed(t, []snapshot.Item{{Name: r.GetName(), Resource: r}})) == 1 {
		s.metrics.resources.WithLabelValues(shortType(t)).Set(1)
	}
}
