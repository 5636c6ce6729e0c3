// Package recordlog reads the records the local Zeebe engine writes as JSON
// lines, in the shape Zeebe's exporters use (localstack/stack names the file). Zeebe
// 8.5 has no query API over gRPC, so this is how the tests and the demo see
// what the engine really did: which elements completed, which jobs failed with
// how many retries left, which incidents were raised and why.
package recordlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Record is one exported Zeebe record, with the value fields the bridge uses.
type Record struct {
	Position        int64  `json:"position"`
	Key             int64  `json:"key"`
	Timestamp       int64  `json:"timestamp"`  // epoch ms
	RecordType      string `json:"recordType"` // EVENT, COMMAND, COMMAND_REJECTION
	ValueType       string `json:"valueType"`  // PROCESS_INSTANCE, JOB, INCIDENT, VARIABLE, ...
	Intent          string `json:"intent"`
	RejectionType   string `json:"rejectionType"`
	RejectionReason string `json:"rejectionReason"`
	Value           Value  `json:"value"`
}

// Value holds the fields of record values that matter here; which are set
// depends on the value type.
type Value struct {
	ProcessInstanceKey int64             `json:"processInstanceKey"`
	ProcessDefKey      int64             `json:"processDefinitionKey"`
	Version            int32             `json:"version"`
	BPMNProcessID      string            `json:"bpmnProcessId"`
	ElementID          string            `json:"elementId"`
	ElementInstanceKey int64             `json:"elementInstanceKey"`
	FlowScopeKey       int64             `json:"flowScopeKey"`
	BPMNElementType    string            `json:"bpmnElementType"`
	BPMNEventType      string            `json:"bpmnEventType"`
	Type               string            `json:"type"` // job type
	Retries            int32             `json:"retries"`
	Worker             string            `json:"worker"`
	CustomHeaders      map[string]string `json:"customHeaders"`
	ErrorMessage       string            `json:"errorMessage"`
	ErrorCode          string            `json:"errorCode"`
	ErrorType          string            `json:"errorType"` // incident
	JobKey             int64             `json:"jobKey"`    // incident
	Name               string            `json:"name"`      // variable
	Value              string            `json:"value"`     // variable, as JSON text
	ScopeKey           int64             `json:"scopeKey"`  // variable
	Deadline           int64             `json:"deadline"`  // job, epoch ms (-1 before activation)
}

// Time is the record's timestamp.
func (r Record) Time() time.Time { return time.UnixMilli(r.Timestamp) }

// Is reports whether r is an event of the given value type and intent.
func (r Record) Is(valueType, intent string) bool {
	return r.RecordType == "EVENT" && r.ValueType == valueType && r.Intent == intent
}

// DefaultPath is $ZEEBE_RECORD_LOG, or .local/logs/zeebe-records.jsonl in the
// repository that contains the working directory.
func DefaultPath() string {
	if p := os.Getenv("ZEEBE_RECORD_LOG"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join(".local", "logs", "zeebe-records.jsonl")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, ".local", "logs", "zeebe-records.jsonl")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, ".local", "logs", "zeebe-records.jsonl")
		}
	}
}

// Log follows a record file. It is safe for concurrent use.
type Log struct {
	path string

	mu      sync.Mutex
	offset  int64
	partial bool // offset is inside a line: skip to the next one
	byInst  map[int64][]Record
}

// Open returns a Log reading path from its beginning; the file need not
// exist yet.
func Open(path string) *Log {
	return &Log{path: path, byInst: map[int64][]Record{}}
}

// Follow returns a Log that reads only what is appended to path from now on:
// the records of instances started after the call. The local engine's log
// keeps growing with its state (hundreds of megabytes after a few
// benchmarks), and reading it all from the start cost every test a minute.
func Follow(path string) (*Log, error) {
	l := Open(path)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open Zeebe record log: %w", err)
	}
	defer f.Close()
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("seek Zeebe record log: %w", err)
	}
	l.offset = end
	if end > 0 {
		// Mid-line (the engine is writing one): the rest of that line is
		// skipped by the first read.
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, end-1); err != nil {
			return nil, fmt.Errorf("read Zeebe record log: %w", err)
		}
		l.partial = last[0] != '\n'
	}
	return l, nil
}

// Path is the file the log reads.
func (l *Log) Path() string { return l.path }

// refresh reads the complete lines appended since the last call.
func (l *Log) refresh() error {
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open Zeebe record log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return fmt.Errorf("seek Zeebe record log: %w", err)
	}
	rd := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil { // an incomplete last line is read again next time
			return nil
		}
		l.offset += int64(len(line))
		if l.partial {
			l.partial = false
			continue
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' {
			continue // the exporter's own "opened"/"closed" lines
		}
		var r Record
		if json.Unmarshal(line, &r) != nil {
			continue
		}
		if r.Value.ProcessInstanceKey <= 0 {
			continue
		}
		l.byInst[r.Value.ProcessInstanceKey] = append(l.byInst[r.Value.ProcessInstanceKey], r)
	}
}

// Instance returns the records of one process instance seen so far, in log order.
func (l *Log) Instance(processInstanceKey int64) ([]Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.refresh(); err != nil {
		return nil, err
	}
	return append([]Record(nil), l.byInst[processInstanceKey]...), nil
}

// WaitFor polls until a record of the instance satisfies match, or ctx ends.
func (l *Log) WaitFor(ctx context.Context, processInstanceKey int64, match func(Record) bool) (Record, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		recs, err := l.Instance(processInstanceKey)
		if err != nil {
			return Record{}, err
		}
		for _, r := range recs {
			if match(r) {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return Record{}, fmt.Errorf("process instance %d: no matching record in %s: %w", processInstanceKey, l.path, ctx.Err())
		case <-tick.C:
		}
	}
}

// Ending is how a process instance came to rest.
type Ending struct {
	Completed  bool    // the process completed
	Cancelled  bool    // the process was terminated: cancelled
	EndEventID string  // the end event it completed through
	Incident   *Record // the first incident, if it stopped on one
	At         time.Time
}

// WaitEnd waits until the instance completes, is terminated or raises an incident.
func (l *Log) WaitEnd(ctx context.Context, processInstanceKey int64) (Ending, error) {
	var end Ending
	_, err := l.WaitFor(ctx, processInstanceKey, func(r Record) bool {
		switch {
		case r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "END_EVENT":
			end.EndEventID = r.Value.ElementID
		case r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "PROCESS":
			end.Completed, end.At = true, r.Time()
			return true
		case r.Is("PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Value.BPMNElementType == "PROCESS":
			end.Cancelled, end.At = true, r.Time()
			return true
		case r.Is("INCIDENT", "CREATED"):
			rr := r
			end.Incident, end.At = &rr, r.Time()
			return true
		}
		return false
	})
	return end, err
}

// Variables returns the instance's process-scope variables as last set, each
// as raw JSON.
func Variables(recs []Record) map[string]json.RawMessage {
	vars := map[string]json.RawMessage{}
	for _, r := range recs {
		if r.RecordType == "EVENT" && r.ValueType == "VARIABLE" && r.Value.ScopeKey == r.Value.ProcessInstanceKey {
			vars[r.Value.Name] = json.RawMessage(r.Value.Value)
		}
	}
	return vars
}

// Jobs returns the JOB events of the instance (CREATED, COMPLETED, FAILED,
// ERROR_THROWN, TIMED_OUT, RETRIES_UPDATED ...), in log order.
func Jobs(recs []Record) []Record {
	var out []Record
	for _, r := range recs {
		if r.RecordType == "EVENT" && r.ValueType == "JOB" {
			out = append(out, r)
		}
	}
	return out
}
