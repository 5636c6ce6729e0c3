package conformance

import (
	"context"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

func setVariables(t *testing.T, scope int64, vars any, local bool) *pb.SetVariablesResponse {
	t.Helper()
	resp, err := gw.SetVariables(ctx15(t), &pb.SetVariablesRequest{ElementInstanceKey: scope, Variables: jsonOf(t, vars), Local: local})
	require.NoError(t, err, "set variables on %d", scope)
	assert.Positive(t, resp.GetKey())
	return resp
}

// Reference §1.3, §1.14, §2.4, §4.3.
func TestVariables(t *testing.T) {
	t.Parallel()

	t.Run("instance and completion variables propagate", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "two-tasks.bpmn")
		res := m.createWithResult(t, map[string]any{"a": 1, "obj": map[string]any{"x": "y"}})
		a := awaitJob(t, m.jt)
		assert.Equal(t, map[string]any{"a": 1.0, "obj": map[string]any{"x": "y"}}, jobVars(t, a))
		complete(t, a.GetKey(), map[string]any{"a": 10, "b": 2})
		b := awaitJob(t, m.typ("b"))
		assert.Equal(t, map[string]any{"a": 10.0, "b": 2.0, "obj": map[string]any{"x": "y"}}, jobVars(t, b))
		complete(t, b.GetKey(), map[string]any{"c": 3})
		_, vars := awaitResult(t, res)
		assert.Equal(t, map[string]any{"a": 10.0, "b": 2.0, "c": 3.0, "obj": map[string]any{"x": "y"}}, vars)
	})

	t.Run("input mappings are local to the task", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "io-mapping.bpmn")
		res := m.createWithResult(t, map[string]any{"a": 1})
		a := awaitJob(t, m.jt)
		assert.Equal(t, map[string]any{"a": 101.0, "local1": 2.0, "greeting": "hello", "fromLocal": 4.0}, jobVars(t, a),
			"mappings apply in order; the local a shadows the process variable")
		// local1 exists on the task: completing it only updates the local copy.
		complete(t, a.GetKey(), map[string]any{"local1": 99, "fromJob": true})
		b := awaitJob(t, m.typ("b"))
		assert.Equal(t, map[string]any{"a": 1.0, "fromJob": true}, jobVars(t, b))
		completeJob(t, b.GetKey())
		_, vars := awaitResult(t, res)
		assert.Equal(t, map[string]any{"a": 1.0, "fromJob": true}, vars)
	})

	t.Run("output mappings decide what reaches the process", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "output-mapping.bpmn")
		res := m.createWithResult(t, map[string]any{"out": map[string]any{"keep": 1}})
		a := awaitJob(t, m.jt)
		complete(t, a.GetKey(), map[string]any{"result": 21, "other": "x"})
		b := awaitJob(t, m.typ("b"))
		assert.Equal(t, map[string]any{"doubled": 42.0, "out": map[string]any{"keep": 1.0, "value": 21.0}}, jobVars(t, b),
			"only mapped variables; a nested target is merged into the existing context")
		completeJob(t, b.GetKey())
		_, vars := awaitResult(t, res)
		assert.NotContains(t, vars, "result")
		assert.NotContains(t, vars, "other")
	})

	t.Run("FailJob variables are local to the task", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "two-tasks.bpmn")
		res := m.createWithResult(t, map[string]any{"a": 1})
		a := awaitJob(t, m.jt)
		failJob(t, a.GetKey(), 1, "again", 0, map[string]any{"failVar": "x"})
		again := awaitJob(t, m.jt)
		assert.Equal(t, map[string]any{"a": 1.0, "failVar": "x"}, jobVars(t, again), "variables are a snapshot at activation")
		completeJob(t, again.GetKey())
		b := awaitJob(t, m.typ("b"))
		assert.Equal(t, map[string]any{"a": 1.0}, jobVars(t, b))
		completeJob(t, b.GetKey())
		awaitResult(t, res)
	})

	t.Run("SetVariables local and propagating", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "two-tasks.bpmn")
		res := m.createWithResult(t, map[string]any{"a": 1})
		a := awaitJob(t, m.jt)
		task := a.GetElementInstanceKey()
		setVariables(t, task, map[string]any{"b": 2}, true)                      // local to the task
		setVariables(t, task, map[string]any{"a": 5, "c": 3}, false)             // a updated where it lives (root), c created at the root
		setVariables(t, task, map[string]any{"b": 7}, false)                     // b exists on the task: updated there
		setVariables(t, a.GetProcessInstanceKey(), map[string]any{"d": 4}, true) // local to the process instance
		failJob(t, a.GetKey(), 1, "", 0, nil)
		again := awaitJob(t, m.jt)
		assert.Equal(t, map[string]any{"a": 5.0, "b": 7.0, "c": 3.0, "d": 4.0}, jobVars(t, again))
		completeJob(t, again.GetKey())
		b := awaitJob(t, m.typ("b"))
		assert.Equal(t, map[string]any{"a": 5.0, "c": 3.0, "d": 4.0}, jobVars(t, b), "b was local to Task_A")
		completeJob(t, b.GetKey())
		awaitResult(t, res)
	})

	t.Run("SetVariables on an unknown or finished scope", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "start-end.bpmn")
		resp, _ := awaitResult(t, m.createWithResult(t, nil))
		for _, key := range []int64{unknownKey(), resp.GetProcessInstanceKey()} {
			_, err := gw.SetVariables(ctx15(t), &pb.SetVariablesRequest{ElementInstanceKey: key, Variables: `{"x":1}`})
			requireStatus(t, err, codes.NotFound,
				rejection("UPDATE", "NOT_FOUND", "Expected to update variables for element with key '%d', but no such element was found", key))
		}
	})
}

// Reference §1.0 variables documents: the gateway checks them before the
// broker, so even an unknown key gets INVALID_ARGUMENT.
func TestVariablesDocuments(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "start-end.bpmn")
	rpcs := []struct {
		name string
		send func(ctx context.Context, doc string) error
	}{
		{"CreateProcessInstance", func(ctx context.Context, doc string) error {
			_, err := gw.CreateProcessInstance(ctx, &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, Variables: doc})
			return err
		}},
		{"CompleteJob", func(ctx context.Context, doc string) error {
			_, err := gw.CompleteJob(ctx, &pb.CompleteJobRequest{JobKey: unknownKey(), Variables: doc})
			return err
		}},
		{"FailJob", func(ctx context.Context, doc string) error {
			_, err := gw.FailJob(ctx, &pb.FailJobRequest{JobKey: unknownKey(), Retries: 1, Variables: doc})
			return err
		}},
		{"ThrowError", func(ctx context.Context, doc string) error {
			_, err := gw.ThrowError(ctx, &pb.ThrowErrorRequest{JobKey: unknownKey(), ErrorCode: "E", Variables: doc})
			return err
		}},
		{"SetVariables", func(ctx context.Context, doc string) error {
			_, err := gw.SetVariables(ctx, &pb.SetVariablesRequest{ElementInstanceKey: unknownKey(), Variables: doc})
			return err
		}},
		{"PublishMessage", func(ctx context.Context, doc string) error {
			_, err := gw.PublishMessage(ctx, &pb.PublishMessageRequest{Name: m.pid + "-msg", CorrelationKey: "k", Variables: doc})
			return err
		}},
	}
	for _, rpc := range rpcs {
		t.Run(rpc.name, func(t *testing.T) {
			t.Parallel()
			requireStatus(t, rpc.send(ctx15(t), `{"a":`), codes.InvalidArgument, `Invalid JSON value: {"a":`)
			msg := statusMessage(t, rpc.send(ctx15(t), `[1]`), codes.InvalidArgument)
			assert.Contains(t, msg, "Expected document to be a root level object, but was 'ARRAY'")
		})
	}

	t.Run("empty, blank and null documents are empty", func(t *testing.T) {
		t.Parallel()
		for _, doc := range []string{"", "   ", "null", "{}"} {
			resp, err := gw.CreateProcessInstanceWithResult(ctx15(t), &pb.CreateProcessInstanceWithResultRequest{
				Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, Variables: doc}, RequestTimeout: 10_000})
			require.NoError(t, err, "variables %q", doc)
			assert.JSONEq(t, `{}`, resp.GetVariables(), "variables %q", doc)
		}
	})
}
