package conformance

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// Reference §3: the records of start → service task → end as the engine logs them.
func TestRecordLog(t *testing.T) {
	t.Parallel()
	needRecords(t)
	m := deployModel(t, "one-task.bpmn")
	res := m.createWithResult(t, map[string]any{"amount": 42, "name": "foo"})
	j := awaitJob(t, m.jt)
	pik := j.GetProcessInstanceKey()
	setVariables(t, pik, map[string]any{"amount": 42}, false) // the same value: no VARIABLE UPDATED
	complete(t, j.GetKey(), map[string]any{"amount": 43})
	awaitResult(t, res)
	_, err := gw.CompleteJob(ctx15(t), &pb.CompleteJobRequest{JobKey: j.GetKey()})
	requireStatus(t, err, codes.NotFound, "")

	rej := waitRecord(t, "the rejection of the second complete", func(r *record) bool {
		return r.RecordType == "COMMAND_REJECTION" && r.ValueType == "JOB" && r.Intent == "COMPLETE" && r.Key == j.GetKey()
	})
	assert.Equal(t, "NOT_FOUND", rej.RejectionType)
	assert.Equal(t, fmt.Sprintf("Expected to complete job with key '%d', but no such job was found", j.GetKey()), rej.RejectionReason)

	waitRecord(t, "the process completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })

	all := findRecords(t, func(*record) bool { return true })
	for i, r := range all {
		if i > 0 {
			require.Greater(t, r.Position, all[i-1].Position, "positions increase: %s", describe(r))
		}
		assert.Contains(t, []string{"EVENT", "COMMAND", "COMMAND_REJECTION"}, r.RecordType, "%s", describe(r))
		assert.Positive(t, r.Timestamp, "%s", describe(r))
		if r.RecordType != "COMMAND_REJECTION" {
			assert.Equal(t, "NULL_VAL", r.RejectionType, "%s", describe(r))
			assert.Empty(t, r.RejectionReason, "%s", describe(r))
		}
		assert.False(t, r.ValueType == "JOB" && r.Intent == "ACTIVATED", "there is no per-job ACTIVATED record: %s", describe(r))
	}

	// The envelope and value fields of Zeebe's exporters (reference §3.1, §3.2).
	envelope := []string{"valueType", "key", "position", "timestamp", "recordType", "intent", "partitionId",
		"rejectionType", "rejectionReason", "brokerVersion", "authorizations", "recordVersion", "sourceRecordPosition", "value"}
	valueFields := map[string][]string{
		"JOB": {"bpmnProcessId", "processDefinitionKey", "processDefinitionVersion", "processInstanceKey", "elementId",
			"elementInstanceKey", "worker", "type", "variables", "retries", "retryBackoff", "recurringTime", "errorMessage",
			"errorCode", "customHeaders", "deadline", "timeout", "tenantId"},
		"PROCESS_INSTANCE": {"bpmnProcessId", "version", "processDefinitionKey", "processInstanceKey", "elementId", "flowScopeKey",
			"bpmnElementType", "parentProcessInstanceKey", "parentElementInstanceKey", "bpmnEventType", "tenantId"},
		"VARIABLE":  {"scopeKey", "processInstanceKey", "processDefinitionKey", "bpmnProcessId", "name", "value", "tenantId"},
		"JOB_BATCH": {"maxJobsToActivate", "type", "worker", "truncated", "jobKeys", "jobs", "timeout", "tenantIds"},
	}
	checked := map[string]bool{}
	for _, r := range all {
		if checked[r.ValueType] || r.RecordType != "EVENT" {
			continue
		}
		if want, ok := valueFields[r.ValueType]; ok {
			checked[r.ValueType] = true
			assert.Subset(t, r.Fields, envelope, "record envelope: %s", describe(r))
			assert.Subset(t, r.ValueFields, want, "%s value fields: %s", r.ValueType, describe(r))
		}
	}
	assert.Len(t, checked, len(valueFields), "saw every value type checked: %v", checked)

	mine := findRecords(t, func(r *record) bool { return r.RecordType == "EVENT" && r.V.ProcessInstanceKey == pik })
	type step struct{ valueType, intent, elementID string }
	want := []step{
		{"PROCESS_INSTANCE", "ELEMENT_ACTIVATING", m.pid}, {"PROCESS_INSTANCE", "ELEMENT_ACTIVATED", m.pid},
		{"PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "Start"}, {"PROCESS_INSTANCE", "ELEMENT_COMPLETED", "Start"},
		{"PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "F1"},
		{"PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "Task_A"}, {"JOB", "CREATED", "Task_A"}, {"PROCESS_INSTANCE", "ELEMENT_ACTIVATED", "Task_A"},
		{"JOB", "COMPLETED", "Task_A"},
		{"PROCESS_INSTANCE", "ELEMENT_COMPLETING", "Task_A"}, {"PROCESS_INSTANCE", "ELEMENT_COMPLETED", "Task_A"},
		{"PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "F2"},
		{"PROCESS_INSTANCE", "ELEMENT_ACTIVATING", "End"}, {"PROCESS_INSTANCE", "ELEMENT_COMPLETED", "End"},
		{"PROCESS_INSTANCE", "ELEMENT_COMPLETING", m.pid}, {"PROCESS_INSTANCE", "ELEMENT_COMPLETED", m.pid},
	}
	var seen []string
	next := 0
	for _, r := range mine {
		seen = append(seen, r.ValueType+" "+r.Intent+" "+r.V.ElementID)
		if next < len(want) && r.ValueType == want[next].valueType && r.Intent == want[next].intent && r.V.ElementID == want[next].elementID {
			next++
		}
	}
	assert.Equal(t, len(want), next, "events in this order (stopped before %v); the instance's events were:\n%v", want[min(next, len(want)-1)], seen)

	for _, r := range mine {
		if r.ValueType == "PROCESS_INSTANCE" && r.V.ElementID == m.pid {
			assert.Equal(t, pik, r.Key, "the PROCESS element's key is the instance key")
			assert.Equal(t, "PROCESS", r.V.BpmnElementType)
			assert.EqualValues(t, -1, r.V.FlowScopeKey)
		}
		if r.ValueType == "PROCESS_INSTANCE" && r.V.ElementID == "Task_A" {
			assert.Equal(t, "SERVICE_TASK", r.V.BpmnElementType)
			assert.Equal(t, pik, r.V.FlowScopeKey)
			assert.Equal(t, j.GetElementInstanceKey(), r.Key)
		}
		if r.ValueType == "JOB" {
			assert.Equal(t, j.GetKey(), r.Key)
			assert.Equal(t, m.jt, r.V.Type)
			assert.Equal(t, j.GetElementInstanceKey(), r.V.ElementInstanceKey)
		}
	}

	variable := func(intent, name string) []*record {
		return findRecords(t, func(r *record) bool {
			return isEvent(r, "VARIABLE", intent) && r.V.ProcessInstanceKey == pik && r.V.Name == name
		})
	}
	// VARIABLE values are JSON text inside a string.
	for name, value := range map[string]string{"amount": "42", "name": `"foo"`} {
		created := variable("CREATED", name)
		require.Len(t, created, 1, "VARIABLE CREATED %s", name)
		assert.Equal(t, pik, created[0].V.ScopeKey)
		assert.JSONEq(t, fmt.Sprintf(`{"name":%q,"value":%q}`, name, value), varNameValue(t, created[0]))
	}
	updated := variable("UPDATED", "amount")
	require.Len(t, updated, 1, "one VARIABLE UPDATED: setting the same value writes none")
	assert.JSONEq(t, `{"name":"amount","value":"43"}`, varNameValue(t, updated[0]))

	batches := findRecords(t, func(r *record) bool {
		return isEvent(r, "JOB_BATCH", "ACTIVATED") && len(r.V.JobKeys) > 0 && r.V.JobKeys[0] == j.GetKey()
	})
	require.Len(t, batches, 1, "one JOB_BATCH ACTIVATED records the activation")
	require.Len(t, batches[0].V.Jobs, 1)
	assert.Equal(t, "conformance", batches[0].V.Jobs[0].Worker)
	assert.Equal(t, j.GetDeadline(), batches[0].V.Jobs[0].Deadline)
}

func varNameValue(t *testing.T, r *record) string {
	t.Helper()
	var v struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	require.NoError(t, json.Unmarshal(r.Value, &v), "VARIABLE value is a string: %s", describe(r))
	return fmt.Sprintf(`{"name":%q,"value":%q}`, v.Name, v.Value)
}
