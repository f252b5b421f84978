package hugeheap

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// hugePageSize is the size of a transparent huge page on the architectures
// Go runs Linux on that matter here (amd64, arm64 with 4 KiB pages).
const hugePageSize = 2 << 20

// madvHugePage is MADV_HUGEPAGE, which package syscall does not name.
const madvHugePage = 14

// Prepare readies about n bytes of the Go heap for huge pages, when the
// kernel's Mode is "madvise" (with "always" the kernel does so unasked, with
// "never" it cannot): it has the runtime map n bytes of fresh heap by
// allocating them, which touches none of them, frees them with a
// collection and advises the kernel to back that range with huge pages. The
// allocations that follow reuse the range, lowest addresses first, and each
// first touch of it then faults in 2 MiB instead of 4 KiB. It returns the
// advised range, empty when nothing was done. Memory is neither touched nor
// held: RSS grows only with what the program allocates, by up to one huge
// page per 2 MiB it touches.
func Prepare(n int64) (Region, error) {
	if n < 2*hugePageSize || Mode() != "madvise" {
		return Region{}, nil
	}
	lo, hi := reserve(n)
	r := Region{Start: alignUp(lo), End: hi &^ (hugePageSize - 1)}
	if r.End <= r.Start {
		return Region{}, nil
	}
	// The range is addressed by number: it holds no Go object any more.
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r.Start, r.Len(), madvHugePage); errno != 0 {
		return Region{}, fmt.Errorf("madvise(MADV_HUGEPAGE) of %d bytes of heap: %w", r.Len(), errno)
	}
	return r, nil
}

// reserve has the runtime map n bytes of heap it has never used and hands
// them back to it free: a pointer-free allocation of memory fresh from the
// system needs no zeroing, so none of it is touched.
func reserve(n int64) (lo, hi uintptr) {
	block := make([]byte, n)
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	hi = lo + uintptr(n)
	block = nil
	runtime.GC()
	return lo, hi
}

func alignUp(p uintptr) uintptr { return (p + hugePageSize - 1) &^ (hugePageSize - 1) }
