package processview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// Element states, as the page marks them.
const (
	StateCompleted  = "completed"
	StateActive     = "active"
	StateIncident   = "incident"
	StateTerminated = "terminated"
)

// Instance is everything an instance's page shows.
type Instance struct {
	Summary
	ResourceName string     `json:"resourceName"`
	Elements     []Element  `json:"elements"`
	Flows        []string   `json:"flows"` // sequence flows taken
	Variables    []Variable `json:"variables"`
	Incidents    []Incident `json:"incidents"`
	Jobs         []Job      `json:"jobs"`
}

// Element is how one BPMN element of the instance stands.
type Element struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	State string `json:"state"` // completed, active, incident, terminated
	Runs  int    `json:"runs"`  // times it was activated
	// Ended says how the last terminated run ended (interrupted by a
	// boundary event, terminated by a terminate end event, cancelled).
	Ended string `json:"ended,omitempty"`
}

// Variable is a process-scope variable as last set, as compact JSON.
type Variable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Incident is one incident of the instance.
type Incident struct {
	Key       int64     `json:"key"`
	ElementID string    `json:"elementId"`
	ErrorType string    `json:"errorType"`
	Message   string    `json:"message"`
	JobKey    int64     `json:"jobKey,omitempty"`
	Created   time.Time `json:"created"`
	Resolved  bool      `json:"resolved"`
}

// Job is one job of the instance: for a Lambda task, one call of its
// function with Zeebe's retries.
type Job struct {
	Key       int64         `json:"key"`
	ElementID string        `json:"elementId"`
	Type      string        `json:"type"`
	Function  string        `json:"function,omitempty"` // the identifier header
	Outcome   string        `json:"outcome"`            // running, completed, failed, BPMN error, timed out, cancelled
	Detail    string        `json:"detail,omitempty"`
	Retries   int32         `json:"retries"` // left
	Created   time.Time     `json:"created"`
	Ended     *time.Time    `json:"ended,omitempty"`
	Duration  time.Duration `json:"-"`
	Millis    int64         `json:"durationMs"`
	History   []string      `json:"history"` // every failure, timeout and retry before the outcome
	Logs      []LogLine     `json:"logs"`
	LogsError string        `json:"logsError,omitempty"`
}

// build makes an instance's page from its records; now is when a running job is measured to.
func build(in *instance, p *Process, now time.Time) Instance {
	st, started, ended := status(in.recs)
	out := Instance{Summary: Summary{Key: in.key, ProcessKey: in.processKey, BPMNProcessID: in.bpmnProcessID,
		Version: in.version, State: st, Started: started, Ended: ended},
		Elements: []Element{}, Flows: []string{}, Variables: []Variable{}, Incidents: []Incident{}, Jobs: []Job{}}
	if p != nil {
		out.ResourceName = p.ResourceName
	}

	// Why each terminated element ended, as the timeline tells it.
	why := map[string]string{}
	for _, s := range recordlog.Timeline(in.recs) {
		if s.Outcome == "interrupted" || s.Outcome == "terminated" || s.Outcome == "cancelled" {
			why[s.ElementID] = strings.TrimSpace(s.Outcome + " " + s.Detail)
		}
	}

	type elem struct {
		Element
		open map[int64]bool // element instances active now
		last string         // how the last run ended
	}
	elems := map[string]*elem{}
	get := func(r recordlog.Record) *elem {
		e := elems[r.Value.ElementID]
		if e == nil {
			e = &elem{Element: Element{ID: r.Value.ElementID, Type: r.Value.BPMNElementType}, open: map[int64]bool{}}
			elems[r.Value.ElementID] = e
		}
		return e
	}
	incidents := map[int64]*Incident{}
	var incOrder []int64
	jobs := map[int64]*Job{}
	var jobOrder []int64
	for _, r := range in.recs {
		switch r.ValueType {
		case "PROCESS_INSTANCE":
			t := r.Value.BPMNElementType
			if t == "PROCESS" || t == "MULTI_INSTANCE_BODY" {
				continue // the process is the diagram itself; a body shares its element with the runs
			}
			if t == "SEQUENCE_FLOW" {
				if r.Intent == "SEQUENCE_FLOW_TAKEN" && !slices.Contains(out.Flows, r.Value.ElementID) {
					out.Flows = append(out.Flows, r.Value.ElementID)
				}
				continue
			}
			e := get(r)
			switch r.Intent {
			case "ELEMENT_ACTIVATING":
				e.Runs++
				e.open[r.Key] = true
			case "ELEMENT_COMPLETED":
				delete(e.open, r.Key)
				e.last = StateCompleted
			case "ELEMENT_TERMINATED":
				delete(e.open, r.Key)
				e.last = StateTerminated
			}
		case "INCIDENT":
			switch r.Intent {
			case "CREATED":
				incidents[r.Key] = &Incident{Key: r.Key, ElementID: r.Value.ElementID, ErrorType: r.Value.ErrorType,
					Message: r.Value.ErrorMessage, JobKey: r.Value.JobKey, Created: r.Time()}
				incOrder = append(incOrder, r.Key)
			case "RESOLVED":
				if i := incidents[r.Key]; i != nil {
					i.Resolved = true
				}
			}
		case "JOB":
			j := jobs[r.Key]
			if j == nil {
				if r.Intent != "CREATED" {
					continue
				}
				j = &Job{Key: r.Key, ElementID: r.Value.ElementID, Type: r.Value.Type,
					Function: r.Value.CustomHeaders[jobmsg.HeaderIdentifier], Outcome: "running",
					Retries: r.Value.Retries, Created: r.Time(), History: []string{}, Logs: []LogLine{}}
				jobs[r.Key] = j
				jobOrder = append(jobOrder, r.Key)
				continue
			}
			jobEvent(j, r)
		}
	}

	openIncident := map[string]bool{}
	for _, k := range incOrder {
		i := incidents[k]
		out.Incidents = append(out.Incidents, *i)
		if !i.Resolved {
			openIncident[i.ElementID] = true
		}
	}
	ids := make([]string, 0, len(elems))
	for id := range elems {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		e := elems[id]
		switch {
		case openIncident[id]:
			e.State = StateIncident
		case len(e.open) > 0:
			e.State = StateActive
		default:
			e.State = e.last
		}
		if e.last == StateTerminated {
			e.Ended = why[id]
		}
		out.Elements = append(out.Elements, e.Element)
	}
	// An incident on an element that never activated (a start event's
	// output mapping, say) still marks it.
	for id := range openIncident {
		if _, ok := elems[id]; !ok && id != "" {
			out.Elements = append(out.Elements, Element{ID: id, State: StateIncident})
		}
	}

	vars := recordlog.Variables(in.recs) // already compacted by the index
	for _, name := range sortedKeys(vars) {
		out.Variables = append(out.Variables, Variable{Name: name, Value: string(vars[name])})
	}
	for _, k := range jobOrder {
		j := jobs[k]
		end := now
		if j.Ended != nil {
			end = *j.Ended
		}
		j.Duration = end.Sub(j.Created)
		j.Millis = j.Duration.Milliseconds()
		out.Jobs = append(out.Jobs, *j)
	}
	return out
}

// jobEvent applies one JOB event after CREATED to j.
func jobEvent(j *Job, r recordlog.Record) {
	end := func(outcome, detail string) {
		t := r.Time()
		j.Outcome, j.Detail, j.Ended = outcome, detail, &t
	}
	j.Retries = r.Value.Retries
	switch r.Intent {
	case "COMPLETED":
		end("completed", "")
	case "ERROR_THROWN":
		end("BPMN error", strings.TrimSpace(r.Value.ErrorCode+" "+r.Value.ErrorMessage))
	case "CANCELED":
		end("cancelled", "")
	case "FAILED":
		detail := fmt.Sprintf("failed: %s (retries left: %d)", r.Value.ErrorMessage, r.Value.Retries)
		j.History = append(j.History, detail)
		if r.Value.Retries <= 0 {
			end("failed", r.Value.ErrorMessage)
			return
		}
		j.Outcome, j.Detail, j.Ended = "running", "", nil
	case "TIMED_OUT":
		j.History = append(j.History, "timed out: handed out again")
	case "RETRIES_UPDATED":
		j.History = append(j.History, fmt.Sprintf("retries set to %d", r.Value.Retries))
		if j.Outcome == "failed" && r.Value.Retries > 0 {
			j.Outcome, j.Detail, j.Ended = "running", "", nil
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// maxValue is how much of a variable the page shows: a long one is cut, with its size.
const maxValue = 2000

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	s := string(raw)
	if json.Compact(&b, raw) == nil { // keeps every digit, unlike a round trip through any
		s = b.String()
	}
	if len(s) <= maxValue {
		return s
	}
	cut := maxValue
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:cut], len(raw))
}
