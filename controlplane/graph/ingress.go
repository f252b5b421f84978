package graph

// processIngresses builds routes from Ingress rules. (Being written.)
func (b *builder) processIngresses() {}
