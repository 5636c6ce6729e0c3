package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// messageStartProcess is Start_Msg (message msg) → Task (job type jt) → End;
// with none, also a none start event to the task.
func messageStartProcess(pid, msg, jt string, none bool) string {
	body := `<bpmn:startEvent id="Start_Msg"><bpmn:messageEventDefinition messageRef="M"/></bpmn:startEvent>
		<bpmn:serviceTask id="Task"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/></bpmn:extensionElements></bpmn:serviceTask>
		<bpmn:endEvent id="End"/>
		<bpmn:sequenceFlow id="F1" sourceRef="Start_Msg" targetRef="Task"/><bpmn:sequenceFlow id="F2" sourceRef="Task" targetRef="End"/>`
	if none {
		body = `<bpmn:startEvent id="Start_None"/><bpmn:sequenceFlow id="F0" sourceRef="Start_None" targetRef="Task"/>` + body
	}
	return bpmnHeader + `<bpmn:message id="M" name="` + msg + `"/><bpmn:process id="` + pid + `" isExecutable="true">` + body + `</bpmn:process></bpmn:definitions>`
}

// startSubscriptions returns the MESSAGE_START_EVENT_SUBSCRIPTION events of
// the intent for the process definition.
func startSubscriptions(t *testing.T, intent string, pdk int64) []*record {
	t.Helper()
	return findRecords(t, func(r *record) bool {
		return isEvent(r, "MESSAGE_START_EVENT_SUBSCRIPTION", intent) && r.V.ProcessDefinitionKey == pdk
	})
}

// correlatedBy returns the MESSAGE_START_EVENT_SUBSCRIPTION CORRELATED events of a message.
func correlatedBy(t *testing.T, messageKey int64) []*record {
	t.Helper()
	return findRecords(t, func(r *record) bool {
		return isEvent(r, "MESSAGE_START_EVENT_SUBSCRIPTION", "CORRELATED") && r.V.MessageKey == messageKey
	})
}

// A process with a message start event is started by publishing the message
// (docs: message-events.md "Message start events"; reference §1.15).
func TestMessageStartEvent(t *testing.T) {
	t.Parallel()

	t.Run("a message starts an instance with its variables", func(t *testing.T) {
		t.Parallel()
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		meta := deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		resp, err := publish(t, msg, "", 0, "", map[string]any{"a": 1})
		require.NoError(t, err)
		j := awaitJob(t, jt)
		assert.Equal(t, map[string]any{"a": 1.0}, jobVars(t, j))
		assert.Equal(t, meta.GetProcessDefinitionKey(), j.GetProcessDefinitionKey())
		completeJob(t, j.GetKey())

		needRecords(t)
		pik := j.GetProcessInstanceKey()
		created := startSubscriptions(t, "CREATED", meta.GetProcessDefinitionKey())
		require.Len(t, created, 1, "deploying opened one subscription")
		assert.Contains(t, string(created[0].Value), `"startEventId":"Start_Msg"`)
		assert.Contains(t, string(created[0].Value), `"messageName":"`+msg+`"`)
		corr := correlatedBy(t, resp.GetKey())
		require.Len(t, corr, 1)
		assert.Equal(t, pik, corr[0].V.ProcessInstanceKey)
		assert.Equal(t, created[0].Key, corr[0].Key, "the subscription's key")

		start := elementKey(t, pik, "Start_Msg")
		// The first element's ACTIVATE_ELEMENT has no key yet (key -1), as in a created instance.
		assert.Equal(t, passThroughTrace[1:], elementTrace(t, start, 0))
		typ, ev := elementTypes(t, start)
		assert.Equal(t, "START_EVENT", typ)
		assert.Equal(t, "MESSAGE", ev)
		vars := findRecords(t, func(r *record) bool { return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik })
		require.Len(t, vars, 1)
		assert.Equal(t, pik, vars[0].V.ScopeKey, "the message's variables are the process's")

		// Order: the message, the correlation, the trigger, the instance.
		published := waitRecord(t, "published", func(r *record) bool { return isEvent(r, "MESSAGE", "PUBLISHED") && r.Key == resp.GetKey() })
		triggering := findRecords(t, func(r *record) bool {
			return isEvent(r, "PROCESS_EVENT", "TRIGGERING") && r.V.ProcessInstanceKey == pik && strings.Contains(string(r.Value), `"targetElementId":"Start_Msg"`)
		})
		require.Len(t, triggering, 1)
		activate := waitRecord(t, "process activated", func(r *record) bool {
			return r.RecordType == "COMMAND" && r.ValueType == "PROCESS_INSTANCE" && r.Intent == "ACTIVATE_ELEMENT" && r.Key == pik
		})
		assert.Less(t, published.Position, corr[0].Position)
		assert.Less(t, corr[0].Position, triggering[0].Position)
		assert.Less(t, triggering[0].Position, activate.Position)
		assert.Len(t, findRecords(t, func(r *record) bool {
			return isEvent(r, "PROCESS_EVENT", "TRIGGERED") && r.V.ProcessInstanceKey == pik && strings.Contains(string(r.Value), `"targetElementId":"Start_Msg"`)
		}), 1, "the start event consumed the trigger")
	})

	t.Run("each message starts one instance; without a correlation key every message does", func(t *testing.T) {
		t.Parallel()
		needRecords(t)
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		var keys []int64
		for range 2 {
			resp, err := publish(t, msg, "", time.Minute, "", nil)
			require.NoError(t, err)
			keys = append(keys, resp.GetKey())
		}
		for _, k := range keys {
			assert.Len(t, correlatedBy(t, k), 1, "message %d started one instance", k)
		}
		for _, j := range awaitJobs(t, act{typ: jt}, 2) {
			completeJob(t, j.GetKey())
		}
	})

	t.Run("one active instance per correlation key", func(t *testing.T) {
		t.Parallel()
		needRecords(t)
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		key, other := uniq(t, "k"), uniq(t, "k")
		first, err := publish(t, msg, key, time.Minute, "", map[string]any{"n": 1})
		require.NoError(t, err)
		second, err := publish(t, msg, key, time.Minute, "", map[string]any{"n": 2})
		require.NoError(t, err)
		third, err := publish(t, msg, other, time.Minute, "", map[string]any{"n": 3})
		require.NoError(t, err)
		assert.Len(t, correlatedBy(t, first.GetKey()), 1)
		assert.Empty(t, correlatedBy(t, second.GetKey()), "an instance started with the same key is active")
		assert.Len(t, correlatedBy(t, third.GetKey()), 1, "another key starts its own instance")

		jobs := awaitJobs(t, act{typ: jt, max: 2}, 2)
		byN := map[float64]*pb.ActivatedJob{}
		for _, j := range jobs {
			byN[jobVars(t, j)["n"].(float64)] = j
		}
		require.Contains(t, byN, 1.0)
		require.Contains(t, byN, 3.0)
		completeJob(t, byN[3].GetKey())
		assert.Empty(t, correlatedBy(t, second.GetKey()), "the other key's instance does not release this one")
		completeJob(t, byN[1].GetKey())
		// The first instance completed: the buffered message starts the next.
		next := awaitJob(t, jt)
		assert.Equal(t, 2.0, jobVars(t, next)["n"])
		corr := correlatedBy(t, second.GetKey())
		require.Len(t, corr, 1)
		assert.Equal(t, next.GetProcessInstanceKey(), corr[0].V.ProcessInstanceKey)
		completeJob(t, next.GetKey())
	})

	t.Run("a cancelled instance releases its correlation key", func(t *testing.T) {
		t.Parallel()
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		key := uniq(t, "k")
		for n := range 2 {
			_, err := publish(t, msg, key, time.Minute, "", map[string]any{"n": n})
			require.NoError(t, err)
		}
		j := awaitJob(t, jt)
		assert.Equal(t, 0.0, jobVars(t, j)["n"])
		_, err := gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: j.GetProcessInstanceKey()})
		require.NoError(t, err)
		next := awaitJob(t, jt)
		assert.Equal(t, 1.0, jobVars(t, next)["n"])
		completeJob(t, next.GetKey())
	})

	t.Run("a message published before the deployment starts nothing", func(t *testing.T) {
		t.Parallel()
		needRecords(t)
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		early, err := publish(t, msg, "", time.Minute, "", nil)
		require.NoError(t, err)
		deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		assert.Empty(t, correlatedBy(t, early.GetKey()))
		noJob(t, jt, 0)
	})

	t.Run("a new version replaces the subscriptions", func(t *testing.T) {
		t.Parallel()
		needRecords(t)
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		v1 := deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		v2 := deployXML(t, pid+".bpmn", process(pid, `<bpmn:startEvent id="S"/><bpmn:endEvent id="E"/><bpmn:sequenceFlow id="F" sourceRef="S" targetRef="E"/>`))
		require.Len(t, startSubscriptions(t, "DELETED", v1.GetProcessDefinitionKey()), 1, "v1's subscription is closed")
		resp, err := publish(t, msg, "", 0, "", nil)
		require.NoError(t, err)
		assert.Empty(t, correlatedBy(t, resp.GetKey()), "v2 has no message start event")
		v3 := deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, true))
		assert.Empty(t, startSubscriptions(t, "DELETED", v2.GetProcessDefinitionKey()))
		resp, err = publish(t, msg, "", 0, "", nil)
		require.NoError(t, err)
		j := awaitJob(t, jt)
		assert.Equal(t, v3.GetProcessDefinitionKey(), j.GetProcessDefinitionKey(), "the latest version starts")
		assert.Len(t, correlatedBy(t, resp.GetKey()), 1)
		completeJob(t, j.GetKey())
	})

	t.Run("CreateProcessInstance needs a none start event", func(t *testing.T) {
		t.Parallel()
		pid, msg, jt := uniq(t, "p"), uniq(t, "msg"), uniq(t, "jt")
		deployXML(t, pid+".bpmn", messageStartProcess(pid, msg, jt, false))
		_, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
		requireStatus(t, err, codes.FailedPrecondition, rejection("CREATE", "INVALID_STATE", "Expected to create instance of process with none start event, but there is no such event"))
	})
}
