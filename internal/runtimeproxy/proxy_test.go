package runtimeproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as a runtime: started with fakeRuntimeEnv set it
// runs fakeRuntime, a Runtime API client as small as the contract allows,
// whose behaviour each invocation's payload picks.
const fakeRuntimeEnv = "RUNTIMEPROXY_FAKE_RUNTIME"

func TestMain(m *testing.M) {
	if os.Getenv(fakeRuntimeEnv) != "" {
		fakeRuntime()
		return
	}
	os.Exit(m.Run())
}

type fakeAction struct {
	Echo      json.RawMessage `json:"echo"`
	ErrorType string          `json:"errorType"`
	Message   string          `json:"message"`
	Hang      bool            `json:"hang"`
	Exit      bool            `json:"exit"`
	SleepMs   int             `json:"sleepMs"` // before doing the rest
}

func fakeRuntime() {
	api := "http://" + os.Getenv(EnvRuntimeAPI) + prefix
	if os.Getenv(fakeRuntimeEnv) == "init-error" {
		_, _ = http.Post(api+"init/error", "application/json", bytes.NewReader([]byte(`{"errorType":"Runtime.ImportModuleError","errorMessage":"no module app"}`)))
		os.Exit(1)
	}
	for {
		resp, err := http.Get(api + "invocation/next")
		if err != nil {
			os.Exit(2)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var a fakeAction
		_ = json.Unmarshal(body, &a)
		// An SQS event (a business event the layer passes on): its record's
		// body says what to do.
		var ev struct{ Records []struct{ Body string } }
		if json.Unmarshal(body, &ev) == nil && len(ev.Records) == 1 {
			_ = json.Unmarshal([]byte(ev.Records[0].Body), &a)
		}
		time.Sleep(time.Duration(a.SleepMs) * time.Millisecond) // the function's own work, timed by InvokeTimed
		switch {
		case a.Exit:
			os.Exit(3)
		case a.Hang:
			select {}
		case a.Echo != nil:
			_, _ = http.Post(api+"invocation/"+id+"/response", "application/json", bytes.NewReader(a.Echo))
		case a.ErrorType != "":
			b, _ := json.Marshal(map[string]any{"errorType": a.ErrorType, "errorMessage": a.Message, "stackTrace": []string{}})
			_, _ = http.Post(api+"invocation/"+id+"/error", "application/json", bytes.NewReader(b))
		default:
			// What the runtime saw: the request's headers and payload, and its pid.
			out, _ := json.Marshal(map[string]any{
				"pid": os.Getpid(), "payload": json.RawMessage(body), "requestId": id,
				"deadline":      resp.Header.Get("Lambda-Runtime-Deadline-Ms"),
				"clientContext": resp.Header.Get("Lambda-Runtime-Client-Context"),
				"functionArn":   resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"),
				"apiVariable":   os.Getenv(EnvRuntimeAPI) != "", "wrapper": os.Getenv("AWS_LAMBDA_EXEC_WRAPPER"),
			})
			_, _ = http.Post(api+"invocation/"+id+"/response", "application/json", bytes.NewReader(out))
		}
	}
}

func newFakeProxy(t *testing.T, mode string, maxRuntimes int) *Proxy {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	env := append(os.Environ(), fakeRuntimeEnv+"="+mode, "AWS_LAMBDA_EXEC_WRAPPER=/opt/zeebe-runtime-proxy", EnvRuntimeAPI+"=127.0.0.1:1")
	p, err := New(Config{Command: []string{exe}, Env: env, MaxRuntimes: maxRuntimes})
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

type seen struct {
	PID           int             `json:"pid"`
	Payload       json.RawMessage `json:"payload"`
	RequestID     string          `json:"requestId"`
	Deadline      string          `json:"deadline"`
	ClientContext string          `json:"clientContext"`
	FunctionARN   string          `json:"functionArn"`
	APIVariable   bool            `json:"apiVariable"`
	Wrapper       string          `json:"wrapper"`
}

func invokeSeen(t *testing.T, p *Proxy, req Request) seen {
	t.Helper()
	out, err := p.Invoke(context.Background(), req)
	require.NoError(t, err)
	var s seen
	require.NoError(t, json.Unmarshal(out, &s), string(out))
	return s
}

func TestInvokeHandsTheRuntimeOneInvocationWithItsHeaders(t *testing.T) {
	p := newFakeProxy(t, "run", 1)
	deadline := time.UnixMilli(1_900_000_000_123)
	s := invokeSeen(t, p, Request{Payload: []byte(`{"n":9007199254740993}`), ClientContext: []byte(`{"custom":{"zeebe":{"jobKey":"1"}}}`),
		RequestID: "req-1", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f", Deadline: deadline})
	assert.JSONEq(t, `{"n":9007199254740993}`, string(s.Payload))
	assert.Equal(t, "req-1", s.RequestID)
	assert.Equal(t, "1900000000123", s.Deadline)
	assert.Equal(t, `{"custom":{"zeebe":{"jobKey":"1"}}}`, s.ClientContext)
	assert.Equal(t, "arn:aws:lambda:us-east-1:000000000000:function:f", s.FunctionARN)
	assert.True(t, s.APIVariable)
	assert.Empty(t, s.Wrapper, "the runtime must not see the wrapper variable, or a bootstrap re-reading it would wrap itself")

	again := invokeSeen(t, p, Request{Payload: []byte(`{}`)})
	assert.Equal(t, s.PID, again.PID, "a runtime that answered serves the next invocation (a warm start)")
	assert.Equal(t, "zeebe-1", again.RequestID, "an invocation without a request id gets one")
}

func TestInvokeReportsTheFunctionsError(t *testing.T) {
	p := newFakeProxy(t, "run", 1)
	_, err := p.Invoke(context.Background(), Request{Payload: []byte(`{"errorType":"ValueError","message":"boom"}`)})
	var fe *FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, FunctionError{Type: "ValueError", Message: "boom"}, *fe)
	assert.EqualError(t, err, "ValueError: boom")
}

func TestAnInvocationThatOutlivesItsContextKillsItsRuntime(t *testing.T) {
	p := newFakeProxy(t, "run", 1)
	first := invokeSeen(t, p, Request{Payload: []byte(`{}`)})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errors.New("job deadline"))
	defer cancel()
	_, err := p.Invoke(ctx, Request{Payload: []byte(`{"hang":true}`)})
	require.EqualError(t, err, "job deadline")
	after := invokeSeen(t, p, Request{Payload: []byte(`{}`)})
	assert.NotEqual(t, first.PID, after.PID, "the hung runtime was replaced, as Lambda resets a runtime that timed out")
}

func TestARuntimeThatDiesMidInvocationFailsItAndIsReplaced(t *testing.T) {
	p := newFakeProxy(t, "run", 1)
	first := invokeSeen(t, p, Request{Payload: []byte(`{}`)})
	_, err := p.Invoke(context.Background(), Request{Payload: []byte(`{"exit":true}`)})
	require.ErrorIs(t, err, ErrRuntimeExited)
	assert.Contains(t, err.Error(), "exit status 3")
	after := invokeSeen(t, p, Request{Payload: []byte(`{}`)})
	assert.NotEqual(t, first.PID, after.PID)
}

func TestAnInitErrorFailsTheInvocationWithIt(t *testing.T) {
	p := newFakeProxy(t, "init-error", 1)
	for range 2 { // and again with a fresh runtime, which fails the same way
		_, err := p.Invoke(context.Background(), Request{Payload: []byte(`{}`)})
		var fe *FunctionError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, FunctionError{Type: "Runtime.ImportModuleError", Message: "no module app", Init: true}, *fe)
		assert.EqualError(t, err, "the function's runtime failed to start: Runtime.ImportModuleError: no module app")
	}
}

func TestMaxRuntimesRunsInvocationsSideBySide(t *testing.T) {
	for _, tc := range []struct {
		max, wantPIDs int
	}{{1, 1}, {3, 3}} {
		t.Run(strconv.Itoa(tc.max), func(t *testing.T) {
			p := newFakeProxy(t, "run", tc.max)
			// Three invocations held open at once: with one runtime they
			// queue for it; with three each has its own.
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			var wg sync.WaitGroup
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = p.Invoke(ctx, Request{Payload: []byte(`{"hang":true}`)})
				}()
			}
			wg.Wait()
			// Each hung runtime was killed at the deadline; the number that
			// ever ran is the number of distinct runtimes started.
			assert.Equal(t, tc.wantPIDs, int(p.started.Load()), fmt.Sprintf("MaxRuntimes %d", tc.max))
		})
	}
}

// TestInvokeTimedTimesTheRuntime: the runtime's time runs from handing the
// invocation out to its answer, so it holds the function's work and is part
// of the whole Invoke.
func TestInvokeTimedTimesTheRuntime(t *testing.T) {
	p := newFakeProxy(t, "run", 1)
	for _, tc := range []struct {
		name    string
		payload string
		atLeast time.Duration
		wantErr bool
	}{
		{"a response", `{"sleepMs":60,"echo":{"ok":true}}`, 60 * time.Millisecond, false},
		{"an error", `{"sleepMs":40,"errorType":"ValueError","message":"boom"}`, 40 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, took, err := p.InvokeTimed(context.Background(), Request{Payload: []byte(tc.payload)})
			whole := time.Since(start)
			if tc.wantErr {
				var fe *FunctionError
				require.ErrorAs(t, err, &fe)
			} else {
				require.NoError(t, err)
			}
			assert.GreaterOrEqual(t, took, tc.atLeast)
			assert.LessOrEqual(t, took, whole)
		})
	}
}
