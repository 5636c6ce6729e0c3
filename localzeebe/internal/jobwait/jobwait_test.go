package jobwait

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWait(t *testing.T) {
	tests := []struct {
		name      string
		available []string // job types the engine reports
		cancelled bool     // the waiter was cancelled first
		woken     bool
	}{
		{name: "its type", available: []string{"other", "work"}, woken: true},
		{name: "another type", available: []string{"other"}},
		{name: "cancelled", available: []string{"work"}, cancelled: true},
		{name: "twice: one wake-up pending", available: []string{"work", "work"}, woken: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Waiters{waiters: map[string]map[chan struct{}]bool{}}
			ch, cancel := w.Wait("work")
			if tc.cancelled {
				cancel()
				assert.Empty(t, w.waiters, "a cancelled waiter is forgotten")
			}
			for _, typ := range tc.available {
				w.available([]string{typ})
			}
			select {
			case <-ch:
				assert.True(t, tc.woken, "woken")
			default:
				assert.False(t, tc.woken, "not woken")
			}
			cancel()
			assert.Empty(t, w.waiters)
		})
	}
}
