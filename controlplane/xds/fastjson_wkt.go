package xds

import (
	"bytes"
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const protobufPackage = "google.protobuf."

// isWellKnown reports whether protojson writes messages called name in a
// special form. google.protobuf.Empty is not one of them: protojson writes
// it as any other message.
func isWellKnown(name protoreflect.FullName) bool {
	if len(name) <= len(protobufPackage) || name[:len(protobufPackage)] != protobufPackage {
		return false
	}
	switch name[len(protobufPackage):] {
	case "Any", "Duration", "Timestamp", "Struct", "ListValue", "Value", "FieldMask",
		"BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		return true
	}
	return false
}

// wellKnown writes m, a well-known type (see isWellKnown), in its special
// form. It reads the generated Go types directly and declines any other
// implementation (a dynamic message).
func (e *jsonEncoder) wellKnown(m protoreflect.Message) bool {
	switch x := m.Interface().(type) {
	case *anypb.Any:
		return e.anyMessage(x)
	case *durationpb.Duration:
		return e.duration(x.GetSeconds(), int64(x.GetNanos()))
	case *timestamppb.Timestamp:
		return e.timestamp(x.GetSeconds(), int64(x.GetNanos()))
	case *structpb.Struct:
		return e.structFields(x.GetFields())
	case *structpb.ListValue:
		return e.listValues(x.GetValues())
	case *structpb.Value:
		return e.knownValue(x)
	case *fieldmaskpb.FieldMask:
		return e.fieldMask(x.GetPaths())
	case *wrapperspb.StringValue:
		return e.str(x.GetValue())
	case *wrapperspb.BoolValue:
		e.out = strconv.AppendBool(e.out, x.GetValue())
	case *wrapperspb.Int32Value:
		e.out = strconv.AppendInt(e.out, int64(x.GetValue()), 10)
	case *wrapperspb.UInt32Value:
		e.out = strconv.AppendUint(e.out, uint64(x.GetValue()), 10)
	case *wrapperspb.Int64Value:
		e.out = append(e.out, '"')
		e.out = strconv.AppendInt(e.out, x.GetValue(), 10)
		e.out = append(e.out, '"')
	case *wrapperspb.UInt64Value:
		e.out = append(e.out, '"')
		e.out = strconv.AppendUint(e.out, x.GetValue(), 10)
		e.out = append(e.out, '"')
	case *wrapperspb.FloatValue:
		e.out = appendFloat(e.out, float64(x.GetValue()), 32)
	case *wrapperspb.DoubleValue:
		e.out = appendFloat(e.out, x.GetValue(), 64)
	case *wrapperspb.BytesValue:
		e.out = append(e.out, '"')
		e.out = base64.StdEncoding.AppendEncode(e.out, x.GetValue())
		e.out = append(e.out, '"')
	default:
		return false
	}
	return true
}

// anyMessage writes an Any as protojson does: {} when it is empty;
// otherwise "@type" first, then the fields of the embedded message or, for
// an embedded well-known type, its special form under "value". The type
// must be in protoregistry.GlobalTypes and the value must unmarshal.
func (e *jsonEncoder) anyMessage(a *anypb.Any) bool {
	typeURL := a.GetTypeUrl()
	if typeURL == "" {
		if len(a.GetValue()) > 0 {
			return false // protojson: type_url is not set
		}
		e.out = append(e.out, "{}"...)
		return true
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return false
	}
	em := mt.New()
	err = proto.UnmarshalOptions{AllowPartial: true, Resolver: protoregistry.GlobalTypes}.
		Unmarshal(a.GetValue(), em.Interface())
	if err != nil {
		return false
	}
	if !isWellKnown(mt.Descriptor().FullName()) {
		return e.message(em, typeURL)
	}
	e.out = append(e.out, `{"@type":`...)
	if !e.str(typeURL) {
		return false
	}
	e.out = append(e.out, `,"value":`...)
	if !e.message(em, "") {
		return false
	}
	e.out = append(e.out, '}')
	return true
}

// structFields writes the fields of a Struct as an object, keys sorted.
func (e *jsonEncoder) structFields(fields map[string]*structpb.Value) bool {
	start := len(e.keys)
	for k := range fields {
		e.keys = append(e.keys, k)
	}
	end := len(e.keys)
	slices.Sort(e.keys[start:end])
	e.out = append(e.out, '{')
	for i := start; i < end; i++ {
		if i > start {
			e.out = append(e.out, ',')
		}
		k := e.keys[i] // e.keys may have grown (and moved) meanwhile
		if !e.str(k) {
			return false
		}
		e.out = append(e.out, ':')
		if !e.knownValue(fields[k]) {
			return false
		}
	}
	clear(e.keys[start:end])
	e.keys = e.keys[:start]
	e.out = append(e.out, '}')
	return true
}

func (e *jsonEncoder) listValues(values []*structpb.Value) bool {
	e.out = append(e.out, '[')
	for i, v := range values {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		if !e.knownValue(v) {
			return false
		}
	}
	e.out = append(e.out, ']')
	return true
}

// knownValue writes a Value as the JSON value it holds. protojson refuses
// a Value with no kind and a number that is NaN or infinite; the encoder
// also declines kinds holding nil.
func (e *jsonEncoder) knownValue(v *structpb.Value) bool {
	if v == nil || len(v.ProtoReflect().GetUnknown()) > 0 {
		return false
	}
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		if k == nil {
			return false
		}
		e.out = append(e.out, "null"...)
	case *structpb.Value_NumberValue:
		if k == nil || math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return false
		}
		e.out = appendFloat(e.out, k.NumberValue, 64)
	case *structpb.Value_StringValue:
		return k != nil && e.str(k.StringValue)
	case *structpb.Value_BoolValue:
		if k == nil {
			return false
		}
		e.out = strconv.AppendBool(e.out, k.BoolValue)
	case *structpb.Value_StructValue:
		return k != nil && k.StructValue != nil && e.message(k.StructValue.ProtoReflect(), "")
	case *structpb.Value_ListValue:
		return k != nil && k.ListValue != nil && e.message(k.ListValue.ProtoReflect(), "")
	default:
		return false // no kind
	}
	return true
}

// Ranges protojson accepts.
const (
	maxNanos            = 999999999
	maxDurationSeconds  = 315576000000
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
	timestampFormat     = "2006-01-02T15:04:05.000000000"
)

// duration writes "1.500s": seconds and nanoseconds with the fraction cut
// to 0, 3, 6 or 9 digits, as protojson does.
func (e *jsonEncoder) duration(secs, nanos int64) bool {
	if secs < -maxDurationSeconds || secs > maxDurationSeconds ||
		nanos < -maxNanos || nanos > maxNanos ||
		(secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return false
	}
	e.out = append(e.out, '"')
	start := len(e.out)
	if secs < 0 || nanos < 0 {
		e.out = append(e.out, '-')
		secs, nanos = -secs, -nanos
	}
	e.out = strconv.AppendInt(e.out, secs, 10)
	e.out = appendNanos(e.out, nanos)
	e.out = trimFraction(e.out, start)
	e.out = append(e.out, 's', '"')
	return true
}

// appendNanos appends "." and nanos as nine digits.
func appendNanos(out []byte, nanos int64) []byte {
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	out = append(out, '.')
	return append(out, digits[:]...)
}

// timestamp writes "2006-01-02T15:04:05.500Z" in UTC with the fraction cut
// as for durations.
func (e *jsonEncoder) timestamp(secs, nanos int64) bool {
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > maxNanos {
		return false
	}
	e.out = append(e.out, '"')
	start := len(e.out)
	e.out = time.Unix(secs, nanos).UTC().AppendFormat(e.out, timestampFormat)
	e.out = trimFraction(e.out, start)
	e.out = append(e.out, 'Z', '"')
	return true
}

// trimFraction cuts the nine-digit fraction ending out (the text begins at
// start) as protojson does: "000" twice, then ".000".
func trimFraction(out []byte, start int) []byte {
	for _, suffix := range []string{"000", "000", ".000"} {
		if bytes.HasSuffix(out[start:], []byte(suffix)) {
			out = out[:len(out)-len(suffix)]
		}
	}
	return out
}

// fieldMask writes the paths in lowerCamelCase joined by commas. Paths
// that are not proto names or do not convert back are declined (protojson
// fails on them).
func (e *jsonEncoder) fieldMask(paths []string) bool {
	e.out = append(e.out, '"')
	for i, p := range paths {
		if !protoreflect.FullName(p).IsValid() {
			return false
		}
		if i > 0 {
			e.out = append(e.out, ',')
		}
		start := len(e.out)
		e.out = appendCamelCase(e.out, p)
		if !isSnakeCaseOf(p, e.out[start:]) {
			return false
		}
	}
	e.out = append(e.out, '"')
	return true
}

// appendCamelCase appends the JSON name of the (ASCII) proto name s:
// underscores dropped, a lower-case letter after one upper-cased.
func appendCamelCase(out []byte, s string) []byte {
	wasUnderscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' {
			if wasUnderscore && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
		}
		wasUnderscore = c == '_'
	}
	return out
}

// isSnakeCaseOf reports whether s is the snake_case form of camel: every
// upper-case letter as '_' and its lower case.
func isSnakeCaseOf(s string, camel []byte) bool {
	j := 0
	for _, c := range camel {
		if 'A' <= c && c <= 'Z' {
			if j+1 >= len(s) || s[j] != '_' || s[j+1] != c+('a'-'A') {
				return false
			}
			j += 2
			continue
		}
		if j >= len(s) || s[j] != c {
			return false
		}
		j++
	}
	return j == len(s)
}
