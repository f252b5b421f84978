package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestREADME reruns every ```console block of the README ("$ isobar ..."
// then its output) and fails when an output drifted; `make update-golden`
// rewrites the blocks.
func TestREADME(t *testing.T) {
	path := goldentest.Path("README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []string
	blocks := 0
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if lines[i] != "```console" || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "$ isobar ") {
			continue
		}
		blocks++
		cmdline := lines[i+1]
		out = append(out, cmdline)
		j := i + 2
		for j < len(lines) && lines[j] != "```" {
			j++
		}
		want := strings.Join(lines[i+2:j], "\n")
		stdout, stderr, _ := run(t, "", splitArgs(t, strings.TrimPrefix(cmdline, "$ isobar "))...)
		got := strings.TrimRight(stdout+stderr, "\n")
		if !goldentest.Updating() && got != want {
			t.Errorf("README block %q drifted (run `make update-golden`):\n--- README\n%s\n--- actual\n%s", cmdline, want, got)
		}
		if got != "" {
			out = append(out, strings.Split(got, "\n")...)
		}
		i = j - 1
	}
	if blocks < 5 {
		t.Fatalf("found only %d console blocks in the README", blocks)
	}
	if goldentest.Updating() {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// splitArgs splits a command line on spaces, honouring single quotes.
func splitArgs(t *testing.T, s string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	quoted, has := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, has = !quoted, true
		case r == ' ' && !quoted:
			if has {
				args = append(args, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if has {
		args = append(args, cur.String())
	}
	return args
}

// TestDiffBaseGit is the CI recipe: manifests committed on a base branch,
// changed in the work tree, compared with --base-git.
func TestDiffBaseGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed for --base-git")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.email=ci@example.com", "-c", "user.name=ci"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	manifests := filepath.Join(repo, "manifests")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(goldentest.Path("fixtures/diff/canary-shift/base.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := os.ReadFile(goldentest.Path("fixtures/diff/canary-shift/head.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(manifests, "app.yaml"), base, 0o644); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	if err := os.WriteFile(filepath.Join(manifests, "app.yaml"), head, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runIn(t, repo, "", "diff", "--base-git", "main", "--head", "manifests", "-o", "markdown")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "50%") || !strings.Contains(out, "| `GET http://demo.projectcontour.io/` |") {
		t.Errorf("the Markdown diff does not show the weight change:\n%s", out)
	}
	_, _, code = runIn(t, repo, "", "diff", "--base-git", "main", "--head", "manifests", "--fail-on", "never")
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
}
