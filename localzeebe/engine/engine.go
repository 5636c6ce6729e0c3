// Package engine is the local Zeebe-compatible workflow engine: a single
// partition that processes commands into records the way Zeebe 8.5 does.
//
// Every command (from a client, or from the engine's own clock: job
// timeouts, timers, retry backoffs, message expiry) is processed into events,
// follow-up commands and rejections. The follow-up commands are processed
// within the same batch, as Zeebe's batch processing does. The records of a
// batch are committed to the embedded store before any command of it is
// answered and are then exported as JSON lines. The state is what processing
// the stored root commands again yields: processing depends only on the state
// and the command (its timestamp included), never on the wall clock or map
// order, so a restart after kill -9 rebuilds exactly the state the clients saw.
package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config configures an engine.
type Config struct {
	DataDir   string       // the embedded store's directory
	RecordLog string       // JSON-lines file every record is appended to; "" = none
	Logger    *slog.Logger // nil = discard
	// Now is the clock; nil = time.Now. Tests may move it.
	Now func() time.Time
	// TickInterval is how often due jobs, timers and backoffs are checked (default 50ms).
	TickInterval time.Duration
	// Fsync makes every commit wait for the disk. Without it a commit reaches
	// the operating system before a command is answered, which survives the
	// engine being killed (kill -9) but not the machine losing power: the
	// right trade for a local development engine, and what makes it fast.
	Fsync bool
}

// ErrClosed is returned for commands sent to a closed engine.
var ErrClosed = errors.New("the engine is shut down")

// Rejection is a command the engine refused, as Zeebe reports it.
type Rejection struct {
	Intent string // the command's intent, e.g. COMPLETE
	Type   string // INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, INVALID_STATE, PROCESSING_ERROR
	Reason string
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("Command '%s' rejected with code '%s': %s", r.Intent, r.Type, r.Reason)
}

// Engine is a running engine. Its methods are safe for concurrent use.
type Engine struct {
	cfg       Config
	log       *slog.Logger
	store     *store
	exp       *exporter
	st        *state
	reqs      chan *request
	quit      chan struct{}
	failed    chan struct{} // closed when a commit failed: the engine stops
	done      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	listeners map[int]func(jobTypes []string)
	nextLis   int
	results   map[int64][]chan *InstanceResult
}

type request struct {
	rec    *Record
	resp   chan outcome
	result chan *InstanceResult // for CreateInstanceWithResult
}

type outcome struct {
	value any
	err   error
}

// Open opens (or creates) the store, replays it and starts processing.
func Open(cfg Config) (*Engine, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s, err := openStore(cfg.DataDir, cfg.Fsync)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: lg, store: s, st: newState(), reqs: make(chan *request, 1024),
		quit: make(chan struct{}), failed: make(chan struct{}), done: make(chan struct{}), listeners: map[int]func([]string){},
		results: map[int64][]chan *InstanceResult{}}
	start := time.Now()
	n, err := e.replay()
	if err != nil {
		_ = s.close()
		return nil, err
	}
	exp, last, err := openExporter(cfg.RecordLog)
	if err != nil {
		_ = s.close()
		return nil, err
	}
	e.exp = exp
	// Records committed but not exported before a crash are exported now.
	if exp != nil && last < e.st.position {
		if err := e.exportStored(last + 1); err != nil {
			_ = s.close()
			return nil, err
		}
	}
	lg.Info("engine ready", "replayedCommands", n, "position", e.st.position, "replay", time.Since(start).String())
	go e.loop()
	return e, nil
}

// rootCommandSuffix ends every root command as marshal writes it: a command
// from a client or the clock, with no source record.
var rootCommandSuffix = []byte(`"sourceRecordPosition":-1,"brokerVersion":"` + BrokerVersion + `","recordType":"COMMAND"}`)

// replay processes the stored root commands again to rebuild the state.
func (e *Engine) replay() (int, error) {
	n := 0
	err := e.store.each(1, func(b []byte) error {
		// Only root commands are processed again; the records they caused
		// follow from them, positions included. Records are written by
		// marshal, so a root command is told by its last fields without
		// decoding the rest (a record may hold megabytes of variables).
		if !bytes.HasSuffix(b, rootCommandSuffix) {
			return nil
		}
		var head struct {
			Position int64 `json:"position"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return fmt.Errorf("replay: record after position %d: %w", e.st.position, err)
		}
		rec, err := decodeRecord(b)
		if err != nil {
			return fmt.Errorf("replay: record at position %d: %w", head.Position, err)
		}
		e.st.position = head.Position - 1
		p := e.newProc(rec.Timestamp)
		p.replaying = true
		p.run(rec)
		n++
		return nil
	})
	return n, err
}

func (e *Engine) exportStored(from int64) error {
	var batch [][]byte
	err := e.store.each(from, func(b []byte) error {
		var p struct {
			Position int64 `json:"position"`
		}
		if json.Unmarshal(b, &p) != nil || p.Position < from {
			return nil
		}
		batch = append(batch, append([]byte(nil), b...))
		if len(batch) == 1024 {
			err := e.exp.export(batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export stored records: %w", err)
	}
	return e.exp.export(batch)
}

// Records calls fn with every stored record from position from on (and
// possibly a few before it, from the same batch), in position order, as the
// JSON the record log holds. It reads a snapshot of the store, so it can run
// while the engine processes; record is valid only during the call.
func (e *Engine) Records(from int64, fn func(record []byte) error) error {
	return e.store.each(from, fn)
}

// Close stops processing and closes the store. Commands in flight are answered with ErrClosed.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.quit)
		<-e.done
		err = errors.Join(e.exp.close(), e.store.close())
	})
	return err
}

// OnJobsAvailable registers fn, called (outside the engine's lock, from the
// processing goroutine) with the job types that became activatable after a
// batch. It returns a function that unregisters it.
func (e *Engine) OnJobsAvailable(fn func(jobTypes []string)) (cancel func()) {
	e.mu.Lock()
	id := e.nextLis
	e.nextLis++
	e.listeners[id] = fn
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		delete(e.listeners, id)
		e.mu.Unlock()
	}
}

// submit sends a command to the processing goroutine and waits for its outcome.
func (e *Engine) submit(ctx context.Context, rec *Record) (any, error) {
	return e.send(ctx, &request{rec: rec, resp: make(chan outcome, 1)})
}

func (e *Engine) send(ctx context.Context, req *request) (any, error) {
	select {
	case e.reqs <- req:
	case <-e.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case out := <-req.resp:
		return out.value, out.err
	case <-e.done:
		// The loop may have answered just before it stopped.
		select {
		case out := <-req.resp:
			return out.value, out.err
		default:
			return nil, ErrClosed
		}
	}
	// No ctx case here: once the command is in the loop, it is processed and
	// committed whatever the caller does, and the caller learns the outcome.
}

const maxBatch = 256

func (e *Engine) loop() {
	// The writer commits, exports and answers one batch while the loop
	// processes the next: processing and storage use a core each. It keeps
	// the batches' order, and nobody hears of a batch before it is committed.
	commits := make(chan *pending, 2)
	written := make(chan struct{})
	go e.writer(commits, written)
	defer func() {
		close(commits)
		<-written
		close(e.done)
	}()
	tick := time.NewTicker(e.cfg.TickInterval)
	defer tick.Stop()
	for {
		var batch []*request
		select {
		case <-e.quit:
			e.drain()
			return
		case <-e.failed:
			e.drain()
			return
		case r := <-e.reqs:
			batch = append(batch, r)
		drain:
			for len(batch) < maxBatch {
				select {
				case r := <-e.reqs:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			commits <- e.processBatch(batch, false)
		case <-tick.C:
			commits <- e.processBatch(nil, true)
		}
	}
}

func (e *Engine) drain() {
	for {
		select {
		case r := <-e.reqs:
			r.resp <- outcome{err: ErrClosed}
		default:
			return
		}
	}
}

// pending is a processed batch waiting to be committed and answered.
type pending struct {
	batch []*request
	outs  []outcome
	procs []*proc
}

// processBatch processes the requests (and, on a tick, what is due); the
// writer commits what they wrote.
func (e *Engine) processBatch(batch []*request, tick bool) *pending {
	pb := &pending{batch: batch, outs: make([]outcome, len(batch))}
	for i, r := range batch {
		p := e.newProc(e.cfg.Now().UnixMilli())
		p.req = r
		value, err := p.run(r.rec)
		pb.outs[i] = outcome{value: value, err: err}
		pb.procs = append(pb.procs, p)
	}
	if tick {
		pb.procs = append(pb.procs, e.processDue(e.cfg.Now().UnixMilli())...)
	}
	return pb
}

// writer commits every record of a batch in one transaction, exports them,
// then answers the batch's commands and tells the listeners.
func (e *Engine) writer(commits <-chan *pending, done chan<- struct{}) {
	defer close(done)
	var broken error
	for pb := range commits {
		if broken != nil {
			for _, r := range pb.batch {
				r.resp <- outcome{err: broken}
			}
			continue
		}
		var recs []*Record
		var encoded [][]byte
		for _, p := range pb.procs {
			for _, r := range p.written {
				recs = append(recs, r)
				encoded = append(encoded, marshal(r))
			}
		}
		if len(recs) > 0 {
			if err := e.store.append(recs, encoded); err != nil {
				// The state already moved on; without the log it cannot be trusted.
				e.log.Error("could not commit records; the engine stops", "error", err)
				broken = fmt.Errorf("commit records: %w", err)
				for _, r := range pb.batch {
					r.resp <- outcome{err: broken}
				}
				close(e.failed)
				continue
			}
			if err := e.exp.export(encoded); err != nil {
				e.log.Error("could not write the record log", "error", err)
			}
		}
		for i, r := range pb.batch {
			r.resp <- pb.outs[i]
		}
		e.notify(pb.procs)
	}
}

func (e *Engine) notify(procs []*proc) {
	types := map[string]bool{}
	var finished []*InstanceResult
	for _, p := range procs {
		for t := range p.jobsAvailable {
			types[t] = true
		}
		finished = append(finished, p.finished...)
	}
	e.mu.Lock()
	var lis []func([]string)
	if len(types) > 0 {
		for _, fn := range e.listeners {
			lis = append(lis, fn)
		}
	}
	var deliver []func()
	for _, f := range finished {
		for _, ch := range e.results[f.ProcessInstanceKey] {
			ch, f := ch, f
			deliver = append(deliver, func() { ch <- f })
		}
		delete(e.results, f.ProcessInstanceKey)
	}
	e.mu.Unlock()
	for _, d := range deliver {
		d()
	}
	if len(lis) > 0 {
		list := make([]string, 0, len(types))
		for t := range types {
			list = append(list, t)
		}
		for _, fn := range lis {
			fn(list)
		}
	}
}
