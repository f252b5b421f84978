package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// gitSnapshot extracts paths as they are at revision rev into a temporary
// folder and returns the extracted paths (a path absent at rev is simply
// missing, so everything in it counts as added).
func gitSnapshot(rev string, paths []string) ([]string, func(), error) {
	top, err := gitOutput("", "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, nil, fmt.Errorf("--base-git needs a git checkout: %w", err)
	}
	top = strings.TrimSpace(top)
	dir, err := os.MkdirTemp("", "isobar-base-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	var out []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		rel, err := filepath.Rel(top, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			cleanup()
			return nil, nil, fmt.Errorf("%s is outside the git checkout %s", p, top)
		}
		rel = filepath.ToSlash(rel)
		if err := extract(top, rev, rel, dir); err != nil {
			cleanup()
			return nil, nil, err
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(target); err == nil {
			out = append(out, target)
		}
	}
	if len(out) == 0 {
		out = []string{dir} // nothing existed at rev: an empty base
	}
	return out, cleanup, nil
}

// extract writes the files under rel at rev into dir.
func extract(top, rev, rel, dir string) error {
	spec := rel
	if rel == "." {
		spec = ""
	}
	args := []string{"archive", "--format=tar", rev}
	if spec != "" {
		args = append(args, "--", spec)
	}
	data, err := gitOutput(top, args...)
	if err != nil {
		if strings.Contains(err.Error(), "did not match any files") {
			return nil
		}
		return fmt.Errorf("git archive %s %s: %w", rev, rel, err)
	}
	tr := tar.NewReader(bytes.NewReader([]byte(data)))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(target, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("unsafe path %q in the archive", h.Name)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
	}
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	if dir != "" {
		cmd.Dir = dir
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
