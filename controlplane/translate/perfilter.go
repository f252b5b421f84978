package translate

import "google.golang.org/protobuf/types/known/anypb"

// setPerFilter puts cfg under the HTTP filter named filter in the
// per-filter configuration config points at (a virtual host's, a route's
// or a weighted cluster's typed_per_filter_config, allocated when nil),
// keeping the other filters' entries: CORS, rate limits, RBAC, JWT,
// authorization and Lua configurations sit side by side.
func setPerFilter(config *map[string]*anypb.Any, filter string, cfg *anypb.Any) {
	if *config == nil {
		*config = map[string]*anypb.Any{}
	}
	(*config)[filter] = cfg
}
