package recordlog

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Step is one thing that happened to a job of a process instance.
type Step struct {
	At        time.Duration // since the instance started
	ElementID string
	Function  string // the identifier header
	Outcome   string // completed, failed, BPMN error, timed out, incident
	Detail    string
	Took      time.Duration // since the job was created or last failed
}

// Timeline extracts the job steps of one instance from its records.
func Timeline(recs []Record) []Step {
	var start time.Time
	since := map[int64]time.Time{} // job key -> when it became activatable
	var steps []Step
	for _, r := range recs {
		if start.IsZero() && r.Is("PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.Value.BPMNElementType == "PROCESS" {
			start = r.Time()
		}
		if r.RecordType != "EVENT" {
			continue
		}
		s := Step{ElementID: r.Value.ElementID, Function: r.Value.CustomHeaders[jobmsg.HeaderIdentifier]}
		switch {
		case r.ValueType == "JOB" && r.Intent == "CREATED":
			since[r.Key] = r.Time()
			continue
		case r.ValueType == "JOB" && r.Intent == "COMPLETED":
			s.Outcome = "completed"
		case r.ValueType == "JOB" && r.Intent == "FAILED":
			s.Outcome = "failed"
			s.Detail = fmt.Sprintf("%s (retries left: %d)", r.Value.ErrorMessage, r.Value.Retries)
		case r.ValueType == "JOB" && r.Intent == "ERROR_THROWN":
			s.Outcome = "BPMN error"
			s.Detail = strings.TrimSpace(r.Value.ErrorCode + " " + r.Value.ErrorMessage)
		case r.ValueType == "JOB" && r.Intent == "TIMED_OUT":
			s.Outcome = "timed out"
		case r.ValueType == "INCIDENT" && r.Intent == "CREATED":
			s.Outcome = "INCIDENT"
			s.Detail = r.Value.ErrorType + ": " + r.Value.ErrorMessage
		default:
			continue
		}
		if t, ok := since[r.Key]; ok && r.ValueType == "JOB" {
			s.Took = r.Time().Sub(t)
			since[r.Key] = r.Time() // a retry starts from the failure
		}
		if !start.IsZero() {
			s.At = r.Time().Sub(start)
		}
		steps = append(steps, s)
	}
	return steps
}

// Render writes a readable timeline, the way the instance ended and its
// final process variables.
func Render(w io.Writer, title string, recs []Record, end Ending) {
	fmt.Fprintf(w, "\n%s\n", title)
	for _, s := range Timeline(recs) {
		took := ""
		if s.Took > 0 {
			took = fmt.Sprintf("(%.2fs)", s.Took.Seconds())
		}
		fn := s.Function
		if fn == "" {
			fn = "-"
		}
		line := fmt.Sprintf("  +%6.2fs  %-18s %-14s %-11s %-8s %s", s.At.Seconds(), s.ElementID, fn, s.Outcome, took, s.Detail)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	switch {
	case end.Incident != nil:
		fmt.Fprintf(w, "  stopped on an incident at %s: %s\n", end.Incident.Value.ElementID, end.Incident.Value.ErrorMessage)
	case end.Completed:
		fmt.Fprintf(w, "  completed at end event %s\n", end.EndEventID)
	default:
		fmt.Fprintln(w, "  did not end")
	}
	vars := Variables(recs)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "  variables:")
	for _, k := range names {
		fmt.Fprintf(w, "    %-18s %s\n", k, compact(vars[k]))
	}
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
