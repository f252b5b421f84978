package goldentest

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing")

// Updating reports whether the test run rewrites goldens.
func Updating() bool { return *update }

// Root returns the repository root (the folder holding go.mod), found from
// this source file, so tests in any package agree on paths.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Path returns the absolute path of a repository-relative path.
func Path(rel string) string { return filepath.Join(Root(), filepath.FromSlash(rel)) }

// Read returns the golden file at path (repository-relative). A missing
// golden fails the test, unless goldens are being updated.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(path))
	if err != nil && !*update {
		t.Fatalf("golden %s: %v (run `make update-golden` to create it)", path, err)
	}
	return b
}

// Write rewrites the golden file at path when updating; otherwise it does
// nothing. It reports whether it wrote.
func Write(t testing.TB, path string, got []byte) bool {
	t.Helper()
	if !*update {
		return false
	}
	abs := Path(path)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(abs, got, 0o644); err != nil {
		t.Fatal(err)
	}
	return true
}

// CheckText compares got with the golden text file at path line by line and
// fails with a diff; with -update it rewrites the file.
func CheckText(t testing.TB, path string, got []byte) {
	t.Helper()
	if Write(t, path, got) {
		return
	}
	want := Read(t, path)
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden (-want +got); run `make update-golden` if the change is intended:\n%s",
			path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
}

// Orphans fails the test for every file under the golden folder dir
// (repository-relative) that is not in used, the set of repository-relative
// golden paths the test checked. With -update, orphans are removed instead.
func Orphans(t testing.TB, dir string, used map[string]bool) {
	t.Helper()
	var orphans []string
	root := Path(dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(Root(), p)
		rel = filepath.ToSlash(rel)
		if !used[rel] {
			orphans = append(orphans, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(orphans)
	for _, o := range orphans {
		if *update {
			if err := os.Remove(Path(o)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("golden %s has no input: remove it or restore its fixture (make update-golden prunes it)", o)
	}
}
