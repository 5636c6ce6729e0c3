// Package runtimeproxy runs a managed Lambda runtime (Python, Node.js, Java)
// as a child process behind a Lambda Runtime API of its own, so that the
// bridge's layer can hand the function one job at a time and read its answer.
//
// AWS_LAMBDA_EXEC_WRAPPER names the layer's binary; the runtime's bootstrap
// starts it with the runtime's own command line, which is the Command here.
// The child gets AWS_LAMBDA_RUNTIME_API pointing at a loopback listener of
// this process; each Invoke becomes one invocation it reads from
// GET /runtime/invocation/next and answers with .../response or .../error,
// exactly as on Lambda. The pattern is AWS's "runtime API proxy" for
// extensions and wrappers.
package runtimeproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// EnvRuntimeAPI is the variable a runtime reads its Runtime API address from.
const EnvRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"

// Config says how to start the runtime.
type Config struct {
	// Command is the runtime's command line (argv), as the wrapper receives it.
	Command []string
	// Env is the runtime's environment; AWS_LAMBDA_RUNTIME_API and
	// AWS_LAMBDA_EXEC_WRAPPER in it are replaced and dropped.
	Env []string
	// Dir is the runtime's working directory; empty means this process's
	// (in Lambda, the function's code: /var/task).
	Dir string
	// MaxRuntimes is how many runtime processes may run invocations at once
	// (each serves one invocation at a time, as on Lambda). Zero means 1.
	MaxRuntimes int
	// Stdout and Stderr receive the runtime's output; nil means this
	// process's own, which Lambda sends to CloudWatch Logs.
	Stdout, Stderr io.Writer
}

// Request is one invocation for the runtime.
type Request struct {
	Payload []byte
	// ClientContext, when set, is sent as Lambda-Runtime-Client-Context:
	// context.client_context in Python, context.clientContext in Node.js.
	ClientContext []byte
	RequestID     string
	FunctionARN   string
	TraceID       string
	// Deadline is what the runtime reports as the invocation's deadline
	// (get_remaining_time_in_millis); zero means none is sent.
	Deadline time.Time
}

// FunctionError is an error the function reported: what the runtime posted
// to /invocation/{id}/error (an uncaught exception), or its init error.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	// Init is set when the runtime failed before it could run the function.
	Init bool `json:"-"`
}

func (e *FunctionError) Error() string {
	if e.Init {
		return fmt.Sprintf("the function's runtime failed to start: %s: %s", e.Type, e.Message)
	}
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// ErrRuntimeExited is wrapped by the error of an invocation whose runtime
// process ended before it answered.
var ErrRuntimeExited = errors.New("the function's runtime exited")

// Proxy hands invocations to runtime processes it starts as needed.
type Proxy struct {
	cfg     Config
	seq     atomic.Int64
	started atomic.Int64  // runtimes started, for tests
	idle    chan *runtime // runtimes waiting for an invocation
	slot    chan struct{} // one token per runtime that exists
	mu      sync.Mutex
	all     map[*runtime]bool
}

// New checks cfg; runtimes start on the first Invoke.
func New(cfg Config) (*Proxy, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("runtimeproxy: no runtime command: the layer's wrapper is started by the runtime's bootstrap with the runtime's command line (AWS_LAMBDA_EXEC_WRAPPER)")
	}
	if cfg.MaxRuntimes <= 0 {
		cfg.MaxRuntimes = 1
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	return &Proxy{cfg: cfg, idle: make(chan *runtime, cfg.MaxRuntimes), slot: make(chan struct{}, cfg.MaxRuntimes), all: map[*runtime]bool{}}, nil
}

// Invoke runs one invocation and returns the function's response body. An
// error the function reported is a *FunctionError; a runtime that died
// wraps ErrRuntimeExited. When ctx ends first the runtime running the
// invocation is killed (Lambda resets a runtime that timed out too) and the
// error is ctx's cause.
func (p *Proxy) Invoke(ctx context.Context, req Request) ([]byte, error) {
	body, _, err := p.InvokeTimed(ctx, req)
	return body, err
}

// InvokeTimed is Invoke that also says how long the runtime had the
// invocation: from handing it out on GET /next to its answer (zero when it
// did not answer). The rest of an Invoke's time is the layer's own.
func (p *Proxy) InvokeTimed(ctx context.Context, req Request) ([]byte, time.Duration, error) {
	rt, err := p.acquire(ctx)
	if err != nil {
		return nil, 0, err
	}
	if req.RequestID == "" {
		req.RequestID = "zeebe-" + strconv.FormatInt(p.seq.Add(1), 10)
	}
	inv := &invocation{req: req, done: make(chan answer, 1)}
	select {
	case rt.next <- inv:
	case <-rt.exited:
		p.discard(rt)
		return nil, 0, rt.exitError()
	case <-ctx.Done():
		p.release(rt) // it never saw the invocation
		return nil, 0, context.Cause(ctx)
	}
	select {
	case a := <-inv.done:
		p.release(rt)
		return a.body, a.took, a.err
	case <-rt.exited:
		p.discard(rt)
		return nil, 0, rt.exitError()
	case <-ctx.Done():
		p.discard(rt)
		return nil, 0, context.Cause(ctx)
	}
}

// Close stops every runtime.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for rt := range p.all {
		rt.stop()
	}
}

func (p *Proxy) acquire(ctx context.Context) (*runtime, error) {
	for {
		var rt *runtime
		select { // an idle runtime first: a new one costs its init
		case rt = <-p.idle:
		default:
			select {
			case rt = <-p.idle:
			case p.slot <- struct{}{}:
				rt, err := p.start()
				if err != nil {
					<-p.slot
					return nil, err
				}
				return rt, nil
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
		select {
		case <-rt.exited: // died while idle: its slot is free again
			p.discard(rt)
		default:
			return rt, nil
		}
	}
}

// release hands a runtime that answered back for the next invocation; the
// channel holds every runtime there can be, so it never blocks.
func (p *Proxy) release(rt *runtime) { p.idle <- rt }

func (p *Proxy) discard(rt *runtime) {
	rt.stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.all[rt] {
		delete(p.all, rt)
		<-p.slot
	}
}

func (p *Proxy) start() (*runtime, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeproxy: listen for the runtime: %w", err)
	}
	rt := &runtime{next: make(chan *invocation), exited: make(chan struct{}), ln: ln}
	rt.srv = &http.Server{Handler: rt.api(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rt.srv.Serve(ln) }()

	cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
	cmd.Env = childEnv(p.cfg.Env, ln.Addr().String())
	cmd.Dir = p.cfg.Dir
	cmd.Stdout, cmd.Stderr = p.cfg.Stdout, p.cfg.Stderr
	if err := cmd.Start(); err != nil {
		_ = rt.srv.Close()
		return nil, fmt.Errorf("runtimeproxy: start the runtime %q: %w", p.cfg.Command[0], err)
	}
	rt.cmd = cmd
	p.started.Add(1)
	go func() {
		err := cmd.Wait()
		rt.mu.Lock()
		rt.waitErr = err
		rt.mu.Unlock()
		close(rt.exited)
		_ = rt.srv.Close()
	}()
	p.mu.Lock()
	p.all[rt] = true
	p.mu.Unlock()
	return rt, nil
}

// childEnv is env with the Runtime API pointing at addr and the wrapper
// variable dropped, so that a runtime which re-reads it does not wrap itself.
func childEnv(env []string, addr string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k == EnvRuntimeAPI || k == "AWS_LAMBDA_EXEC_WRAPPER" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, EnvRuntimeAPI+"="+addr)
}

type invocation struct {
	req       Request
	done      chan answer
	handedOut time.Time // when GET /next returned it, under runtime.mu
}

type answer struct {
	body []byte
	err  error
	took time.Duration // the runtime's time, handed out → answered
}

// runtime is one runtime process and the Runtime API it talks to.
type runtime struct {
	cmd    *exec.Cmd
	srv    *http.Server
	ln     net.Listener
	next   chan *invocation
	exited chan struct{}

	mu      sync.Mutex
	current *invocation
	initErr *FunctionError
	waitErr error
}

func (rt *runtime) stop() {
	if rt.cmd != nil && rt.cmd.Process != nil {
		_ = rt.cmd.Process.Kill()
	}
	_ = rt.srv.Close()
}

func (rt *runtime) exitError() error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.initErr != nil {
		return rt.initErr
	}
	return fmt.Errorf("%w before it answered (%v)", ErrRuntimeExited, rt.waitErr)
}

const prefix = "/2018-06-01/runtime/"

func (rt *runtime) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"invocation/next", rt.nextInvocation)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		rt.answer(w, r, false)
	})
	mux.HandleFunc("POST "+prefix+"invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		rt.answer(w, r, true)
	})
	mux.HandleFunc("POST "+prefix+"init/error", rt.initError)
	return mux
}

func (rt *runtime) nextInvocation(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-rt.next:
	case <-r.Context().Done():
		return
	}
	rt.mu.Lock()
	rt.current = inv
	inv.handedOut = time.Now()
	rt.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.req.RequestID)
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.req.FunctionARN)
	if !inv.req.Deadline.IsZero() {
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.req.Deadline.UnixMilli(), 10))
	}
	if inv.req.TraceID != "" {
		h.Set("Lambda-Runtime-Trace-Id", inv.req.TraceID)
	}
	if len(inv.req.ClientContext) > 0 {
		h.Set("Lambda-Runtime-Client-Context", string(inv.req.ClientContext))
	}
	_, _ = w.Write(inv.req.Payload)
}

func (rt *runtime) answer(w http.ResponseWriter, r *http.Request, isErr bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rt.mu.Lock()
	inv := rt.current
	if inv == nil || inv.req.RequestID != r.PathValue("id") {
		rt.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"errorMessage":"invalid request id","errorType":"InvalidRequestID"}`)
		return
	}
	rt.current = nil
	took := time.Since(inv.handedOut)
	rt.mu.Unlock()
	a := answer{body: body, took: took}
	if isErr {
		a = answer{err: functionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type")), took: took}
	}
	inv.done <- a
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func (rt *runtime) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fe := functionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	fe.Init = true
	rt.mu.Lock()
	rt.initErr = fe
	rt.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
	// A runtime that failed its init is not used again: Lambda starts a
	// fresh one for the next invocation, and so does the proxy.
	go func() {
		select {
		case <-rt.exited:
		case <-time.After(time.Second):
			rt.stop()
		}
	}()
}

// functionError reads an error body: {"errorType","errorMessage",...}; the
// header names the type when the body does not.
func functionError(body []byte, headerType string) *FunctionError {
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil {
		fe = FunctionError{Message: strings.TrimSpace(string(body))}
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	return &fe
}

// Prestart starts one runtime now, so that its init overlaps the Lambda
// init phase instead of delaying the first job.
func (p *Proxy) Prestart() error {
	select {
	case p.slot <- struct{}{}:
	default:
		return nil // runtimes exist already
	}
	rt, err := p.start()
	if err != nil {
		<-p.slot
		return err
	}
	p.release(rt)
	return nil
}
