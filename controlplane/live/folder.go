package live

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// Folder is a Source fed from a folder of YAML that is polled for changes:
// editing, adding or removing a file changes what connected Envoys receive.
// Every change is a full reload (local what-if mode, not a hot path).
type Folder struct {
	Dir string
	// Load reads the folder; Problems go to OnProblems.
	Load func(dir string) (*source.Index, []source.Problem)
	// OnProblems, when set, receives the problems of each load.
	OnProblems func([]source.Problem)
	// Interval is the polling period (default 500ms).
	Interval time.Duration

	mu     sync.Mutex
	idx    *source.Index
	stamp  string
	notify chan struct{}
}

// Start loads the folder once and then polls it until ctx ends. It returns
// after the first load; polling continues in the background.
func (f *Folder) Start(ctx context.Context) error {
	if f.Interval == 0 {
		f.Interval = 500 * time.Millisecond
	}
	f.notify = make(chan struct{}, 1)
	stamp, err := f.fingerprint()
	if err != nil {
		return err
	}
	f.reload(stamp)
	go func() {
		t := time.NewTicker(f.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			stamp, err := f.fingerprint()
			if err != nil || stamp == f.current() {
				continue
			}
			f.reload(stamp)
			select {
			case f.notify <- struct{}{}:
			default:
			}
		}
	}()
	return nil
}

func (f *Folder) current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stamp
}

func (f *Folder) reload(stamp string) {
	idx, problems := f.Load(f.Dir)
	if f.OnProblems != nil {
		f.OnProblems(problems)
	}
	f.mu.Lock()
	f.idx, f.stamp = idx, stamp
	f.mu.Unlock()
}

// fingerprint summarises names, sizes and modification times of the YAML
// and JSON files below Dir.
func (f *Folder) fingerprint() (string, error) {
	var parts []string
	err := filepath.WalkDir(f.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		parts = append(parts, p+"|"+info.ModTime().UTC().Format(time.RFC3339Nano)+"|"+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n"), nil
}

// Changed implements Source.
func (f *Folder) Changed() <-chan struct{} { return f.notify }

// Take implements Source; every change is full.
func (f *Folder) Take() source.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	return source.Change{Index: f.idx, Full: true}
}
