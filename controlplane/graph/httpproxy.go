package graph

// processHTTPProxies builds the routes of every root HTTPProxy that owns its
// host, following includes. (Being written.)
func (b *builder) processHTTPProxies() {}
