package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/engine"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// model is a process with one service task (retries 1) and a message catch event.
const model = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="D" targetNamespace="t">
  <bpmn:message id="M" name="rest-go"><bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
  <bpmn:process id="rest-check" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:serviceTask id="Work">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="rest-work" retries="1"/>
        <zeebe:taskHeaders><zeebe:header key="region" value="eu"/></zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:intermediateCatchEvent id="Wait"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="Done"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Work"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Work" targetRef="Wait"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Wait" targetRef="Done"/>
  </bpmn:process>
</bpmn:definitions>`

// straight is a process that completes at once.
const straight = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D2" targetNamespace="t">
  <bpmn:process id="rest-straight" isExecutable="true">
    <bpmn:startEvent id="S"/><bpmn:endEvent id="E"/>
    <bpmn:sequenceFlow id="F" sourceRef="S" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>`

// api is an engine with its REST API, for one test.
type api struct {
	base string
	log  *recordlog.Log
}

func start(t *testing.T) *api {
	eng := localzeebetest.Start(t)
	return &api{base: "http://" + eng.RESTAddr(), log: recordlog.Open(eng.RecordLog)}
}

type response struct {
	status      int
	contentType string
	body        []byte
}

func (a *api) do(t *testing.T, method, path, contentType string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
}

func (a *api) post(t *testing.T, path, body string) response {
	t.Helper()
	return a.do(t, http.MethodPost, path, "application/json", []byte(body))
}

func (a *api) deploy(t *testing.T, files map[string]string) response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, content := range files {
		fw, err := mw.CreateFormFile("resources", name)
		require.NoError(t, err)
		_, err = fw.Write([]byte(content))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return a.do(t, http.MethodPost, "/v2/deployments", mw.FormDataContentType(), buf.Bytes())
}

// create deploys the model and starts an instance of it.
func (a *api) create(t *testing.T, vars string) int64 {
	t.Helper()
	require.Equal(t, http.StatusOK, a.deploy(t, map[string]string{"rest-check.bpmn": model}).status)
	resp := a.post(t, "/v2/process-instances", `{"processDefinitionId":"rest-check","variables":`+vars+`}`)
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var out struct {
		ProcessInstanceKey string `json:"processInstanceKey"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &out))
	k, err := strconv.ParseInt(out.ProcessInstanceKey, 10, 64)
	require.NoError(t, err)
	return k
}

// activate activates the instance's job of type rest-work.
func (a *api) activate(t *testing.T) activated {
	t.Helper()
	resp := a.post(t, "/v2/jobs/activation", `{"type":"rest-work","worker":"w1","timeout":60000,"maxJobsToActivate":1,"requestTimeout":5000}`)
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var out struct{ Jobs []activated }
	require.NoError(t, json.Unmarshal(resp.body, &out))
	require.Len(t, out.Jobs, 1, string(resp.body))
	return out.Jobs[0]
}

type activated struct {
	Type                     string            `json:"type"`
	ProcessDefinitionID      string            `json:"processDefinitionId"`
	ProcessDefinitionVersion int32             `json:"processDefinitionVersion"`
	ElementID                string            `json:"elementId"`
	CustomHeaders            map[string]string `json:"customHeaders"`
	Worker                   string            `json:"worker"`
	Retries                  int32             `json:"retries"`
	Deadline                 int64             `json:"deadline"`
	Variables                map[string]any    `json:"variables"`
	TenantID                 string            `json:"tenantId"`
	JobKey                   string            `json:"jobKey"`
	ProcessInstanceKey       string            `json:"processInstanceKey"`
	Kind                     string            `json:"kind"`
	ListenerEventType        string            `json:"listenerEventType"`
	UserTask                 any               `json:"userTask"`
}

// waitRecord waits for the instance's first EVENT record of the type and intent.
func (a *api) waitRecord(t *testing.T, instance int64, valueType, intent string) recordlog.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := a.log.WaitFor(ctx, instance, func(r recordlog.Record) bool {
		return r.RecordType == "EVENT" && r.Is(valueType, intent)
	})
	require.NoError(t, err)
	return r
}

type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

// requireProblem checks an RFC 9457 answer and returns it.
func requireProblem(t *testing.T, resp response, status int, title, path string) problem {
	t.Helper()
	require.Equal(t, status, resp.status, string(resp.body))
	assert.Equal(t, "application/problem+json", resp.contentType)
	var p problem
	require.NoError(t, json.Unmarshal(resp.body, &p), string(resp.body))
	assert.Equal(t, "about:blank", p.Type)
	assert.Equal(t, title, p.Title)
	assert.Equal(t, status, p.Status)
	assert.Equal(t, path, p.Instance)
	return p
}

func TestTopology(t *testing.T) {
	eng := localzeebetest.Start(t)
	a := &api{base: "http://" + eng.RESTAddr()}
	resp := a.do(t, http.MethodGet, "/v2/topology", "", nil)
	require.Equal(t, http.StatusOK, resp.status)
	assert.Equal(t, "application/json", resp.contentType)
	host, port, ok := strings.Cut(eng.Addr(), ":")
	require.True(t, ok)
	assert.JSONEq(t, fmt.Sprintf(`{"brokers":[{"nodeId":0,"host":%q,"port":%s,"partitions":[{"partitionId":1,"role":"leader","health":"healthy"}],"version":%q}],
		"clusterSize":1,"partitionsCount":1,"replicationFactor":1,"gatewayVersion":%q}`, host, port, engine.BrokerVersion, engine.BrokerVersion), string(resp.body))
}

func TestDeployments(t *testing.T) {
	a := start(t)
	resp := a.deploy(t, map[string]string{"rest-check.bpmn": model})
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var out struct {
		DeploymentKey string `json:"deploymentKey"`
		TenantID      string `json:"tenantId"`
		Deployments   []struct {
			ProcessDefinition struct {
				ProcessDefinitionID      string `json:"processDefinitionId"`
				ProcessDefinitionVersion int32  `json:"processDefinitionVersion"`
				ResourceName             string `json:"resourceName"`
				TenantID                 string `json:"tenantId"`
				ProcessDefinitionKey     string `json:"processDefinitionKey"`
			} `json:"processDefinition"`
		} `json:"deployments"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &out))
	assert.Equal(t, "<default>", out.TenantID)
	_, err := strconv.ParseInt(out.DeploymentKey, 10, 64)
	require.NoError(t, err, "the deployment key is a number in a string")
	require.Len(t, out.Deployments, 1)
	p := out.Deployments[0].ProcessDefinition
	assert.Equal(t, "rest-check", p.ProcessDefinitionID)
	assert.Equal(t, int32(1), p.ProcessDefinitionVersion)
	assert.Equal(t, "rest-check.bpmn", p.ResourceName)
	assert.Equal(t, "<default>", p.TenantID)

	// The deployed definition is the one an instance started by id runs.
	resp = a.post(t, "/v2/process-instances", `{"processDefinitionId":"rest-check","variables":{"orderId":"o1"}}`)
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var created struct {
		ProcessDefinitionKey string `json:"processDefinitionKey"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &created))
	assert.Equal(t, p.ProcessDefinitionKey, created.ProcessDefinitionKey)

	tests := []struct {
		name   string
		resp   func() response
		status int
		title  string
		detail string // its start
	}{
		{"no resources", func() response { return a.deploy(t, nil) }, 400, "INVALID_ARGUMENT", "No resources provided."},
		{"not multipart", func() response { return a.post(t, "/v2/deployments", `{}`) }, 400, "INVALID_ARGUMENT", "Expected a multipart/form-data body"},
		{"invalid BPMN", func() response { return a.deploy(t, map[string]string{"bad.bpmn": "<nope/>"}) }, 400, "INVALID_ARGUMENT", "Command 'CREATE' rejected with code 'INVALID_ARGUMENT': "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := requireProblem(t, tc.resp(), tc.status, tc.title, "/v2/deployments")
			assert.True(t, strings.HasPrefix(p.Detail, tc.detail), "detail %q, want it to start with %q", p.Detail, tc.detail)
		})
	}
}

func TestCreateProcessInstance(t *testing.T) {
	a := start(t)
	require.Equal(t, http.StatusOK, a.deploy(t, map[string]string{"straight.bpmn": straight, "rest-check.bpmn": model}).status)

	t.Run("started", func(t *testing.T) {
		resp := a.post(t, "/v2/process-instances", `{"processDefinitionId":"rest-check","processDefinitionVersion":1,"variables":{"orderId":"o1","amount":21}}`)
		require.Equal(t, http.StatusOK, resp.status, string(resp.body))
		var out struct {
			ProcessDefinitionID      string          `json:"processDefinitionId"`
			ProcessDefinitionVersion int32           `json:"processDefinitionVersion"`
			TenantID                 string          `json:"tenantId"`
			Variables                json.RawMessage `json:"variables"`
			ProcessInstanceKey       string          `json:"processInstanceKey"`
			Tags                     []string        `json:"tags"`
		}
		require.NoError(t, json.Unmarshal(resp.body, &out))
		assert.Equal(t, "rest-check", out.ProcessDefinitionID)
		assert.Equal(t, int32(1), out.ProcessDefinitionVersion)
		assert.Equal(t, "<default>", out.TenantID)
		assert.JSONEq(t, `{}`, string(out.Variables))
		assert.Equal(t, []string{}, out.Tags)
		k, err := strconv.ParseInt(out.ProcessInstanceKey, 10, 64)
		require.NoError(t, err)
		a.waitRecord(t, k, "PROCESS_INSTANCE_CREATION", "CREATED")
		recs, err := a.log.Instance(k)
		require.NoError(t, err)
		assert.Equal(t, map[string]json.RawMessage{"orderId": json.RawMessage(`"o1"`), "amount": json.RawMessage(`21`)}, recordlog.Variables(recs))
	})
	t.Run("awaitCompletion", func(t *testing.T) {
		resp := a.post(t, "/v2/process-instances", `{"processDefinitionId":"rest-straight","variables":{"a":1,"b":"x"},"awaitCompletion":true,"fetchVariables":["b"]}`)
		require.Equal(t, http.StatusOK, resp.status, string(resp.body))
		var out struct {
			ProcessInstanceKey string          `json:"processInstanceKey"`
			Variables          json.RawMessage `json:"variables"`
		}
		require.NoError(t, json.Unmarshal(resp.body, &out))
		assert.JSONEq(t, `{"b":"x"}`, string(out.Variables))
		k, err := strconv.ParseInt(out.ProcessInstanceKey, 10, 64)
		require.NoError(t, err)
		recs, err := a.log.Instance(k)
		require.NoError(t, err)
		require.NotEmpty(t, recs)
		last := recs[len(recs)-1]
		assert.Equal(t, []string{"PROCESS_INSTANCE", "ELEMENT_COMPLETED", "PROCESS"}, []string{last.ValueType, last.Intent, last.Value.BPMNElementType})
	})

	tests := []struct {
		name   string
		body   string
		status int
		title  string
		detail string
	}{
		{"neither id nor key", `{"variables":{}}`, 400, "INVALID_ARGUMENT", "At least one of [processDefinitionId, processDefinitionKey] is required."},
		{"both id and key", `{"processDefinitionId":"rest-check","processDefinitionKey":"1"}`, 400, "INVALID_ARGUMENT", "Only one of [processDefinitionId, processDefinitionKey] is allowed."},
		{"unknown process", `{"processDefinitionId":"nope"}`, 404, "NOT_FOUND",
			"Command 'CREATE' rejected with code 'NOT_FOUND': Expected to find process definition with process ID 'nope', but none found"},
		{"variables not an object", `{"processDefinitionId":"rest-check","variables":[1]}`, 400, "INVALID_ARGUMENT", ""},
		{"not JSON", `{`, 400, "INVALID_ARGUMENT", "Request body is not valid JSON for POST /v2/process-instances"},
		{"no body", ``, 400, "INVALID_ARGUMENT", "Required request body is missing"},
		{"other tenant", `{"processDefinitionId":"rest-check","tenantId":"t1"}`, 400, "INVALID_ARGUMENT",
			"Expected to handle request with tenant identifier 't1', but multi-tenancy is disabled"},
		{"awaitCompletion past requestTimeout", `{"processDefinitionId":"rest-check","awaitCompletion":true,"requestTimeout":200}`, 504, "DEADLINE_EXCEEDED",
			"Expected to handle the request within 200ms, but the process instance did not complete in time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := requireProblem(t, a.post(t, "/v2/process-instances", tc.body), tc.status, tc.title, "/v2/process-instances")
			assert.True(t, strings.HasPrefix(p.Detail, tc.detail), "detail %q, want it to start with %q", p.Detail, tc.detail)
		})
	}
}

func TestJobs(t *testing.T) {
	a := start(t)
	t.Run("activation", func(t *testing.T) {
		empty := a.post(t, "/v2/jobs/activation", `{"type":"rest-work","timeout":1000,"maxJobsToActivate":1,"requestTimeout":-1}`)
		require.Equal(t, http.StatusOK, empty.status)
		assert.JSONEq(t, `{"jobs":[]}`, string(empty.body))

		instance := a.create(t, `{"orderId":"o1","amount":21}`)
		before := time.Now()
		j := a.activate(t)
		assert.Equal(t, "rest-work", j.Type)
		assert.Equal(t, "rest-check", j.ProcessDefinitionID)
		assert.Equal(t, int32(1), j.ProcessDefinitionVersion)
		assert.Equal(t, "Work", j.ElementID)
		assert.Equal(t, map[string]string{"region": "eu"}, j.CustomHeaders)
		assert.Equal(t, "w1", j.Worker)
		assert.Equal(t, int32(1), j.Retries)
		assert.Equal(t, map[string]any{"orderId": "o1", "amount": float64(21)}, j.Variables)
		assert.Equal(t, "<default>", j.TenantID)
		assert.Equal(t, strconv.FormatInt(instance, 10), j.ProcessInstanceKey)
		assert.Equal(t, "BPMN_ELEMENT", j.Kind)
		assert.Equal(t, "UNSPECIFIED", j.ListenerEventType)
		assert.Nil(t, j.UserTask)
		assert.GreaterOrEqual(t, j.Deadline, before.Add(60*time.Second).UnixMilli(), "activated with a 60 s timeout")
		rec := a.waitRecord(t, instance, "JOB", "CREATED")
		assert.Equal(t, j.JobKey, strconv.FormatInt(rec.Key, 10))
	})
	t.Run("long poll", func(t *testing.T) {
		got := make(chan response, 1)
		go func() {
			got <- a.post(t, "/v2/jobs/activation", `{"type":"rest-work","timeout":60000,"maxJobsToActivate":1,"requestTimeout":10000}`)
		}()
		instance := a.create(t, `{"orderId":"o2"}`)
		resp := <-got
		require.Equal(t, http.StatusOK, resp.status)
		var out struct{ Jobs []activated }
		require.NoError(t, json.Unmarshal(resp.body, &out))
		require.Len(t, out.Jobs, 1)
		assert.Equal(t, strconv.FormatInt(instance, 10), out.Jobs[0].ProcessInstanceKey)
	})

	tests := []struct {
		name   string
		body   string
		detail string
	}{
		{"no type", `{"timeout":1000,"maxJobsToActivate":1}`, "No type provided."},
		{"no timeout", `{"type":"t","maxJobsToActivate":1}`, "No timeout provided."},
		{"no maxJobsToActivate", `{"type":"t","timeout":1000}`, "No maxJobsToActivate provided."},
		{"timeout 0", `{"type":"t","timeout":0,"maxJobsToActivate":1}`, "The value for timeout is '0' but must be greater than 0."},
		{"maxJobsToActivate 0", `{"type":"t","timeout":1000,"maxJobsToActivate":0}`, "The value for maxJobsToActivate is '0' but must be greater than 0."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := requireProblem(t, a.post(t, "/v2/jobs/activation", tc.body), 400, "INVALID_ARGUMENT", "/v2/jobs/activation")
			assert.Equal(t, tc.detail, p.Detail)
		})
	}
}

func TestJobCommands(t *testing.T) {
	a := start(t)
	path := func(key, suffix string) string { return "/v2/jobs/" + key + suffix }

	t.Run("completion", func(t *testing.T) {
		instance := a.create(t, `{"orderId":"c1"}`)
		j := a.activate(t)
		resp := a.post(t, path(j.JobKey, "/completion"), `{"variables":{"total":42}}`)
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		assert.Empty(t, resp.body)
		rec := a.waitRecord(t, instance, "JOB", "COMPLETED")
		assert.Equal(t, j.JobKey, strconv.FormatInt(rec.Key, 10))
		a.waitRecord(t, instance, "PROCESS_MESSAGE_SUBSCRIPTION", "CREATED")
		recs, err := a.log.Instance(instance)
		require.NoError(t, err)
		assert.Equal(t, json.RawMessage(`42`), recordlog.Variables(recs)["total"])

		p := requireProblem(t, a.post(t, path(j.JobKey, "/completion"), ``), 404, "NOT_FOUND", path(j.JobKey, "/completion"))
		assert.Equal(t, fmt.Sprintf("Command 'COMPLETE' rejected with code 'NOT_FOUND': Expected to complete job with key '%s', but no such job was found", j.JobKey), p.Detail)
	})
	t.Run("error", func(t *testing.T) {
		instance := a.create(t, `{"orderId":"e1"}`)
		j := a.activate(t)
		requireProblem(t, a.post(t, path(j.JobKey, "/error"), `{}`), 400, "INVALID_ARGUMENT", path(j.JobKey, "/error"))
		resp := a.post(t, path(j.JobKey, "/error"), `{"errorCode":"REJECTED","errorMessage":"no"}`)
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		rec := a.waitRecord(t, instance, "JOB", "ERROR_THROWN")
		assert.Equal(t, "REJECTED", rec.Value.ErrorCode)
		// Nothing catches REJECTED in the model: an incident, as Zeebe raises.
		assert.Equal(t, "UNHANDLED_ERROR_EVENT", a.waitRecord(t, instance, "INCIDENT", "CREATED").Value.ErrorType)
	})
	t.Run("failure, retries and incident resolution", func(t *testing.T) {
		instance := a.create(t, `{"orderId":"f1"}`)
		j := a.activate(t)
		resp := a.post(t, path(j.JobKey, "/failure"), `{"retries":0,"errorMessage":"broken"}`)
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		assert.Equal(t, "broken", a.waitRecord(t, instance, "JOB", "FAILED").Value.ErrorMessage)
		incident := a.waitRecord(t, instance, "INCIDENT", "CREATED")
		assert.Equal(t, "JOB_NO_RETRIES", incident.Value.ErrorType)

		resp = a.do(t, http.MethodPatch, path(j.JobKey, ""), "application/json", []byte(`{"changeset":{"retries":2}}`))
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		assert.Equal(t, int32(2), a.waitRecord(t, instance, "JOB", "RETRIES_UPDATED").Value.Retries)
		requireProblem(t, a.do(t, http.MethodPatch, path(j.JobKey, ""), "application/json", []byte(`{"changeset":{}}`)), 400, "INVALID_ARGUMENT", path(j.JobKey, ""))

		ik := strconv.FormatInt(incident.Key, 10)
		resp = a.post(t, "/v2/incidents/"+ik+"/resolution", ``)
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		assert.Equal(t, incident.Key, a.waitRecord(t, instance, "INCIDENT", "RESOLVED").Key)
		p := requireProblem(t, a.post(t, "/v2/incidents/"+ik+"/resolution", `{}`), 404, "NOT_FOUND", "/v2/incidents/"+ik+"/resolution")
		assert.True(t, strings.HasPrefix(p.Detail, "Command 'RESOLVE' rejected with code 'NOT_FOUND': "), p.Detail)

		// The job is activatable again and completes.
		again := a.activate(t)
		assert.Equal(t, j.JobKey, again.JobKey)
		assert.Equal(t, int32(2), again.Retries)
		require.Equal(t, http.StatusNoContent, a.post(t, path(j.JobKey, "/completion"), ``).status)
	})

	tests := []struct {
		name, method, path, body string
		status                   int
		title                    string
	}{
		{"key not a number", http.MethodPost, "/v2/jobs/abc/completion", ``, 400, "INVALID_ARGUMENT"},
		{"unknown job failed", http.MethodPost, "/v2/jobs/123/failure", `{}`, 404, "NOT_FOUND"},
		{"unknown job error", http.MethodPost, "/v2/jobs/123/error", `{"errorCode":"E"}`, 404, "NOT_FOUND"},
		{"unknown job updated", http.MethodPatch, "/v2/jobs/123", `{"changeset":{"retries":1}}`, 404, "NOT_FOUND"},
		{"variables not an object", http.MethodPost, "/v2/jobs/123/completion", `{"variables":"x"}`, 400, "INVALID_ARGUMENT"},
		{"job result", http.MethodPost, "/v2/jobs/123/completion", `{"result":{"denied":true}}`, 400, "INVALID_ARGUMENT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireProblem(t, a.do(t, tc.method, tc.path, "application/json", []byte(tc.body)), tc.status, tc.title, tc.path)
		})
	}
}

func TestMessagePublication(t *testing.T) {
	a := start(t)
	instance := a.create(t, `{"orderId":"m1"}`)
	j := a.activate(t)
	require.Equal(t, http.StatusNoContent, a.post(t, "/v2/jobs/"+j.JobKey+"/completion", ``).status)

	body := `{"name":"rest-go","correlationKey":"m1","messageId":"id-1","timeToLive":60000,"variables":{"go":"rest"}}`
	resp := a.post(t, "/v2/messages/publication", body)
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var out struct {
		TenantID   string `json:"tenantId"`
		MessageKey string `json:"messageKey"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &out))
	assert.Equal(t, "<default>", out.TenantID)
	_, err := strconv.ParseInt(out.MessageKey, 10, 64)
	require.NoError(t, err)
	a.waitRecord(t, instance, "PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED")
	a.waitRecord(t, instance, "PROCESS_INSTANCE", "ELEMENT_COMPLETED")
	end, err := a.log.WaitEnd(context.Background(), instance)
	require.NoError(t, err)
	assert.Equal(t, "Done", end.EndEventID)

	p := requireProblem(t, a.post(t, "/v2/messages/publication", body), 409, "ALREADY_EXISTS", "/v2/messages/publication")
	assert.Equal(t, "Command 'PUBLISH' rejected with code 'ALREADY_EXISTS': Expected to publish a new message with id 'id-1', but a message with that id was already published", p.Detail)
	p = requireProblem(t, a.post(t, "/v2/messages/publication", `{"correlationKey":"x"}`), 400, "INVALID_ARGUMENT", "/v2/messages/publication")
	assert.Equal(t, "No name provided.", p.Detail)
}

func TestNotServed(t *testing.T) {
	a := start(t)
	tests := []struct {
		name, method, path string
		status             int
		title, detail      string
	}{
		{"message correlation", http.MethodPost, "/v2/messages/correlation", 501, "NOT_IMPLEMENTED",
			"POST /v2/messages/correlation is not implemented by localzeebe, the local Zeebe-compatible engine (docs/localzeebe.md lists the REST endpoints it serves); run it against a Camunda 8 cluster, or use the gRPC API"},
		{"a search", http.MethodPost, "/v2/process-instances/search", 501, "NOT_IMPLEMENTED",
			"POST /v2/process-instances/search is not implemented by localzeebe, the local Zeebe-compatible engine (docs/localzeebe.md lists the REST endpoints it serves); run it against a Camunda 8 cluster, or use the gRPC API"},
		{"an unknown v2 path", http.MethodGet, "/v2/whatever", 501, "NOT_IMPLEMENTED",
			"GET /v2/whatever is not implemented by localzeebe, the local Zeebe-compatible engine (docs/localzeebe.md lists the REST endpoints it serves); run it against a Camunda 8 cluster, or use the gRPC API"},
		{"another method on an endpoint", http.MethodGet, "/v2/jobs/activation", 501, "NOT_IMPLEMENTED",
			"GET /v2/jobs/activation is not implemented by localzeebe, the local Zeebe-compatible engine (docs/localzeebe.md lists the REST endpoints it serves); run it against a Camunda 8 cluster, or use the gRPC API"},
		{"outside the API", http.MethodGet, "/v1/topology", 404, "NOT_FOUND", "/v1/topology is not a path of the REST API, which is under /v2/"},
		{"user task completion of an unknown key", http.MethodPost, "/v2/user-tasks/42/completion", 404, "NOT_FOUND",
			"Command 'COMPLETE' rejected with code 'NOT_FOUND': Expected to complete user task with key '42', but no such user task was found"},
		{"v1 user task assignment of an unknown key", http.MethodPost, "/v1/user-tasks/42/assignment", 404, "NOT_FOUND",
			"Command 'ASSIGN' rejected with code 'NOT_FOUND': Expected to assign user task with key '42', but no such user task was found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := requireProblem(t, a.do(t, tc.method, tc.path, "application/json", []byte(`{"assignee":"x"}`)), tc.status, tc.title, tc.path)
			assert.Equal(t, tc.detail, p.Detail)
		})
	}
}

func TestInstanceCommands(t *testing.T) {
	a := start(t)

	t.Run("status", func(t *testing.T) {
		resp := a.do(t, http.MethodGet, "/v2/status", "", nil)
		assert.Equal(t, http.StatusNoContent, resp.status)
		assert.Empty(t, resp.body)
	})
	t.Run("variables", func(t *testing.T) {
		instance := a.create(t, `{"orderId":"v1"}`)
		k := strconv.FormatInt(instance, 10)
		resp := a.do(t, http.MethodPut, "/v2/element-instances/"+k+"/variables", "application/json", []byte(`{"variables":{"note":"hi"}}`))
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec, err := a.log.WaitFor(ctx, instance, func(r recordlog.Record) bool {
			return r.RecordType == "EVENT" && r.Is("VARIABLE", "CREATED") && r.Value.Name == "note"
		})
		require.NoError(t, err)
		assert.Equal(t, `"hi"`, rec.Value.Value)
		requireProblem(t, a.do(t, http.MethodPut, "/v2/element-instances/123/variables", "application/json", []byte(`{"variables":{"a":1}}`)),
			404, "NOT_FOUND", "/v2/element-instances/123/variables")
	})
	t.Run("cancellation", func(t *testing.T) {
		instance := a.create(t, `{"orderId":"x1"}`)
		path := "/v2/process-instances/" + strconv.FormatInt(instance, 10) + "/cancellation"
		resp := a.post(t, path, ``)
		require.Equal(t, http.StatusNoContent, resp.status, string(resp.body))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		end, err := a.log.WaitEnd(ctx, instance)
		require.NoError(t, err)
		assert.True(t, end.Cancelled)
		p := requireProblem(t, a.post(t, path, `{}`), 404, "NOT_FOUND", path)
		assert.True(t, strings.HasPrefix(p.Detail, "Command 'CANCEL' rejected with code 'NOT_FOUND': "), p.Detail)
	})
	t.Run("signal broadcast", func(t *testing.T) {
		resp := a.post(t, "/v2/signals/broadcast", `{"signalName":"go","variables":{"a":1}}`)
		require.Equal(t, http.StatusOK, resp.status, string(resp.body))
		var out struct {
			TenantID  string `json:"tenantId"`
			SignalKey string `json:"signalKey"`
		}
		require.NoError(t, json.Unmarshal(resp.body, &out))
		assert.Equal(t, "<default>", out.TenantID)
		_, err := strconv.ParseInt(out.SignalKey, 10, 64)
		require.NoError(t, err)
		p := requireProblem(t, a.post(t, "/v2/signals/broadcast", `{}`), 400, "INVALID_ARGUMENT", "/v2/signals/broadcast")
		assert.Equal(t, "No signalName provided.", p.Detail)
	})
}
