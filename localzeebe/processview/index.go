// Package processview serves the local process view: a page per deployed
// process and per instance, drawn from the engine's own records, with the
// instance's BPMN diagram (rendered in the browser by bpmn-js) marked with
// what completed, what is active and where incidents are, its variables,
// incidents and jobs, and for each Lambda task the function's log lines for
// that job. cmd/localzeebe serves it beside the gateway (-view-addr).
package processview

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// RecordSource gives the engine's records in position order; the engine's
// Records method is one. record is valid only during the call.
type RecordSource interface {
	Records(from int64, fn func(record []byte) error) error
}

// Process is one deployed process version.
type Process struct {
	Key           int64     `json:"key"`
	BPMNProcessID string    `json:"bpmnProcessId"`
	Version       int32     `json:"version"`
	ResourceName  string    `json:"resourceName"`
	Deployed      time.Time `json:"deployed"`
	Instances     int       `json:"instances"`
	xml           []byte
}

// instance is the records of one process instance, in log order.
type instance struct {
	key, processKey int64
	bpmnProcessID   string
	version         int32
	recs            []recordlog.Record
}

// Index keeps what the view shows, read from a RecordSource as it grows. It
// reads only when asked (each page or poll), so an engine nobody looks at
// pays nothing for it. It is safe for concurrent use.
type Index struct {
	src RecordSource

	mu        sync.Mutex
	next      int64 // position of the next record to read
	procs     map[int64]*Process
	procOrder []int64
	insts     map[int64]*instance
	instOrder []int64
}

// NewIndex returns an index of src's records.
func NewIndex(src RecordSource) *Index {
	return &Index{src: src, next: 1, procs: map[int64]*Process{}, insts: map[int64]*instance{}}
}

// viewed are the value types an instance's page is made of.
var viewed = map[string]bool{"PROCESS_INSTANCE": true, "JOB": true, "INCIDENT": true, "VARIABLE": true}

// refresh reads the records appended since the last call; the caller holds mu.
func (x *Index) refresh() error {
	err := x.src.Records(x.next, func(b []byte) error {
		var r recordlog.Record
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("decode record after position %d: %w", x.next-1, err)
		}
		if r.Position < x.next {
			return nil // the part of a batch before from
		}
		x.next = r.Position + 1
		if r.RecordType != "EVENT" {
			return nil
		}
		switch {
		case r.ValueType == "PROCESS" && r.Intent == "CREATED":
			var v struct {
				Value struct {
					BPMNProcessID        string `json:"bpmnProcessId"`
					Version              int32  `json:"version"`
					ProcessDefinitionKey int64  `json:"processDefinitionKey"`
					ResourceName         string `json:"resourceName"`
					Resource             []byte `json:"resource"`
				} `json:"value"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("decode process record at position %d: %w", r.Position, err)
			}
			p := &Process{Key: v.Value.ProcessDefinitionKey, BPMNProcessID: v.Value.BPMNProcessID, Version: v.Value.Version,
				ResourceName: v.Value.ResourceName, Deployed: r.Time(), xml: v.Value.Resource}
			if _, seen := x.procs[p.Key]; !seen {
				x.procOrder = append(x.procOrder, p.Key)
			}
			x.procs[p.Key] = p
		case viewed[r.ValueType] && r.Value.ProcessInstanceKey > 0:
			in := x.insts[r.Value.ProcessInstanceKey]
			if in == nil {
				// The first may be a VARIABLE: creation sets them before the process activates.
				in = &instance{key: r.Value.ProcessInstanceKey, processKey: r.Value.ProcessDefKey,
					bpmnProcessID: r.Value.BPMNProcessID, version: r.Value.Version}
				if p := x.procs[in.processKey]; p != nil {
					in.bpmnProcessID, in.version = p.BPMNProcessID, p.Version // a VARIABLE has no version
				}
				x.insts[in.key] = in
				x.instOrder = append(x.instOrder, in.key)
				if p := x.procs[in.processKey]; p != nil {
					p.Instances++
				}
			}
			if r.ValueType == "VARIABLE" {
				// Kept as the page shows it: a megabyte variable costs the view 2 KB.
				r.Value.Value = compact(json.RawMessage(r.Value.Value))
			}
			in.recs = append(in.recs, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the engine's records: %w", err)
	}
	return nil
}

// Summary is one line of the list of instances.
type Summary struct {
	Key           int64      `json:"key"`
	ProcessKey    int64      `json:"processDefinitionKey"`
	BPMNProcessID string     `json:"bpmnProcessId"`
	Version       int32      `json:"version"`
	State         string     `json:"state"`
	Started       time.Time  `json:"started"`
	Ended         *time.Time `json:"ended,omitempty"`
}

// Overview returns the deployed processes (oldest first) and the instances,
// newest first.
func (x *Index) Overview() ([]Process, []Summary, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.refresh(); err != nil {
		return nil, nil, err
	}
	procs := make([]Process, 0, len(x.procOrder))
	for _, k := range x.procOrder {
		procs = append(procs, *x.procs[k])
	}
	sums := make([]Summary, 0, len(x.instOrder))
	for _, k := range slices.Backward(x.instOrder) {
		in := x.insts[k]
		st, started, ended := status(in.recs)
		sums = append(sums, Summary{Key: in.key, ProcessKey: in.processKey, BPMNProcessID: in.bpmnProcessID,
			Version: in.version, State: st, Started: started, Ended: ended})
	}
	return procs, sums, nil
}

// ProcessXML returns the BPMN XML a process was deployed with, with a
// diagram laid out if it has none (WithDiagram).
func (x *Index) ProcessXML(key int64) ([]byte, bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.refresh(); err != nil {
		return nil, false, err
	}
	p, ok := x.procs[key]
	if !ok {
		return nil, false, nil
	}
	return WithDiagram(p.xml), true, nil
}

// records returns a copy of an instance's records and its process.
func (x *Index) records(key int64) (*instance, *Process, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.refresh(); err != nil {
		return nil, nil, err
	}
	in, ok := x.insts[key]
	if !ok {
		return nil, nil, nil
	}
	cp := *in
	cp.recs = slices.Clone(in.recs)
	var p *Process
	if pp, ok := x.procs[in.processKey]; ok {
		c := *pp
		p = &c
	}
	return &cp, p, nil
}

// status is how an instance stands: active, incident, completed or terminated.
func status(recs []recordlog.Record) (string, time.Time, *time.Time) {
	var started time.Time
	open := map[int64]bool{}
	for _, r := range recs {
		switch {
		case r.Is("PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.Value.BPMNElementType == "PROCESS" && started.IsZero():
			started = r.Time()
		case r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "PROCESS":
			t := r.Time()
			return "completed", started, &t
		case r.Is("PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Value.BPMNElementType == "PROCESS":
			t := r.Time()
			return "terminated", started, &t
		case r.Is("INCIDENT", "CREATED"):
			open[r.Key] = true
		case r.Is("INCIDENT", "RESOLVED"):
			delete(open, r.Key)
		}
	}
	if len(open) > 0 {
		return "incident", started, nil
	}
	return "active", started, nil
}
