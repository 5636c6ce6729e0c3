package rest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userTaskModel is a process with one Zeebe user task (zeebe:userTask).
const userTaskModel = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D3" targetNamespace="t">
  <bpmn:process id="rest-user-task" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:userTask id="Review">
      <bpmn:extensionElements>
        <zeebe:userTask/>
        <zeebe:assignmentDefinition assignee="=owner" candidateGroups="sales, ops"/>
        <zeebe:formDefinition externalReference="https://forms.example/review"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="Done"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Review"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Review" targetRef="Done"/>
  </bpmn:process>
</bpmn:definitions>`

// userTaskRecord is the part of a USER_TASK record these tests check.
type userTaskRecord struct {
	Key        int64  `json:"key"`
	RecordType string `json:"recordType"`
	ValueType  string `json:"valueType"`
	Intent     string `json:"intent"`
	Value      struct {
		Assignee              string          `json:"assignee"`
		CandidateGroupsList   []string        `json:"candidateGroupsList"`
		CandidateUsersList    []string        `json:"candidateUsersList"`
		DueDate               string          `json:"dueDate"`
		ChangedAttributes     []string        `json:"changedAttributes"`
		Variables             json.RawMessage `json:"variables"`
		Action                string          `json:"action"`
		ExternalFormReference string          `json:"externalFormReference"`
		ProcessInstanceKey    int64           `json:"processInstanceKey"`
		UserTaskKey           int64           `json:"userTaskKey"`
	} `json:"value"`
}

// userTaskEvents reads the instance's USER_TASK events from the record log.
func (a *api) userTaskEvents(t *testing.T, instance int64) []userTaskRecord {
	t.Helper()
	f, err := os.Open(a.log.Path())
	require.NoError(t, err)
	defer f.Close()
	var out []userTaskRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r userTaskRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if r.ValueType == "USER_TASK" && r.RecordType == "EVENT" && r.Value.ProcessInstanceKey == instance {
			out = append(out, r)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// startUserTask deploys the user task model, starts an instance and
// returns it with its user task's key.
func (a *api) startUserTask(t *testing.T) (instance, task int64) {
	t.Helper()
	require.Equal(t, http.StatusOK, a.deploy(t, map[string]string{"rest-user-task.bpmn": userTaskModel}).status)
	resp := a.post(t, "/v2/process-instances", `{"processDefinitionId":"rest-user-task","variables":{"owner":"anna"}}`)
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var out struct {
		ProcessInstanceKey string `json:"processInstanceKey"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &out))
	pik, err := strconv.ParseInt(out.ProcessInstanceKey, 10, 64)
	require.NoError(t, err)
	created := a.waitRecord(t, pik, "USER_TASK", "CREATED")
	return pik, created.Key
}

// TestUserTaskLifecycle assigns, claims, unassigns, updates and completes a
// Zeebe user task through the v1 and v2 paths, and checks the records.
func TestUserTaskLifecycle(t *testing.T) {
	for _, version := range []string{"v1", "v2"} {
		t.Run(version, func(t *testing.T) {
			a := start(t)
			pik, task := a.startUserTask(t)
			path := "/" + version + "/user-tasks/" + strconv.FormatInt(task, 10)

			steps := []struct {
				name, method, suffix, body string
				status                     int
			}{
				{"assign", http.MethodPost, "/assignment", `{"assignee":"bert"}`, http.StatusNoContent},
				{"claim of an assigned task", http.MethodPost, "/assignment", `{"assignee":"carl","allowOverride":false}`, http.StatusConflict},
				{"unassign", http.MethodDelete, "/assignee", ``, http.StatusNoContent},
				{"claim", http.MethodPost, "/assignment", `{"assignee":"carl","allowOverride":false,"action":"pick"}`, http.StatusNoContent},
				{"update", http.MethodPatch, "", `{"changeset":{"candidateUsers":["dora"],"dueDate":"2025-01-02T10:00:00Z"}}`, http.StatusNoContent},
				{"update of an unknown attribute", http.MethodPatch, "", `{"changeset":{"priority":10}}`, http.StatusBadRequest},
				{"assignment without assignee", http.MethodPost, "/assignment", `{}`, http.StatusBadRequest},
				{"complete", http.MethodPost, "/completion", `{"variables":{"approved":true}}`, http.StatusNoContent},
				{"complete again", http.MethodPost, "/completion", `{}`, http.StatusNotFound},
			}
			for _, s := range steps {
				resp := a.do(t, s.method, path+s.suffix, "application/json", []byte(s.body))
				require.Equal(t, s.status, resp.status, "%s: %s", s.name, resp.body)
				if s.status != http.StatusNoContent {
					assert.Equal(t, "application/problem+json", resp.contentType, s.name)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			end, err := a.log.WaitEnd(ctx, pik)
			require.NoError(t, err)
			assert.True(t, end.Completed)
			assert.Equal(t, "Done", end.EndEventID)

			type row struct {
				Intent, Assignee, Action, DueDate string
				Users, Changed                    []string
			}
			var got []row
			recs := a.userTaskEvents(t, pik)
			for _, r := range recs {
				assert.Equal(t, task, r.Key)
				assert.Equal(t, task, r.Value.UserTaskKey)
				assert.Equal(t, []string{"sales", "ops"}, r.Value.CandidateGroupsList)
				assert.Equal(t, "https://forms.example/review", r.Value.ExternalFormReference)
				got = append(got, row{r.Intent, r.Value.Assignee, r.Value.Action, r.Value.DueDate, r.Value.CandidateUsersList, r.Value.ChangedAttributes})
			}
			users := []string{"dora"}
			assert.Equal(t, []row{
				{"CREATING", "anna", "", "", []string{}, []string{}},
				{"CREATED", "anna", "", "", []string{}, []string{}},
				{"ASSIGNING", "bert", "assign", "", []string{}, []string{}},
				{"ASSIGNED", "bert", "assign", "", []string{}, []string{}},
				{"ASSIGNING", "", "unassign", "", []string{}, []string{}},
				{"ASSIGNED", "", "unassign", "", []string{}, []string{}},
				{"ASSIGNING", "carl", "pick", "", []string{}, []string{}},
				{"ASSIGNED", "carl", "pick", "", []string{}, []string{}},
				{"UPDATING", "carl", "update", "2025-01-02T10:00:00Z", users, []string{"candidateUsersList", "dueDate"}},
				{"UPDATED", "carl", "update", "2025-01-02T10:00:00Z", users, []string{"candidateUsersList", "dueDate"}},
				{"COMPLETING", "carl", "complete", "2025-01-02T10:00:00Z", users, []string{}},
				{"COMPLETED", "carl", "complete", "2025-01-02T10:00:00Z", users, []string{}},
			}, got)
			require.Len(t, recs, 12)
			assert.JSONEq(t, `{"approved":true}`, string(recs[11].Value.Variables))
			recsAll, err := a.log.Instance(pik)
			require.NoError(t, err)
			var vars []string
			for _, r := range recsAll {
				if r.RecordType == "EVENT" && r.Is("VARIABLE", "CREATED") {
					vars = append(vars, r.Value.Name+"="+r.Value.Value)
				}
			}
			assert.Equal(t, []string{`owner="anna"`, "approved=true"}, vars, "the completion's variables are merged into the instance")
		})
	}
}

// TestDeployForm deploys a Camunda Form: its metadata in the answer, and a
// user task linked to it carries its key.
func TestDeployForm(t *testing.T) {
	a := start(t)
	resp := a.deploy(t, map[string]string{"review.form": `{"id":"review","type":"default","components":[]}`})
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var out struct {
		Deployments []struct {
			Form *struct {
				FormID       string `json:"formId"`
				Version      int32  `json:"version"`
				ResourceName string `json:"resourceName"`
				TenantID     string `json:"tenantId"`
				FormKey      string `json:"formKey"`
			} `json:"form"`
		} `json:"deployments"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &out))
	require.Len(t, out.Deployments, 1)
	f := out.Deployments[0].Form
	require.NotNil(t, f, string(resp.body))
	assert.Equal(t, "review", f.FormID)
	assert.Equal(t, int32(1), f.Version)
	assert.Equal(t, "review.form", f.ResourceName)
	assert.Equal(t, "<default>", f.TenantID)
	_, err := strconv.ParseInt(f.FormKey, 10, 64)
	require.NoError(t, err, "the key is a string of digits")

	bad := a.deploy(t, map[string]string{"nameless.form": `{"components":[]}`})
	p := requireProblem(t, bad, http.StatusBadRequest, "INVALID_ARGUMENT", "/v2/deployments")
	assert.Contains(t, p.Detail, "'nameless.form': expected the form to have an 'id', but it is missing or blank")
}
