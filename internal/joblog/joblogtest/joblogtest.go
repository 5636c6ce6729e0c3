// Package joblogtest reads, in tests, what a joblog logger wrote: one JSON
// object a line.
package joblogtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Buffer is a log sink that the concurrent records of a batch may share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// Bytes is a copy of everything written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

// Lines decodes every line written so far, failing t on one that is not JSON.
// Numbers come back as float64, as encoding/json decodes them.
func (b *Buffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	return Parse(t, b.b.String())
}

// Parse decodes log text, one JSON object a line.
func Parse(t testing.TB, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("a log line is not JSON (%v): %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// About keeps the lines whose key holds one of values (a job key is a
// float64, a message id a string).
func About[V comparable](lines []map[string]any, key string, values ...V) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		for _, v := range values {
			if l[key] == any(v) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// Line returns the first line whose msg is msg, failing t with the messages
// there are when none is.
func Line(t testing.TB, lines []map[string]any, msg string) map[string]any {
	t.Helper()
	var msgs []string
	for _, l := range lines {
		if l["msg"] == msg {
			return l
		}
		msgs = append(msgs, fmt.Sprint(l["msg"]))
	}
	t.Fatalf("log line missing: want %q among:\n%s", msg, strings.Join(msgs, "\n"))
	return nil
}
