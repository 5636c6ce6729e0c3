package processview_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestInstanceAPI follows one instance through the JSON the page polls:
// running, a failure with retries left, then an incident, then resolved and completed.
func TestInstanceAPI(t *testing.T) {
	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	zeebetest.Deploy(t, zb, "one.bpmn", zeebetest.SingleTaskProcess("one", "Task_One", map[string]string{"identifier": "fn-one"}, 2))
	srv := httptest.NewServer(processview.New(eng.Engine(), processview.Options{Logs: fakeLogs{}}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	key := zeebetest.Start(t, zb, "one", map[string]any{"order": map[string]any{"id": 9007199254740993}})
	get := func(t *testing.T) processview.Instance {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("%s/api/instances/%d", srv.URL, key))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var in processview.Instance
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&in))
		return in
	}
	activate := func(t *testing.T) int64 {
		t.Helper()
		jobs, err := zb.NewActivateJobsCommand().JobType("lambda").MaxJobsToActivate(1).Timeout(time.Minute).WorkerName("test").Send(ctx)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		return jobs[0].Key
	}
	type elem struct {
		state string
		runs  int
	}
	elems := func(in processview.Instance) map[string]elem {
		m := map[string]elem{}
		for _, e := range in.Elements {
			m[e.ID] = elem{e.State, e.Runs}
		}
		return m
	}

	steps := []struct {
		name      string
		act       func(t *testing.T)
		state     string
		elements  map[string]elem
		outcome   string
		retries   int32
		history   []string
		incidents int
	}{
		{name: "the task waits for its job", act: func(*testing.T) {}, state: "active",
			elements: map[string]elem{"Start": {"completed", 1}, "Task_One": {"active", 1}}, outcome: "running", retries: 2, history: []string{}},
		{name: "a failure with a retry left", act: func(t *testing.T) {
			_, err := zb.NewFailJobCommand().JobKey(activate(t)).Retries(1).ErrorMessage("first try failed").Send(ctx)
			require.NoError(t, err)
		}, state: "active", elements: map[string]elem{"Start": {"completed", 1}, "Task_One": {"active", 1}},
			outcome: "running", retries: 1, history: []string{"failed: first try failed (retries left: 1)"}},
		{name: "no retries left: an incident", act: func(t *testing.T) {
			_, err := zb.NewFailJobCommand().JobKey(activate(t)).Retries(0).ErrorMessage("second try failed").Send(ctx)
			require.NoError(t, err)
		}, state: "incident", elements: map[string]elem{"Start": {"completed", 1}, "Task_One": {"incident", 1}},
			outcome: "failed", retries: 0, incidents: 1,
			history: []string{"failed: first try failed (retries left: 1)", "failed: second try failed (retries left: 0)"}},
		{name: "retries given back, the incident resolved, the job completed", act: func(t *testing.T) {
			in := get(t)
			_, err := zb.NewUpdateJobRetriesCommand().JobKey(in.Jobs[0].Key).Retries(1).Send(ctx)
			require.NoError(t, err)
			_, err = zb.NewResolveIncidentCommand().IncidentKey(in.Incidents[0].Key).Send(ctx)
			require.NoError(t, err)
			_, err = zb.NewCompleteJobCommand().JobKey(activate(t)).Send(ctx)
			require.NoError(t, err)
		}, state: "completed", elements: map[string]elem{"Start": {"completed", 1}, "Task_One": {"completed", 1}, "End": {"completed", 1}},
			outcome: "completed", retries: 1, incidents: 1,
			history: []string{"failed: first try failed (retries left: 1)", "failed: second try failed (retries left: 0)", "retries set to 1"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.act(t)
			in := get(t)
			assert.Equal(t, st.state, in.State)
			assert.Equal(t, "one", in.BPMNProcessID)
			assert.Equal(t, int32(1), in.Version)
			assert.Equal(t, st.elements, elems(in))
			assert.Equal(t, []processview.Variable{{Name: "order", Value: `{"id":9007199254740993}`}}, in.Variables)
			require.Len(t, in.Jobs, 1)
			j := in.Jobs[0]
			assert.Equal(t, "Task_One", j.ElementID)
			assert.Equal(t, "fn-one", j.Function)
			assert.Equal(t, st.outcome, j.Outcome)
			assert.Equal(t, st.retries, j.Retries)
			assert.Equal(t, st.history, j.History)
			require.Len(t, j.Logs, 2)
			assert.Equal(t, fmt.Sprintf(`{"msg":"job received","function":"fn-one","jobKey":%d}`, j.Key), j.Logs[0].Message)
			require.Len(t, in.Incidents, st.incidents)
			if st.incidents == 1 {
				assert.Equal(t, "JOB_NO_RETRIES", in.Incidents[0].ErrorType)
				assert.Equal(t, "second try failed", in.Incidents[0].Message)
				assert.Equal(t, "Task_One", in.Incidents[0].ElementID)
				assert.Equal(t, st.state == "completed", in.Incidents[0].Resolved)
			}
		})
	}

	t.Run("the process's XML, with a diagram laid out", func(t *testing.T) {
		in := get(t)
		resp, err := http.Get(fmt.Sprintf("%s/api/processes/%d/xml", srv.URL, in.ProcessKey))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, string(body), `<bpmndi:BPMNShape id="Task_One_di" bpmnElement="Task_One"><dc:Bounds x="220" y="60" width="100" height="80"/>`)
	})
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/instances/1", http.StatusNotFound}, {"/instances/1", http.StatusNotFound}, {"/api/instances/x", http.StatusBadRequest},
		{"/api/processes/1/xml", http.StatusNotFound}, {"/bpmn-js/bpmn-navigated-viewer.production.min.js", http.StatusNotFound},
	} {
		t.Run("GET "+tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.code, resp.StatusCode)
		})
	}
}

func TestLongVariableIsCut(t *testing.T) {
	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	zeebetest.Deploy(t, zb, "long.bpmn", zeebetest.SingleTaskProcessOfType("long", "Task_Long", "nobody", nil, 1))
	srv := httptest.NewServer(processview.New(eng.Engine(), processview.Options{}))
	t.Cleanup(srv.Close)
	doc := strings.Repeat("é", 3000) // 6000 bytes, 6002 as JSON
	key := zeebetest.Start(t, zb, "long", map[string]any{"doc": doc})
	resp, err := http.Get(fmt.Sprintf("%s/api/instances/%d", srv.URL, key))
	require.NoError(t, err)
	defer resp.Body.Close()
	var in processview.Instance
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&in))
	require.Len(t, in.Variables, 1)
	// 2000 bytes of JSON end inside an é: the cut keeps whole characters.
	assert.Equal(t, `"`+strings.Repeat("é", 999)+"… (6002 bytes in all)", in.Variables[0].Value)
}

func TestOverviewListsTheNewest500(t *testing.T) {
	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	zeebetest.Deploy(t, zb, "many.bpmn", zeebetest.SingleTaskProcessOfType("many", "Task", "nobody", nil, 1))
	srv := httptest.NewServer(processview.New(eng.Engine(), processview.Options{}))
	t.Cleanup(srv.Close)
	var last int64
	for range 503 {
		last = zeebetest.Start(t, zb, "many", nil)
	}
	resp, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, 500, strings.Count(string(body), `<tr data-instance="`))
	assert.True(t, strings.Contains(string(body), fmt.Sprintf(`<tr data-instance="%d">`, last)), "the newest is listed")
	assert.Equal(t, 1, strings.Count(string(body), "and 3 older instances;"))
}
