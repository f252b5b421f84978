// Package scenario loads and replays `isobar sim` scenarios: YAML files
// under fixtures/scenarios/ whose steps apply, update or delete objects and
// then state what must hold — statuses, findings, request answers — plus a
// golden xDS document per step under golden/scenarios/<scenario>/<step>.yaml.
//
// Every step is also checked for transition safety (a probe request routed
// before the step is still routed after it, unless the step lists it in
// allowUnrouted) and for order independence (applying the step's objects in
// other orders gives the same result).
package scenario
