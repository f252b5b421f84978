package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	write := func(root, rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct {
		self   string
		files  map[string]string
		want   int64
		wantOK bool
	}{
		"v2 own cgroup": {self: "0::/kubepods/pod1/c1\n", files: map[string]string{"kubepods/pod1/c1/memory.max": "536870912\n"},
			want: 536870912, wantOK: true},
		"v2 container sees its cgroup at the root": {self: "0::/kubepods/pod1/c1\n", files: map[string]string{"memory.max": "1073741824\n"},
			want: 1073741824, wantOK: true},
		"v2 no limit":   {self: "0::/\n", files: map[string]string{"memory.max": "max\n"}},
		"v2 hybrid":     {self: "0::/x\n", files: map[string]string{"unified/x/memory.max": "1000\n"}, want: 1000, wantOK: true},
		"v1 own cgroup": {self: "12:pids:/\n4:memory:/docker/abc\n1:cpu,cpuacct:/\n", files: map[string]string{"memory/docker/abc/memory.limit_in_bytes": "268435456"}, want: 268435456, wantOK: true},
		"v1 combined controllers": {self: "4:memory,hugetlb:/a\n", files: map[string]string{"memory/memory.limit_in_bytes": "4096"},
			want: 4096, wantOK: true},
		"v1 no limit":     {self: "4:memory:/\n", files: map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712"}},
		"no cgroup files": {self: "0::/\n"},
		"garbage":         {self: "0::/\n", files: map[string]string{"memory.max": "lots"}},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tc.files {
				write(root, rel, content)
			}
			got, ok := cgroupMemoryLimit(tc.self, root)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("cgroupMemoryLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
