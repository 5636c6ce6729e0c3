package recordlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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

// Timeline extracts the steps of one instance from its records: what
// happened to each job, incidents, and each element that was terminated
// before it completed (interrupted by a boundary event, ended by a terminate
// end event, or cancelled with the instance).
func Timeline(recs []Record) []Step {
	var start time.Time
	since := map[int64]time.Time{}     // job key -> when it became activatable
	activated := map[int64]time.Time{} // element instance key -> when it was activated
	cancelled := false
	terminators := map[int64]string{} // flow scope key -> the terminate end event that completed in it
	for _, r := range recs {
		switch {
		case r.RecordType == "COMMAND" && r.ValueType == "PROCESS_INSTANCE" && r.Intent == "CANCEL":
			cancelled = true
		case r.Is("PROCESS_INSTANCE", "ELEMENT_ACTIVATED") && r.Value.BPMNElementType == "END_EVENT" && r.Value.BPMNEventType == "TERMINATE":
			terminators[r.Value.FlowScopeKey] = r.Value.ElementID
		}
	}
	var steps []Step
	for i, r := range recs {
		if start.IsZero() && r.Is("PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.Value.BPMNElementType == "PROCESS" {
			start = r.Time()
		}
		if r.RecordType != "EVENT" {
			continue
		}
		s := Step{ElementID: r.Value.ElementID, Function: r.Value.CustomHeaders[jobmsg.HeaderIdentifier]}
		switch {
		case r.ValueType == "PROCESS_INSTANCE" && r.Intent == "ELEMENT_ACTIVATED":
			activated[r.Key] = r.Time()
			continue
		case r.ValueType == "PROCESS_INSTANCE" && r.Intent == "ELEMENT_TERMINATED" && r.Value.BPMNElementType != "PROCESS":
			s.Outcome, s.Detail = terminated(recs[i+1:], r, cancelled, terminators)
			if t, ok := activated[r.Key]; ok {
				s.Took = r.Time().Sub(t)
			}
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

// terminated says why element r was terminated, from the records after it:
// the next element activated in its flow scope is the boundary event that
// interrupted it; else a terminate end event in that scope ended it; else
// the instance was cancelled.
func terminated(after []Record, r Record, cancelled bool, terminators map[int64]string) (outcome, detail string) {
	for _, n := range after {
		if n.RecordType != "EVENT" || n.ValueType != "PROCESS_INSTANCE" || n.Value.FlowScopeKey != r.Value.FlowScopeKey || n.Key == r.Key {
			continue
		}
		if n.Intent == "ELEMENT_ACTIVATING" && n.Value.BPMNElementType == "BOUNDARY_EVENT" {
			return "interrupted", "by boundary event " + n.Value.ElementID
		}
		break
	}
	switch end, ok := terminators[r.Value.FlowScopeKey]; {
	case ok:
		return "terminated", "by terminate end event " + end
	case cancelled:
		return "cancelled", "with the instance"
	}
	return "terminated", ""
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
	case end.Cancelled:
		fmt.Fprintln(w, "  cancelled")
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

// maxShown is how much of a variable the timeline prints: a long one is
// cut, with its size, rather than filling the screen.
const maxShown = 160

func compact(raw json.RawMessage) string {
	s := string(raw)
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil { // keeps every digit, unlike a round trip through any
		s = b.String()
	}
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%s in all)", s[:cut], size(len(raw)))
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
