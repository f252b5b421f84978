package server

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// any is w's resource as an Any with its value, read back from w's framed
// encoding (type and value), as a client would read it.
func (w wired) any() *anypb.Any {
	v := w.value()
	if w.big != nil {
		v = append([]byte(nil), w.head[w.from:]...)
		for _, p := range w.big.body {
			v = append(v, p...)
		}
		v = append(v, w.big.tail[:w.to]...)
	}
	return &anypb.Any{TypeUrl: w.typeURL(), Value: v}
}

// typeURL reads the resource's type back from head, where newWired wrote
// it as the Any's first field; "" if head does not hold it.
func (w wired) typeURL() string {
	b := w.head[w.anyAt:]
	_, _, n := protowire.ConsumeTag(b) // the Resource's Any field
	if n < 0 {
		return ""
	}
	_, m := protowire.ConsumeVarint(b[n:]) // its length
	if m < 0 {
		return ""
	}
	b = b[n+m:]
	num, _, n := protowire.ConsumeTag(b)
	if n < 0 || num != anyTypeURL {
		return ""
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 {
		return ""
	}
	return string(v)
}
