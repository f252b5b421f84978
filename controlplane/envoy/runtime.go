package envoy

import (
	"fmt"
	"sort"

	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// RuntimeLayerName is the name of the runtime layer the xDS server serves
// over RTDS, and of the layer Envoy's bootstrap asks for: Contour's
// "dynamic", so that an Envoy started from Contour's bootstrap gets it too.
const RuntimeLayerName = "dynamic"

// The runtime keys the layer always sets: RE2's program size limits.
// Envoy refuses a regular expression whose compiled program is larger
// than the error level, 100 by default, which a route such as
// `/static/[a-z0-9._-]{0,200}` exceeds; Contour raises it to 1 MiB and
// logs a warning above 1,000, and so does Isobar.
const (
	RegexMaxProgramSizeError = 1 << 20
	RegexMaxProgramSizeWarn  = 1000
)

// Runtime keys the layer manages; RuntimeOptions.Settings cannot set them.
const (
	runtimeRegexError      = "re2.max_program_size.error_level"
	runtimeRegexWarn       = "re2.max_program_size.warn_level"
	runtimeRequestsPerIO   = "http.max_requests_per_io_cycle"
	runtimeListenerLimitFm = "envoy.resource_limits.listener.%s.connection_limit"
)

// RuntimeOptions are the settings of the runtime layer, Contour's
// listener.max-requests-per-io-cycle, listener.max-connections-per-listener
// and runtime-settings.
type RuntimeOptions struct {
	// MaxRequestsPerIOCycle limits the HTTP requests Envoy processes from
	// one connection in one I/O cycle (0: no limit).
	MaxRequestsPerIOCycle uint32
	// MaxConnectionsPerListener limits the active connections of each of
	// Listeners (0: no limit).
	MaxConnectionsPerListener uint32
	Listeners                 []string
	// Settings are other runtime keys, as strings (Envoy reads a string as
	// a number or a boolean where it needs one).
	Settings map[string]string
}

// RuntimeLayer returns the runtime layer o describes, named
// RuntimeLayerName, and the keys of o.Settings that it did not take,
// sorted: those the layer manages (the RE2 limits always; the other two
// when their option is set), as Contour skips them.
func RuntimeLayer(o RuntimeOptions) (*runtimev3.Runtime, []string) {
	fields := map[string]*structpb.Value{
		runtimeRegexError: structpb.NewNumberValue(RegexMaxProgramSizeError),
		runtimeRegexWarn:  structpb.NewNumberValue(RegexMaxProgramSizeWarn),
	}
	if o.MaxRequestsPerIOCycle > 0 {
		fields[runtimeRequestsPerIO] = structpb.NewNumberValue(float64(o.MaxRequestsPerIOCycle))
	}
	if o.MaxConnectionsPerListener > 0 {
		for _, l := range o.Listeners {
			fields[fmt.Sprintf(runtimeListenerLimitFm, l)] = structpb.NewNumberValue(float64(o.MaxConnectionsPerListener))
		}
	}
	var skipped []string
	for k, v := range o.Settings {
		if _, managed := fields[k]; managed {
			skipped = append(skipped, k)
			continue
		}
		fields[k] = structpb.NewStringValue(v)
	}
	sort.Strings(skipped)
	return &runtimev3.Runtime{Name: RuntimeLayerName, Layer: &structpb.Struct{Fields: fields}}, skipped
}
