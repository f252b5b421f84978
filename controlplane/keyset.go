package controlplane

import "slices"

// The compiler keeps, per host, per HTTPProxy and per Service, the few keys
// related to it: a host's claimants, the hosts that read a proxy, the
// assignments of a Service's ports. There is almost always one. As a
// sorted slice a set of one key takes the key's size; as a Go map it took
// over 300 bytes, several megabytes at S10k.

// setAdd returns s, sorted by cmp, with k added if it was not there.
func setAdd[K any](s []K, k K, cmp func(K, K) int) []K {
	i, found := slices.BinarySearchFunc(s, k, cmp)
	if found {
		return s
	}
	return slices.Insert(s, i, k)
}

// setDelete removes v from the set, sorted by cmp, that m holds for k,
// and k from m once its set is empty, which it reports.
func setDelete[K comparable, V any](m map[K][]V, k K, v V, cmp func(V, V) int) (emptied bool) {
	s := m[k]
	if i, found := slices.BinarySearchFunc(s, v, cmp); found {
		s = slices.Delete(s, i, i+1)
	}
	if len(s) > 0 {
		m[k] = s
		return false
	}
	delete(m, k)
	return true
}
