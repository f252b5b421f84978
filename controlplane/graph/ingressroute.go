package graph

// processIngressRoutes builds the routes of every root IngressRoute that owns
// its host, following delegations. (Being written.)
func (b *builder) processIngressRoutes() {}
