//go:build !linux

package hugeheap

// Prepare does nothing where the kernel is not Linux: there is no
// transparent huge page setting to work with.
func Prepare(n int64) (Region, error) { return Region{}, nil }

// Release does nothing where the kernel is not Linux.
func (r Region) Release() error { return nil }
