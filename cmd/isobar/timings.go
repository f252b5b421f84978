package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// phaseClock prints, when enabled by the hidden --timings flag, how long
// after the command started each named phase ended: the figures behind the
// README's performance tables. Safe for concurrent use; a nil clock prints
// nothing.
type phaseClock struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

// timings is the process's clock; nil unless --timings was given.
var timings *phaseClock

// mark records the end of a phase.
func (c *phaseClock) mark(phase string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "timing: %-18s %6.3f s\n", phase, time.Since(c.start).Seconds())
}
