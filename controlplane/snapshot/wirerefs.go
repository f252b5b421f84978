package snapshot

import (
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the messages References reads from their encodings
// (from the protobuf tags of go-control-plane's generated code).
const (
	hcmRds          protowire.Number = 3  // HttpConnectionManager.rds (oneof route_specifier)
	hcmRouteConfig  protowire.Number = 4  // HttpConnectionManager.route_config (same oneof)
	hcmScopedRoutes protowire.Number = 31 // HttpConnectionManager.scoped_routes (same oneof)
	hcmHTTPFilters  protowire.Number = 5  // HttpConnectionManager.http_filters

	rdsRouteConfigName protowire.Number = 2 // Rds.route_config_name

	httpFilterTypedConfig     protowire.Number = 4 // HttpFilter.typed_config (oneof config_type)
	httpFilterConfigDiscovery protowire.Number = 5 // HttpFilter.config_discovery (same oneof)

	anyTypeURL protowire.Number = 1 // Any.type_url
	anyValue   protowire.Number = 2 // Any.value

	downstreamCommonTLS protowire.Number = 1 // DownstreamTlsContext.common_tls_context
	commonTLSSdsConfigs protowire.Number = 6 // CommonTlsContext.tls_certificate_sds_secret_configs
	sdsSecretName       protowire.Number = 1 // SdsSecretConfig.name
)

// fields reads a message's encoding one field at a time, as proto.Unmarshal
// would: next reports false at the end or on malformed bytes (then err is
// set).
type fields struct {
	b   []byte
	num protowire.Number
	typ protowire.Type
	val []byte // the contents of a length-delimited field
	err error
}

func (f *fields) next() bool {
	if len(f.b) == 0 || f.err != nil {
		return false
	}
	num, typ, n := protowire.ConsumeTag(f.b)
	if n < 0 {
		f.err = protowire.ParseError(n)
		return false
	}
	f.b = f.b[n:]
	f.num, f.typ, f.val = num, typ, nil
	if typ == protowire.BytesType {
		f.val, n = protowire.ConsumeBytes(f.b)
	} else {
		n = protowire.ConsumeFieldValue(num, typ, f.b)
	}
	if n < 0 {
		f.err = protowire.ParseError(n)
		return false
	}
	f.b = f.b[n:]
	return true
}

// FieldValues returns the contents of each length-delimited field num of
// the message encoded in b, in order, each a slice of b with no room to
// grow; nil when b does not parse.
func FieldValues(b []byte, num protowire.Number) [][]byte {
	var out [][]byte
	f := fields{b: b}
	for f.next() {
		if f.is(num) {
			out = append(out, f.val[:len(f.val):len(f.val)])
		}
	}
	if f.err != nil {
		return nil
	}
	return out
}

// is reports whether the current field is field num, length-delimited (a
// message, string or bytes field); proto.Unmarshal keeps a field of another
// wire type as an unknown field.
func (f *fields) is(num protowire.Number) bool {
	return f.num == num && f.typ == protowire.BytesType
}

// str returns the current field as a string field.
func (f *fields) str() (string, error) {
	if !utf8.Valid(f.val) {
		return "", errors.New("string field contains invalid UTF-8")
	}
	return string(f.val), nil
}

// hcmRefs appends to r what the HttpConnectionManager encoded as b refers
// to: its RDS route configuration and the clusters of its HTTP filters. A
// singular message field encoded several times is merged, as
// proto.Unmarshal merges it; a repeated one has one element each time.
func hcmRefs(b []byte, r *Refs) error {
	route, rds := "", false
	f := fields{b: b}
	for f.next() {
		var err error
		switch {
		case f.is(hcmRds):
			if !rds { // a oneof member set again after another starts empty
				route, rds = "", true
			}
			route, err = lastString(f.val, rdsRouteConfigName, route)
		case f.is(hcmRouteConfig), f.is(hcmScopedRoutes):
			route, rds = "", false
		case f.is(hcmHTTPFilters):
			err = httpFilterRefs(f.val, r)
		}
		if err != nil {
			return err
		}
	}
	if f.err != nil {
		return f.err
	}
	if route != "" {
		r.Routes = append(r.Routes, route)
	}
	return nil
}

// lastString returns the last value of string field num in the message
// encoded as b, or def when b has none.
func lastString(b []byte, num protowire.Number, def string) (string, error) {
	f := fields{b: b}
	for f.next() {
		if f.is(num) {
			s, err := f.str()
			if err != nil {
				return "", err
			}
			def = s
		}
	}
	return def, f.err
}

// httpFilterRefs appends to r.Clusters the clusters the HttpFilter encoded
// as b calls (see filterClusters): only jwt_authn and ext_authz filters
// are decoded in full.
func httpFilterRefs(b []byte, r *Refs) error {
	var typeURL string
	var value []byte
	typed := false
	f := fields{b: b}
	for f.next() {
		switch {
		case f.is(httpFilterTypedConfig):
			if !typed { // a oneof member set again after another starts empty
				typeURL, value, typed = "", nil, true
			}
			var err error
			if typeURL, value, err = anyFields(f.val, typeURL, value); err != nil {
				return err
			}
		case f.is(httpFilterConfigDiscovery):
			typeURL, value, typed = "", nil, false
		}
	}
	if f.err != nil || !typed {
		return f.err
	}
	name := typeURL[strings.LastIndexByte(typeURL, '/')+1:] // any prefix, as Envoy reads it
	return filterClusters(name, value, r)
}

// anyFields merges the Any encoded as b into one with type URL typeURL and
// value value (both fields scalars: the last one wins).
func anyFields(b []byte, typeURL string, value []byte) (string, []byte, error) {
	f := fields{b: b}
	for f.next() {
		switch {
		case f.is(anyTypeURL):
			s, err := f.str()
			if err != nil {
				return "", nil, err
			}
			typeURL = s
		case f.is(anyValue):
			value = f.val
		}
	}
	return typeURL, value, f.err
}

// tlsSecretRefs appends to r.Secrets the SDS secrets of the
// DownstreamTlsContext encoded as b, in order (empty names too).
func tlsSecretRefs(b []byte, r *Refs) error {
	f := fields{b: b}
	for f.next() {
		if !f.is(downstreamCommonTLS) {
			continue
		}
		common := fields{b: f.val}
		for common.next() {
			if !common.is(commonTLSSdsConfigs) {
				continue
			}
			name, err := lastString(common.val, sdsSecretName, "")
			if err != nil {
				return err
			}
			r.Secrets = append(r.Secrets, name)
		}
		if common.err != nil {
			return common.err
		}
	}
	return f.err
}
