package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userTaskTrace lists, in log order, the records of one element instance
// and of its Zeebe user task: "RECORD_TYPE VALUE_TYPE INTENT".
func userTaskTrace(t *testing.T, elementInstanceKey, userTaskKey int64) []string {
	t.Helper()
	var out []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.ValueType == "PROCESS_INSTANCE" && r.Key == elementInstanceKey || r.ValueType == "USER_TASK" && r.Key == userTaskKey
	}) {
		out = append(out, r.RecordType+" "+r.ValueType+" "+r.Intent)
	}
	return out
}

// restCall sends a request to the local engine's REST API and returns the status.
func restCall(t *testing.T, method, path, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx15(t), method, restBase+path, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	return resp.StatusCode
}

// The records of a Zeebe user task (zeebe:userTask), as Zeebe 8.5 writes
// them (docs: "Zeebe user task", the USER_TASK record's intents): CREATING
// before the element is ACTIVATED, CREATED after; COMPLETING and COMPLETED
// on the REST completion, then the element completes like after a job;
// CANCELING and CANCELED when the element is terminated.
func TestZeebeUserTaskRecords(t *testing.T) {
	t.Parallel()
	needRecords(t)
	const task = `<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:userTask/>
		<zeebe:assignmentDefinition assignee="=who"/><zeebe:taskHeaders><zeebe:header key="a" value="b"/></zeebe:taskHeaders>
		</bpmn:extensionElements></bpmn:userTask>`
	created := []string{
		"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT",
		"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING",
		"EVENT USER_TASK CREATING",
		"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED",
		"EVENT USER_TASK CREATED",
	}
	for _, tc := range []struct {
		name string
		xml  func(pid string) string
		end  func(t *testing.T, pik, taskKey int64, msg string)
		want []string
	}{
		{name: "completed through the REST API",
			xml: func(pid string) string { return between(pid, task, false) },
			end: func(t *testing.T, _, taskKey int64, _ string) {
				require.Equal(t, http.StatusNoContent, restCall(t, http.MethodPost, "/v1/user-tasks/"+strconv.FormatInt(taskKey, 10)+"/completion", `{"variables":{"out":"done"}}`))
			},
			want: append(append([]string{}, created...),
				"COMMAND USER_TASK COMPLETE",
				"EVENT USER_TASK COMPLETING",
				"EVENT USER_TASK COMPLETED",
				"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT",
				"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING",
				"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED")},
		{name: "canceled with its instance",
			xml: func(pid string) string { return between(pid, task, false) },
			end: func(t *testing.T, pik, _ int64, _ string) {
				_, err := gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: pik})
				require.NoError(t, err)
			},
			want: append(append([]string{}, created...),
				"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT",
				"EVENT PROCESS_INSTANCE ELEMENT_TERMINATING",
				"EVENT USER_TASK CANCELING",
				"EVENT USER_TASK CANCELED",
				"EVENT PROCESS_INSTANCE ELEMENT_TERMINATED")},
		{name: "canceled by an interrupting message boundary event",
			xml: func(pid string) string {
				return bpmnHeader + `<bpmn:message id="M" name="` + pid + `-msg"><bpmn:extensionElements><zeebe:subscription correlationKey="=who"/></bpmn:extensionElements></bpmn:message>
				<bpmn:process id="` + pid + `" isExecutable="true"><bpmn:startEvent id="Start"/>` + task + `
				<bpmn:boundaryEvent id="B" attachedToRef="X"><bpmn:messageEventDefinition messageRef="M"/></bpmn:boundaryEvent>
				<bpmn:endEvent id="End"/><bpmn:endEvent id="Escalated"/>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="X"/><bpmn:sequenceFlow id="F2" sourceRef="X" targetRef="End"/>
				<bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="Escalated"/></bpmn:process></bpmn:definitions>`
			},
			end: func(t *testing.T, _, _ int64, msg string) {
				_, err := publish(t, msg, "anna", 0, "", map[string]any{})
				require.NoError(t, err)
			},
			want: []string{
				"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT",
				"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING",
				"EVENT USER_TASK CREATING",
				"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED",
				"EVENT USER_TASK CREATED",
				"COMMAND PROCESS_INSTANCE TERMINATE_ELEMENT",
				"EVENT PROCESS_INSTANCE ELEMENT_TERMINATING",
				"EVENT USER_TASK CANCELING",
				"EVENT USER_TASK CANCELED",
				"EVENT PROCESS_INSTANCE ELEMENT_TERMINATED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid := uniq(t, "p")
			m := model{pid: pid, meta: deployXML(t, pid+".bpmn", tc.xml(pid))}
			pik := m.create(t, map[string]any{"who": "anna"})
			c := waitRecord(t, "user task created", func(r *record) bool {
				return isEvent(r, "USER_TASK", "CREATED") && r.V.ProcessInstanceKey == pik
			})
			assert.Equal(t, "X", c.V.ElementID)
			assert.JSONEq(t, `{"assignee":"anna","candidateGroupsList":[],"candidateUsersList":[],"dueDate":"","followUpDate":"","formKey":-1,
				"changedAttributes":[],"variables":{},"bpmnProcessId":"`+pid+`","processDefinitionVersion":1,
				"processDefinitionKey":`+strconv.FormatInt(m.meta.GetProcessDefinitionKey(), 10)+`,"processInstanceKey":`+strconv.FormatInt(pik, 10)+`,
				"elementId":"X","elementInstanceKey":`+strconv.FormatInt(c.V.ElementInstanceKey, 10)+`,"tenantId":"<default>",
				"userTaskKey":`+strconv.FormatInt(c.Key, 10)+`,"action":"","externalFormReference":"","customHeaders":{"a":"b"}}`, string(c.Value))
			tc.end(t, pik, c.Key, pid+"-msg")
			waitRecord(t, "the instance ended", func(r *record) bool {
				return r.RecordType == "EVENT" && r.ValueType == "PROCESS_INSTANCE" && r.Key == pik && (r.Intent == "ELEMENT_COMPLETED" || r.Intent == "ELEMENT_TERMINATED")
			})
			assert.Equal(t, tc.want, userTaskTrace(t, c.V.ElementInstanceKey, c.Key))
			assert.Empty(t, findRecords(t, func(r *record) bool { return r.ValueType == "JOB" && r.V.ProcessInstanceKey == pik }), "no job")
		})
	}
}

// A linked form that is not deployed stops the user task with the incident
// Zeebe 8.5 raises (FORM_NOT_FOUND); no USER_TASK record is written.
func TestZeebeUserTaskFormNotFound(t *testing.T) {
	t.Parallel()
	needRecords(t)
	pid := uniq(t, "p")
	m := model{pid: pid, meta: deployXML(t, pid+".bpmn", between(pid,
		`<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition formId="missing-form"/></bpmn:extensionElements></bpmn:userTask>`, false))}
	pik := m.create(t, map[string]any{})
	inc := incidentCreated(t, pik)
	assert.Equal(t, "FORM_NOT_FOUND", inc.V.ErrorType)
	assert.Equal(t, "Expected to find a form with id 'missing-form', but no form with this id is found, at least a form with this id should be available. "+
		"To resolve the Incident please deploy a form with the same id", inc.V.ErrorMessage)
	assert.Equal(t, "X", inc.V.ElementID)
	assert.Empty(t, findRecords(t, func(r *record) bool { return r.ValueType == "USER_TASK" && r.V.ProcessInstanceKey == pik }))
}

// A .form resource deploys a Camunda Form, versioned by its id like a
// process (an unchanged redeployment is the same version, no FORM record);
// a Zeebe user task linked to it (formId) carries the latest version's key.
func TestFormsLinkedToZeebeUserTasks(t *testing.T) {
	t.Parallel()
	formID := uniq(t, "form")
	deployForm := func(content string) *pb.FormMetadata {
		t.Helper()
		resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: formID + ".form", Content: []byte(content)}}})
		require.NoError(t, err)
		require.Len(t, resp.GetDeployments(), 1)
		f := resp.GetDeployments()[0].GetForm()
		require.NotNil(t, f, "form metadata")
		assert.Equal(t, formID, f.GetFormId())
		assert.Equal(t, formID+".form", f.GetResourceName())
		assert.Equal(t, "<default>", f.GetTenantId())
		return f
	}
	v1 := deployForm(`{"id":"` + formID + `","type":"default","components":[]}`)
	assert.Equal(t, int32(1), v1.GetVersion())
	again := deployForm(`{"id":"` + formID + `","type":"default","components":[]}`)
	assert.Equal(t, int32(1), again.GetVersion())
	assert.Equal(t, v1.GetFormKey(), again.GetFormKey(), "an unchanged form is not deployed again")
	v2 := deployForm(`{"id":"` + formID + `","type":"default","components":[{"key":"name","type":"textfield"}]}`)
	assert.Equal(t, int32(2), v2.GetVersion())
	assert.NotEqual(t, v1.GetFormKey(), v2.GetFormKey())

	pid := uniq(t, "p")
	m := model{pid: pid, meta: deployXML(t, pid+".bpmn", between(pid,
		`<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition formId="`+formID+`"/></bpmn:extensionElements></bpmn:userTask>`, false))}
	pik := m.create(t, map[string]any{})
	needRecords(t)
	c := waitRecord(t, "user task created", func(r *record) bool {
		return isEvent(r, "USER_TASK", "CREATED") && r.V.ProcessInstanceKey == pik
	})
	var v struct {
		FormKey int64 `json:"formKey"`
	}
	require.NoError(t, json.Unmarshal(c.Value, &v))
	assert.Equal(t, v2.GetFormKey(), v.FormKey, "the latest version of the linked form")
	forms := findRecords(t, func(r *record) bool {
		return isEvent(r, "FORM", "CREATED") && (r.Key == v1.GetFormKey() || r.Key == v2.GetFormKey())
	})
	require.Len(t, forms, 2, "one FORM CREATED per version")
	var f struct {
		FormID       string `json:"formId"`
		Version      int32  `json:"version"`
		FormKey      int64  `json:"formKey"`
		ResourceName string `json:"resourceName"`
	}
	require.NoError(t, json.Unmarshal(forms[1].Value, &f))
	assert.Equal(t, formID, f.FormID)
	assert.Equal(t, int32(2), f.Version)
	assert.Equal(t, v2.GetFormKey(), f.FormKey)
	assert.Equal(t, formID+".form", f.ResourceName)

	// A job-based user task linked to the form gets its key as the form key header.
	jobPid := uniq(t, "p")
	jm := model{pid: jobPid, meta: deployXML(t, jobPid+".bpmn", between(jobPid,
		`<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:formDefinition formId="`+formID+`"/></bpmn:extensionElements></bpmn:userTask>`, false))}
	jpik := jm.create(t, map[string]any{})
	j := awaitInstanceJob(t, userTaskJobType, jpik)
	assert.Equal(t, map[string]string{"io.camunda.zeebe:formKey": strconv.FormatInt(v2.GetFormKey(), 10)}, headersOf(t, j))
	complete(t, j.GetKey(), map[string]any{})
}
