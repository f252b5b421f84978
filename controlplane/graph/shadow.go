package graph

// findShadowedRoutes reports routes that can never match. (Being written.)
func (b *builder) findShadowedRoutes() {}
