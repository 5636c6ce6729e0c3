package runtimeproxy

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestManualReal(t *testing.T) {
	cmdline := os.Getenv("MANUAL_RT")
	if cmdline == "" {
		t.Skip()
	}
	p, err := New(Config{Command: strings.Fields(cmdline), Env: append(os.Environ(), "_HANDLER="+os.Getenv("MANUAL_HANDLER"))})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, in := range []string{`{"a":9007199254740993}`, `{"bpmn":1}`, `{"fail":1}`, `{"b":2}`} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		out, err := p.Invoke(ctx, Request{Payload: []byte(in), ClientContext: []byte(`{"custom":{"zeebe":{"jobKey":"123"}},"env":{}}`), Deadline: time.Now().Add(5 * time.Second)})
		cancel()
		t.Logf("in=%s out=%s err=%v (%T) took=%s", in, out, err, err, time.Since(start))
	}
}
