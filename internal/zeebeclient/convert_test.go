package zeebeclient

import (
	"encoding/json"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
)

func TestConvert(t *testing.T) {
	j := convert(entities.Job{ActivatedJob: &pb.ActivatedJob{
		Key: 1, Type: "lambda", ProcessInstanceKey: 2, BpmnProcessId: "p", ProcessDefinitionVersion: 3,
		ProcessDefinitionKey: 4, ElementId: "Task_A", ElementInstanceKey: 5,
		CustomHeaders: `{"identifier":"fn","timeout":"PT1M"}`, Worker: "w", Retries: 3, Deadline: 1700000000000,
		Variables: `{"a":1}`, TenantId: "<default>",
	}})
	assert.Equal(t, int64(1), j.Key)
	assert.Equal(t, int64(2), j.ProcessInstanceKey)
	assert.Equal(t, "p", j.BPMNProcessID)
	assert.Equal(t, int32(3), j.ProcessDefinitionVersion)
	assert.Equal(t, int64(4), j.ProcessDefinitionKey)
	assert.Equal(t, "Task_A", j.ElementID)
	assert.Equal(t, int64(5), j.ElementInstanceKey)
	assert.Equal(t, map[string]string{"identifier": "fn", "timeout": "PT1M"}, j.CustomHeaders)
	assert.Equal(t, "w", j.Worker)
	assert.Equal(t, int32(3), j.Retries)
	assert.Equal(t, int64(1700000000000), j.Deadline)
	assert.Equal(t, "<default>", j.TenantID)
	assert.JSONEq(t, `{"a":1}`, string(j.Variables))

	empty := convert(entities.Job{ActivatedJob: &pb.ActivatedJob{Key: 1}})
	assert.Equal(t, map[string]string{}, empty.CustomHeaders)
	assert.Equal(t, json.RawMessage("{}"), empty.Variables)
}

func TestHasVariables(t *testing.T) {
	for in, want := range map[string]bool{"": false, "null": false, " null\n": false, "{}": true, `{"a":1}`: true} {
		assert.Equal(t, want, hasVariables(json.RawMessage(in)), "%q", in)
	}
}
