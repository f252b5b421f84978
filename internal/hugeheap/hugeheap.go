package hugeheap

import (
	"os"
	"strconv"
	"strings"
)

// Region is a range of addresses [Start, End); the zero Region is empty.
type Region struct {
	Start, End uintptr
}

// Len is the region's size in bytes.
func (r Region) Len() uintptr { return r.End - r.Start }

// enabledPath is the kernel's transparent huge page setting.
const enabledPath = "/sys/kernel/mm/transparent_hugepage/enabled"

// Mode is the kernel's transparent huge page setting: "always", "madvise"
// or "never" (the bracketed word of enabledPath), "" where it cannot be read
// (not Linux, or a kernel without transparent huge pages).
func Mode() string {
	data, err := os.ReadFile(enabledPath)
	if err != nil {
		return ""
	}
	return selected(string(data))
}

// Supported reports whether Prepare does anything here: the kernel gives
// huge pages to programs that ask (Mode "madvise") and overcommits memory.
func Supported() bool { return Mode() == "madvise" && !strictOvercommit() }

// meminfoPath lists the machine's memory.
const meminfoPath = "/proc/meminfo"

// memTotal is the machine's memory in bytes (MemTotal in the meminfo file
// at path), 0 when unknown.
func memTotal(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// overcommitPath is the kernel's overcommit policy.
const overcommitPath = "/proc/sys/vm/overcommit_memory"

// strictOvercommit reports whether the kernel refuses to map more memory
// than it can back (policy 2): there, mapping a whole heap in advance
// could fail, and Go's runtime does not survive a failed mapping.
func strictOvercommit() bool { return strictPolicyIn(overcommitPath) }

// strictPolicyIn reports whether the overcommit policy file at path says
// 2; an unreadable file says no.
func strictPolicyIn(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(data)) == "2"
}

// selected is the bracketed word of a sysfs choice such as
// "always [madvise] never", "" when none is.
func selected(choice string) string {
	for _, word := range strings.Fields(choice) {
		if len(word) > 2 && word[0] == '[' && word[len(word)-1] == ']' {
			return word[1 : len(word)-1]
		}
	}
	return ""
}
