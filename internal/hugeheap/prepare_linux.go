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

// MADV_HUGEPAGE and MADV_NOHUGEPAGE, which package syscall does not name.
const (
	madvHugePage   = 14
	madvNoHugePage = 15
)

// Prepare readies about n bytes of the Go heap for huge pages, when the
// kernel's Mode is "madvise" (with "always" the kernel does so unasked, with
// "never" it cannot), it overcommits memory and the address space is not
// limited (under strict accounting or ulimit -v the mapping below could
// fail): it has the runtime map n bytes of fresh heap by
// allocating them, which touches none of them, frees them with a
// collection and advises the kernel to back that range with huge pages. The
// allocations that follow reuse the range, lowest addresses first, and each
// first touch of it then faults in 2 MiB instead of 4 KiB. It returns the
// advised range, empty when nothing was done. Memory is neither touched nor
// held: RSS grows only with what the program allocates, by up to one huge
// page per 2 MiB it touches. At most half the machine's memory is readied.
func Prepare(n int64) (Region, error) {
	if total := memTotal(meminfoPath); total > 0 {
		// Even overcommitting, Linux refuses one mapping bigger than the
		// machine's memory; half of it is always granted.
		n = min(n, total/2)
	}
	if n < 2*hugePageSize || !Supported() || addressSpaceLimited() || ^uintptr(0)>>32 == 0 {
		// (The last: a 32-bit address space has no room to map ahead.)
		return Region{}, nil
	}
	lo, hi := reserve(n)
	r := Region{Start: alignUp(lo), End: hi &^ (hugePageSize - 1)}
	if r.End <= r.Start {
		return Region{}, nil
	}
	if err := r.advise(madvHugePage); err != nil {
		return Region{}, err
	}
	return r, nil
}

// Release withdraws the advice from r, for a long-running process once
// its first, biggest burst of allocation is over: from then on the kernel
// backs what is touched anew with small pages, and khugepaged does not
// gather r's small pages into huge ones. Huge pages already there stay
// until the memory they hold is freed, which splits them (Go's scavenger
// and debug.FreeOSMemory free memory 4 KiB pages at a time). The empty
// region releases nothing.
func (r Region) Release() error {
	if r.Len() == 0 {
		return nil
	}
	return r.advise(madvNoHugePage)
}

// advise gives the kernel advice about r. The range is addressed by
// number: no Go object refers to it as such.
func (r Region) advise(advice uintptr) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r.Start, r.Len(), advice); errno != 0 {
		return fmt.Errorf("madvise(%d) of %d bytes of heap at %#x: %w", advice, r.Len(), r.Start, errno)
	}
	return nil
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

// addressSpaceLimited reports whether the process's address space is
// limited (RLIMIT_AS, ulimit -v): mapping a heap in advance could then
// exceed the limit, and Go's runtime does not survive a failed mapping.
func addressSpaceLimited() bool {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		return true
	}
	return lim.Cur != ^uint64(0) // RLIM_INFINITY
}

func alignUp(p uintptr) uintptr { return (p + hugePageSize - 1) &^ (hugePageSize - 1) }
