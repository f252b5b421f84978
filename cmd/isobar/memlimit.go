package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitRatio's flag text, shared by the long-running commands.
const memoryLimitRatioUsage = "Go's soft memory limit as a share of the container's cgroup memory limit (0 turns it off; GOMEMLIMIT wins)"

// applyMemoryLimit gives Go's collector the container's memory limit, as a
// soft limit of ratio times it, so that a long-running process collects
// harder before the kernel's OOM killer would act (Go does not read cgroup
// limits itself). It does nothing when GOMEMLIMIT is set, when ratio is 0,
// or when no limit applies. It returns the limit it set, 0 if none.
func applyMemoryLimit(ratio float64, log *slog.Logger) int64 {
	if os.Getenv("GOMEMLIMIT") != "" || ratio <= 0 {
		return 0
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	limit, ok := cgroupMemoryLimit(string(self), "/sys/fs/cgroup")
	if !ok {
		return 0
	}
	soft := int64(float64(limit) * min(ratio, 1))
	debug.SetMemoryLimit(soft)
	log.Info("memory limit from the cgroup", "cgroupBytes", limit, "goSoftLimitBytes", soft)
	return soft
}

// cgroupMemoryLimit finds the memory limit of the cgroup that procSelf (the
// text of /proc/self/cgroup) names, under the cgroup file systems mounted
// at root: cgroup v2's memory.max, or v1's memory.limit_in_bytes. Inside a
// container the process's cgroup is usually the root of what is mounted,
// so that is tried too. ok is false when there is no limit.
func cgroupMemoryLimit(procSelf, root string) (limit int64, ok bool) {
	var candidates []string
	for _, line := range strings.Split(strings.TrimSpace(procSelf), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2 (unified)
			for _, mount := range []string{root, filepath.Join(root, "unified")} {
				candidates = append(candidates, filepath.Join(mount, parts[2], "memory.max"), filepath.Join(mount, "memory.max"))
			}
		case hasController(parts[1], "memory"): // v1
			mount := filepath.Join(root, "memory")
			candidates = append(candidates, filepath.Join(mount, parts[2], "memory.limit_in_bytes"), filepath.Join(mount, "memory.limit_in_bytes"))
		}
	}
	for _, path := range candidates {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 { // v1 writes a huge number for "no limit"
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// hasController reports whether a /proc/self/cgroup controller list
// ("cpu,cpuacct") names c.
func hasController(list, c string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == c {
			return true
		}
	}
	return false
}
