package envoy

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	zstdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// Compression is the algorithm responses are compressed with: Contour's
// compression.algorithm values.
type Compression string

// The compression algorithms; the zero value is CompressionGzip.
const (
	CompressionGzip     Compression = "gzip"
	CompressionBrotli   Compression = "brotli"
	CompressionZstd     Compression = "zstd"
	CompressionDisabled Compression = "disabled"
)

// CompressorFilter is the name of the HTTP filter that compresses
// responses, the first of every connection manager unless compression is
// disabled.
const CompressorFilter = "envoy.filters.http.compressor"

// compressors are the compressor libraries by algorithm, as Contour names
// them (the library's name is the algorithm's).
var compressors = map[Compression]proto.Message{
	CompressionGzip: &gzipv3.Gzip{}, CompressionBrotli: &brotliv3.Brotli{}, CompressionZstd: &zstdv3.Zstd{},
}

// compressorFilter compresses the responses of compressedTypes (when the
// client accepts it) with c (gzip, brotli or zstd).
func compressorFilter(c Compression) *hcmv3.HttpFilter {
	return httpFilter(CompressorFilter, &compressorv3.Compressor{
		CompressorLibrary: &corev3.TypedExtensionConfig{Name: string(c), TypedConfig: Any(compressors[c])},
		ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{
			CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{ContentType: compressedTypes},
		},
	})
}

// compressedWith returns filters, whose first is the gzip compressor, with
// the compressor of c instead, or none when c is CompressionDisabled; the
// same slice for gzip (and the zero value), a new one otherwise.
func compressedWith(filters []*hcmv3.HttpFilter, c Compression) []*hcmv3.HttpFilter {
	switch c {
	case "", CompressionGzip:
		return filters
	case CompressionDisabled:
		return filters[1:len(filters):len(filters)]
	}
	out := append([]*hcmv3.HttpFilter(nil), filters...)
	out[0] = compressorFilter(c)
	return out
}
