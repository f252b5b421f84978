package parallel

import (
	"runtime"
	"slices"
)

// minSortPart is the length below which SortFunc sorts on the caller's
// goroutine alone.
const minSortPart = 2048

// SortFunc sorts s by cmp as slices.SortFunc does, on up to GOMAXPROCS
// goroutines: each sorts a part of s, then the parts are merged. cmp must
// be a strict order of distinct elements (0 only for elements that are
// equal in every respect that matters), or the result would depend on the
// cut.
func SortFunc[T any](s []T, cmp func(a, b T) int) {
	parts := min(runtime.GOMAXPROCS(0), len(s)/minSortPart)
	if parts <= 1 {
		slices.SortFunc(s, cmp)
		return
	}
	bounds := make([]int, parts+1)
	for p := range bounds {
		bounds[p] = p * len(s) / parts
	}
	For(parts, 1, func(p int) { slices.SortFunc(s[bounds[p]:bounds[p+1]], cmp) })
	buf := make([]T, len(s))
	for width := 1; width < parts; width *= 2 {
		// Merge neighbouring runs of width parts, pairs side by side.
		pairs := (parts + 2*width - 1) / (2 * width)
		For(pairs, 1, func(k int) {
			lo, mid, hi := bounds[2*k*width], bounds[min(parts, (2*k+1)*width)], bounds[min(parts, (2*k+2)*width)]
			merge(buf[lo:hi], s[lo:mid], s[mid:hi], cmp)
		})
		copy(s, buf)
	}
}

// merge writes the sorted a and b, merged, into out (len(a)+len(b) long),
// a's element first of two equal.
func merge[T any](out, a, b []T, cmp func(a, b T) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
}
