package envoy

import (
	"fmt"
	"regexp"
	"strings"
)

// namedFields are the JSON access log fields a name alone stands for,
// beyond JSONLogFields: Contour's other canonical names.
var namedFields = map[string]string{
	"ts":                     "%START_TIME%",
	"uber_trace_id":          "%REQ(UBER-TRACE-ID)%",
	"x_trace_id":             "%REQ(X-TRACE-ID)%",
	"upstream_local_address": "%UPSTREAM_LOCAL_ADDRESS%",
}

// simpleOperators are Envoy's command operators without arguments that a
// JSON field may name alone (in lower case) or use in its format.
var simpleOperators = toSet(`BYTES_RECEIVED BYTES_SENT CONNECTION_ID CONNECTION_TERMINATION_DETAILS
	DOWNSTREAM_DIRECT_REMOTE_ADDRESS DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT DOWNSTREAM_LOCAL_ADDRESS
	DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT DOWNSTREAM_LOCAL_PORT DOWNSTREAM_LOCAL_SUBJECT DOWNSTREAM_LOCAL_URI_SAN
	DOWNSTREAM_PEER_CERT DOWNSTREAM_PEER_CERT_V_END DOWNSTREAM_PEER_CERT_V_START DOWNSTREAM_PEER_FINGERPRINT_1
	DOWNSTREAM_PEER_FINGERPRINT_256 DOWNSTREAM_PEER_ISSUER DOWNSTREAM_PEER_SERIAL DOWNSTREAM_PEER_SUBJECT
	DOWNSTREAM_PEER_URI_SAN DOWNSTREAM_REMOTE_ADDRESS DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT DOWNSTREAM_TLS_CIPHER
	DOWNSTREAM_TLS_SESSION_ID DOWNSTREAM_TLS_VERSION DURATION GRPC_STATUS HOSTNAME LOCAL_REPLY_BODY PROTOCOL
	REQUESTED_SERVER_NAME REQUEST_DURATION RESPONSE_CODE RESPONSE_CODE_DETAILS RESPONSE_DURATION RESPONSE_FLAGS
	RESPONSE_TX_DURATION ROUTE_NAME START_TIME UPSTREAM_CLUSTER UPSTREAM_HOST UPSTREAM_LOCAL_ADDRESS
	UPSTREAM_TRANSPORT_FAILURE_REASON`)

// argOperators are the command operators that take an argument; METADATA
// reads the route's source object (kind, namespace, name).
var argOperators = toSet(`REQ RESP TRAILER REQ_WITHOUT_QUERY START_TIME METADATA`)

func toSet(words string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(words) {
		out[w] = true
	}
	return out
}

// operator finds Envoy command operators: name, (argument), :truncation.
var operator = regexp.MustCompile(`%([A-Z_]*)(\([^)]*\))?(:[0-9]+)?%`)

// JSONFields resolves Contour's json-fields list: each entry is a field
// name Contour knows ("@timestamp", "uber_trace_id"), the lower-case name
// of an Envoy command operator without arguments ("grpc_status"), or
// "name=format" with Envoy command operators in format
// ("host=%REQ(:AUTHORITY)%"). It returns the fields by name, or an error
// naming the first entry that is none of these.
func JSONFields(entries []string) (map[string]string, error) {
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		name, format, custom := strings.Cut(e, "=")
		switch {
		case name == "":
			return nil, fmt.Errorf("JSON field %q: no name", e)
		case custom:
			if err := checkFormat(format); err != nil {
				return nil, fmt.Errorf("JSON field %q: %w", e, err)
			}
			out[name] = format
		case JSONLogFields[name] != "":
			out[name] = JSONLogFields[name]
		case namedFields[name] != "":
			out[name] = namedFields[name]
		case simpleOperators[strings.ToUpper(name)]:
			out[name] = "%" + strings.ToUpper(name) + "%"
		default:
			return nil, fmt.Errorf("JSON field %q: not a field Contour names nor an Envoy command operator; write name=format for others", e)
		}
	}
	return out, nil
}

// checkFormat refuses a format that is empty or uses a command operator
// Envoy does not have, or without the argument it needs.
func checkFormat(format string) error {
	if format == "" {
		return fmt.Errorf("empty format")
	}
	for _, m := range operator.FindAllStringSubmatch(format, -1) {
		op, arg, trunc := m[1], m[2], m[3]
		switch {
		case op == "":
			return fmt.Errorf("%q is not a command operator", m[0])
		case !simpleOperators[op] && !argOperators[op]:
			return fmt.Errorf("%q: Envoy has no command operator %s", m[0], op)
		case arg == "" && argOperators[op] && !simpleOperators[op]:
			return fmt.Errorf("%q: %s needs an argument", m[0], op)
		case op == "START_TIME" && trunc != "":
			return fmt.Errorf("%q: START_TIME cannot be truncated", m[0])
		}
	}
	return nil
}

// CheckTextFormat refuses a line for the envoy access log format that does
// not end with a line break or uses a command operator Envoy does not have.
func CheckTextFormat(text string) error {
	if !strings.HasSuffix(text, "\n") {
		return fmt.Errorf("access log format string %q must end with a line break", text)
	}
	if err := checkFormat(text); err != nil {
		return fmt.Errorf("access log format string %q: %w", text, err)
	}
	return nil
}
