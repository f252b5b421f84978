package envoy

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	zstdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// wantCompressedTypes are the content types Contour compresses, written
// out by hand: Envoy's defaults and gRPC-Web's.
var wantCompressedTypes = []string{"text/html", "text/plain", "text/css", "application/javascript", "application/x-javascript",
	"text/javascript", "text/x-javascript", "text/ecmascript", "text/js", "text/jscript", "text/x-js",
	"application/ecmascript", "application/x-json", "application/xml", "application/json", "image/svg+xml",
	"text/xml", "application/xhtml+xml", "application/grpc-web", "application/grpc-web+proto",
	"application/grpc-web+json", "application/grpc-web+thrift", "application/grpc-web-text",
	"application/grpc-web-text+proto", "application/grpc-web-text+thrift"}

// TestCompression checks the first HTTP filters of connection managers
// for each of Contour's compression algorithms, through both ways a
// manager is built (HTTPConnectionManager and the pre-encoded
// ConnectionManagers, which must agree).
func TestCompression(t *testing.T) {
	t.Parallel()
	compressor := func(name string, lib proto.Message) *hcmv3.HttpFilter {
		return &hcmv3.HttpFilter{Name: "envoy.filters.http.compressor", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &compressorv3.Compressor{
			CompressorLibrary: &corev3.TypedExtensionConfig{Name: name, TypedConfig: mustAny(t, lib)},
			ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{
				ContentType: wantCompressedTypes}},
		})}}
	}
	for _, tc := range []struct {
		c     Compression
		first *hcmv3.HttpFilter // nil: the gRPC-Web filter comes first
		count int               // filters without the Lua one
	}{
		{"", compressor("gzip", &gzipv3.Gzip{}), 7},
		{CompressionGzip, compressor("gzip", &gzipv3.Gzip{}), 7},
		{CompressionBrotli, compressor("brotli", &brotliv3.Brotli{}), 7},
		{CompressionZstd, compressor("zstd", &zstdv3.Zstd{}), 7},
		{CompressionDisabled, nil, 6},
	} {
		s := NewConnectionSettings(Connections{Compression: tc.c})
		for _, lua := range []bool{false, true} {
			var direct, cached hcmv3.HttpConnectionManager
			h := HostSettings{CookieRewrite: lua}
			if err := HTTPConnectionManager("p", "r", nil, s, h).GetTypedConfig().UnmarshalTo(&direct); err != nil {
				t.Fatal(err)
			}
			if err := NewConnectionManagers(nil, s).Filter("p", "r", h).GetTypedConfig().UnmarshalTo(&cached); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&direct, &cached, protocmp.Transform()); d != "" {
				t.Errorf("%q, lua %v: the two managers differ (-direct +cached):\n%s", tc.c, lua, d)
			}
			filters := direct.GetHttpFilters()
			want := tc.count
			if lua {
				want++
			}
			if len(filters) != want {
				t.Fatalf("%q, lua %v: %d filters, want %d", tc.c, lua, len(filters), want)
			}
			if tc.first == nil {
				if filters[0].GetName() != "envoy.filters.http.grpc_web" {
					t.Errorf("%q: first filter %s, want grpc_web", tc.c, filters[0].GetName())
				}
				continue
			}
			if d := cmp.Diff(tc.first, filters[0], protocmp.Transform()); d != "" {
				t.Errorf("%q, lua %v: compressor (-want +got):\n%s", tc.c, lua, d)
			}
		}
	}
}
