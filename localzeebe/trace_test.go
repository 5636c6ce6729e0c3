package localzeebe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
)

// traceRecord is the part of a record the comparison looks at.
type traceRecord struct {
	Key                  int64           `json:"key"`
	Position             int64           `json:"position"`
	SourceRecordPosition int64           `json:"sourceRecordPosition"`
	RecordType           string          `json:"recordType"`
	ValueType            string          `json:"valueType"`
	Intent               string          `json:"intent"`
	RejectionType        string          `json:"rejectionType"`
	Value                json.RawMessage `json:"value"`
}

func readTrace(t *testing.T, path string) []traceRecord {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []traceRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r traceRecord
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// normalize renders a record with keys replaced by the order they first
// appear in, positions by their distance from the record's own, and
// timestamps, deadlines, checksums and resources dropped: what is left is
// what the engine decided.
func normalize(recs []traceRecord) []string {
	keys := map[int64]string{}
	name := func(k int64) string {
		if k <= 0 {
			return fmt.Sprint(k)
		}
		if n, ok := keys[k]; ok {
			return n
		}
		n := fmt.Sprintf("K%d", len(keys)+1)
		keys[k] = n
		return n
	}
	var out []string
	for _, r := range recs {
		var v map[string]any
		_ = json.Unmarshal(r.Value, &v)
		fields := []string{}
		for _, f := range []string{"elementId", "bpmnElementType", "bpmnEventType", "type", "retries", "worker", "errorCode",
			"errorMessage", "errorType", "name", "value", "targetElementId", "compensableActivityId", "compensationHandlerId",
			"throwEventId", "maxJobsToActivate", "bpmnProcessId"} {
			if x, ok := v[f]; ok {
				fields = append(fields, fmt.Sprintf("%s=%v", f, x))
			}
		}
		for _, f := range []string{"processInstanceKey", "flowScopeKey", "elementInstanceKey", "scopeKey", "jobKey",
			"compensableActivityInstanceKey", "compensationHandlerInstanceKey", "throwEventInstanceKey", "processDefinitionKey"} {
			if x, ok := v[f].(float64); ok {
				fields = append(fields, fmt.Sprintf("%s=%s", f, name(int64(x))))
			}
		}
		out = append(out, fmt.Sprintf("%s %s %s key=%s %s", r.RecordType, r.ValueType, r.Intent, name(r.Key), strings.Join(fields, " ")))
	}
	return out
}

// instanceRecords keeps the records of one process instance, as the demo and
// the tests read them (JOB_BATCH and deployment records have no instance).
func instanceRecords(recs []traceRecord) []traceRecord {
	var out []traceRecord
	var pi float64
	for _, r := range recs {
		var v map[string]any
		_ = json.Unmarshal(r.Value, &v)
		k, _ := v["processInstanceKey"].(float64)
		if k <= 0 {
			continue
		}
		if pi == 0 {
			pi = k
		}
		if k == pi {
			out = append(out, r)
		}
	}
	return out
}

// TestCompensationTraceMatchesBroker runs the trip booking's compensation
// path exactly as the captured trace of the Zeebe 8.5 broker did and
// compares the records element by element.
func TestCompensationTraceMatchesBroker(t *testing.T) {
	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	model, err := os.ReadFile("../bpmn/trip-booking.bpmn")
	require.NoError(t, err)
	_, err = zb.NewDeployResourceCommand().AddResource(model, "/work/main/bpmn/trip-booking.bpmn").Send(ctx)
	require.NoError(t, err)
	cmd, err := zb.NewCreateInstanceCommand().BPMNProcessId("trip-booking").LatestVersion().VariablesFromString(`{"tripId":"t1","failFlight":true}`)
	require.NoError(t, err)
	_, err = cmd.Send(ctx)
	require.NoError(t, err)

	activate := func() []int64 {
		jobs, err := zb.NewActivateJobsCommand().JobType("lambda").MaxJobsToActivate(5).Timeout(time.Minute).WorkerName("scratch").Send(ctx)
		require.NoError(t, err)
		var keys []int64
		for _, j := range jobs {
			keys = append(keys, j.Key)
		}
		return keys
	}
	complete := func(key int64) {
		_, err := zb.NewCompleteJobCommand().JobKey(key).Send(ctx)
		require.NoError(t, err)
	}
	for i := 0; i < 2; i++ { // hotel, car
		keys := activate()
		require.Len(t, keys, 1)
		complete(keys[0])
	}
	keys := activate() // flight
	require.Len(t, keys, 1)
	_, err = zb.NewThrowErrorCommand().JobKey(keys[0]).ErrorCode("FLIGHT_UNAVAILABLE").ErrorMessage("no seats").Send(ctx)
	require.NoError(t, err)
	keys = activate() // the two compensation handlers
	require.Len(t, keys, 2)
	complete(keys[0])
	complete(keys[1])

	want := normalize(instanceRecords(readTrace(t, "recordlog/testdata/compensation.jsonl")))
	got := normalize(instanceRecords(waitRecords(t, eng.RecordLog, len(want))))
	assert.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
}

func waitRecords(t *testing.T, path string, n int) []traceRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := readTrace(t, path)
		if len(instanceRecords(recs)) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ zbc.Client
