package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// record is one line of the engine's JSON-lines record log (reference §3).
type record struct {
	Position        int64           `json:"position"`
	Key             int64           `json:"key"`
	Timestamp       int64           `json:"timestamp"`
	RecordType      string          `json:"recordType"`
	ValueType       string          `json:"valueType"`
	Intent          string          `json:"intent"`
	RejectionType   string          `json:"rejectionType"`
	RejectionReason string          `json:"rejectionReason"`
	Value           json.RawMessage `json:"value"`
	V               recordValue     `json:"-"`
	Fields          []string        `json:"-"` // the top-level field names of the line
	ValueFields     []string        `json:"-"` // the field names of the value
}

// recordValue holds the value fields the suite looks at, across value types.
type recordValue struct {
	BpmnProcessID        string        `json:"bpmnProcessId"`
	ProcessDefinitionKey int64         `json:"processDefinitionKey"`
	ProcessInstanceKey   int64         `json:"processInstanceKey"`
	ElementID            string        `json:"elementId"`
	ElementInstanceKey   int64         `json:"elementInstanceKey"`
	BpmnElementType      string        `json:"bpmnElementType"`
	FlowScopeKey         int64         `json:"flowScopeKey"`
	ParentProcessInstKey int64         `json:"parentProcessInstanceKey"`
	ParentElementInstKey int64         `json:"parentElementInstanceKey"`
	Type                 string        `json:"type"`
	Worker               string        `json:"worker"`
	Retries              int64         `json:"retries"`
	Deadline             int64         `json:"deadline"`
	RetryBackoff         int64         `json:"retryBackoff"`
	ErrorMessage         string        `json:"errorMessage"`
	ErrorCode            string        `json:"errorCode"`
	ErrorType            string        `json:"errorType"`
	JobKey               int64         `json:"jobKey"`
	MessageKey           int64         `json:"messageKey"`
	VariableScopeKey     int64         `json:"variableScopeKey"`
	Name                 string        `json:"name"`
	ScopeKey             int64         `json:"scopeKey"`
	TenantID             string        `json:"tenantId"`
	JobKeys              []int64       `json:"jobKeys"`
	Jobs                 []recordValue `json:"jobs"`
}

// recordReader tails the record log; all tests share it.
type recordReader struct {
	path string

	mu      sync.Mutex
	offset  int64
	partial []byte
	records []*record
}

// poll reads the lines appended since the last poll.
func (r *recordReader) poll() ([]*record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.Open(r.path)
	if os.IsNotExist(err) {
		return r.records, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(r.offset, 0); err != nil {
		return nil, err
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			r.offset += int64(n)
			r.partial = append(r.partial, buf[:n]...)
		}
		if err != nil {
			break
		}
	}
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSpace(r.partial[:i])
		r.partial = r.partial[i+1:]
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		rec := &record{}
		if err := json.Unmarshal(line, rec); err != nil {
			return nil, fmt.Errorf("record log line %q: %w", line, err)
		}
		_ = json.Unmarshal(rec.Value, &rec.V) // fields of other shapes are simply left empty
		rec.Fields, rec.ValueFields = fieldNames(line), fieldNames(rec.Value)
		r.records = append(r.records, rec)
	}
	return r.records, nil
}

// findRecords returns the records logged so far that match.
func findRecords(t *testing.T, match func(*record) bool) []*record {
	t.Helper()
	require.NotNil(t, recordLog, "record log")
	all, err := recordLog.poll()
	require.NoError(t, err)
	var out []*record
	for _, r := range all {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// waitRecord waits (10 s at most) for the first record that matches.
func waitRecord(t *testing.T, what string, match func(*record) bool) *record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := findRecords(t, match); len(got) > 0 {
			return got[0]
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "no record in the log within 10 s: "+what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isEvent(r *record, valueType, intent string) bool {
	return r.RecordType == "EVENT" && r.ValueType == valueType && r.Intent == intent
}

// incidentCreated waits for the INCIDENT CREATED event of the instance.
func incidentCreated(t *testing.T, pik int64) *record {
	t.Helper()
	return waitRecord(t, fmt.Sprintf("INCIDENT CREATED of instance %d", pik), func(r *record) bool {
		return isEvent(r, "INCIDENT", "CREATED") && r.V.ProcessInstanceKey == pik
	})
}

// jobCreated waits for the JOB CREATED event of the instance's element.
func jobCreated(t *testing.T, pik int64, elementID string) *record {
	t.Helper()
	return waitRecord(t, fmt.Sprintf("JOB CREATED for %s of instance %d", elementID, pik), func(r *record) bool {
		return isEvent(r, "JOB", "CREATED") && r.V.ProcessInstanceKey == pik && r.V.ElementID == elementID
	})
}

// jobEvent waits for a JOB event of the job with the intent.
func jobEvent(t *testing.T, jobKey int64, intent string) *record {
	t.Helper()
	return waitRecord(t, fmt.Sprintf("JOB %s of job %d", intent, jobKey), func(r *record) bool {
		return isEvent(r, "JOB", intent) && r.Key == jobKey
	})
}

// elementEvents lists the element ids of the instance's PROCESS_INSTANCE events with the intent.
func elementEvents(t *testing.T, pik int64, intent string) []string {
	t.Helper()
	var ids []string
	for _, r := range findRecords(t, func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", intent) && r.V.ProcessInstanceKey == pik
	}) {
		ids = append(ids, r.V.ElementID)
	}
	return ids
}

func fieldNames(doc []byte) []string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(doc, &m)
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	return names
}

func describe(r *record) string {
	return strings.TrimSpace(fmt.Sprintf("%s %s %s key=%d %s", r.RecordType, r.ValueType, r.Intent, r.Key, r.Value))
}
