// Package jobwait parks job activations until the engine reports jobs of
// their type: the gRPC gateway's long polls and streams and the REST API's
// long polls share it, each with its own Waiters on the same engine.
package jobwait

import (
	"sync"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
)

// Waiters are the parked activations of one API, by job type.
type Waiters struct {
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]bool
	stop    func()
}

// New registers with the engine's job notifications; Close unregisters.
func New(eng *engine.Engine) *Waiters {
	w := &Waiters{waiters: map[string]map[chan struct{}]bool{}}
	w.stop = eng.OnJobsAvailable(w.available)
	return w
}

// Close stops listening to the engine.
func (w *Waiters) Close() { w.stop() }

// available wakes the parked activations of the types.
func (w *Waiters) available(types []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range types {
		for ch := range w.waiters[t] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Wait registers a waiter for a job type; call it before trying to activate,
// so no notification falls between the try and the wait.
func (w *Waiters) Wait(jobType string) (ch chan struct{}, cancel func()) {
	ch = make(chan struct{}, 1)
	w.mu.Lock()
	if w.waiters[jobType] == nil {
		w.waiters[jobType] = map[chan struct{}]bool{}
	}
	w.waiters[jobType][ch] = true
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.waiters[jobType], ch)
		if len(w.waiters[jobType]) == 0 {
			delete(w.waiters, jobType)
		}
		w.mu.Unlock()
	}
}
