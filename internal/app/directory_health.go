package app

import (
	"context"
	"sync"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
)

// Directory states in /readyz.
const (
	directoryOK       = "ok"       // the last lookup, unlock or ping worked
	directoryRetrying = "retrying" // the last one could not reach it; see error
)

// directoryPing bounds one directory's ping in /readyz.
const directoryPing = 2 * time.Second

// directoryState records whether a directory answered (err nil) or could
// not (a temporary error), from intake's lookups, the apply worker's
// calls and /readyz's pings.
func (a *App) directoryState(name string, err error) {
	if err != nil && !domain.IsTemporary(err) {
		err = nil // an answer, even a refusal, is a directory that works
	}
	a.health.mu.Lock()
	if a.health.directories == nil {
		a.health.directories = map[string]component{}
	}
	c := a.health.directories[name]
	if err != nil {
		set(&c, directoryRetrying, err)
	} else {
		set(&c, directoryOK, nil)
	}
	a.health.directories[name] = c
	a.health.mu.Unlock()
	a.metrics.Directory(name, err == nil)
}

// pingDirectories pings, at once, every directory that can be pinged
// (domain.Pinger), each within directoryPing, and records the answers.
func (a *App) pingDirectories(ctx context.Context) {
	var wg sync.WaitGroup
	for name, d := range a.directories {
		p, ok := d.(domain.Pinger)
		if !ok {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, directoryPing)
			defer cancel()
			err := p.Ping(ctx)
			if err != nil && !domain.IsTemporary(err) {
				err = domain.Temporary("ping: %w", err) // a ping that fails is a directory that cannot answer
			}
			a.directoryState(name, err)
		})
	}
	wg.Wait()
}

// directoriesStatus is /readyz's view of the directories; a.health.mu
// must be held.
func (a *App) directoriesStatus() map[string]component {
	out := map[string]component{}
	for _, name := range a.directoryNames() {
		c, ok := a.health.directories[name]
		if !ok {
			c = component{State: "starting", Since: a.health.store.Since}
		}
		out[name] = c
	}
	return out
}
