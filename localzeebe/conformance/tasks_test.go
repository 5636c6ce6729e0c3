package conformance

import (
	"encoding/json"
	"fmt"
	"html"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userTaskJobType is the job type of every job-based user task (Zeebe's Protocol.USER_TASK_JOB_TYPE).
const userTaskJobType = "io.camunda.zeebe:userTask"

// between puts one flow node X between a none start event and a none end
// event (or, for an end event, after the start event only).
func between(pid, x string, isEnd bool) string {
	if isEnd {
		return process(pid, `<bpmn:startEvent id="Start"/>`+x+`<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="X"/>`)
	}
	return process(pid, `<bpmn:startEvent id="Start"/>`+x+`<bpmn:endEvent id="End"/>
		<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="X"/><bpmn:sequenceFlow id="F2" sourceRef="X" targetRef="End"/>`)
}

// elementTrace lists, in log order, the records of one element instance and
// of its job: "RECORD_TYPE VALUE_TYPE INTENT".
func elementTrace(t *testing.T, elementInstanceKey, jobKey int64) []string {
	t.Helper()
	var out []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.ValueType == "PROCESS_INSTANCE" && r.Key == elementInstanceKey || r.ValueType == "JOB" && jobKey > 0 && r.Key == jobKey
	}) {
		out = append(out, r.RecordType+" "+r.ValueType+" "+r.Intent)
	}
	return out
}

// elementTypes returns the bpmnElementType and bpmnEventType of an element instance's events.
func elementTypes(t *testing.T, elementInstanceKey int64) (elementType, eventType string) {
	t.Helper()
	for _, r := range findRecords(t, func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.Key == elementInstanceKey
	}) {
		var v struct {
			BpmnEventType string `json:"bpmnEventType"`
		}
		require.NoError(t, json.Unmarshal(r.Value, &v))
		return r.V.BpmnElementType, v.BpmnEventType
	}
	require.FailNow(t, fmt.Sprintf("no ELEMENT_ACTIVATING of element instance %d", elementInstanceKey))
	return "", ""
}

// The intents of a job-worker element, as the Zeebe 8.5 broker writes them
// for a service task (recordlog/testdata/compensation.jsonl: Task_BookHotel).
var jobElementTrace = []string{
	"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT",
	"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING",
	"EVENT JOB CREATED",
	"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED",
	"COMMAND JOB COMPLETE",
	"EVENT JOB COMPLETED",
	"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT",
	"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING",
	"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED",
}

// Zeebe 8.5 runs user tasks without zeebe:userTask, send, script and
// business-rule tasks with a zeebe:taskDefinition, and message throw and end
// events as jobs, exactly like service tasks (docs: user-tasks.md "Job worker
// implementation", message-events.md "Message throw events", send/script/
// business-rule task pages "Job worker implementation").
func TestJobBasedElements(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		xml             func(jobType string) string
		isEnd, userTask bool
		elementType     string
		eventType       string
		retries         int32
		wantHeaders     map[string]string
	}{
		{name: "user task (job worker implementation)", userTask: true, elementType: "USER_TASK", eventType: "UNSPECIFIED", retries: 1,
			xml: func(string) string {
				return `<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:taskHeaders><zeebe:header key="a" value="b"/></zeebe:taskHeaders></bpmn:extensionElements></bpmn:userTask>`
			}, wantHeaders: map[string]string{"a": "b"}},
		{name: "send task", elementType: "SEND_TASK", eventType: "UNSPECIFIED", retries: 3,
			xml: func(jt string) string {
				return `<bpmn:sendTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/><zeebe:taskHeaders><zeebe:header key="topic" value="orders"/></zeebe:taskHeaders></bpmn:extensionElements></bpmn:sendTask>`
			}, wantHeaders: map[string]string{"topic": "orders"}},
		{name: "script task with a task definition", elementType: "SCRIPT_TASK", eventType: "UNSPECIFIED", retries: 2,
			xml: func(jt string) string {
				return `<bpmn:scriptTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `" retries="2"/></bpmn:extensionElements></bpmn:scriptTask>`
			}, wantHeaders: map[string]string{}},
		{name: "business rule task with a task definition", elementType: "BUSINESS_RULE_TASK", eventType: "UNSPECIFIED", retries: 3,
			xml: func(jt string) string {
				return `<bpmn:businessRuleTask id="X"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/></bpmn:extensionElements></bpmn:businessRuleTask>`
			}, wantHeaders: map[string]string{}},
		{name: "intermediate message throw event", elementType: "INTERMEDIATE_THROW_EVENT", eventType: "MESSAGE", retries: 3,
			xml: func(jt string) string {
				return `<bpmn:intermediateThrowEvent id="X"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/></bpmn:extensionElements><bpmn:messageEventDefinition/></bpmn:intermediateThrowEvent>`
			}, wantHeaders: map[string]string{}},
		{name: "message end event", isEnd: true, elementType: "END_EVENT", eventType: "MESSAGE", retries: 3,
			xml: func(jt string) string {
				return `<bpmn:endEvent id="X"><bpmn:extensionElements><zeebe:taskDefinition type="` + jt + `"/></bpmn:extensionElements><bpmn:messageEventDefinition/></bpmn:endEvent>`
			}, wantHeaders: map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid, jt := uniq(t, "p"), uniq(t, "jt")
			if tc.userTask {
				jt = userTaskJobType
			}
			m := model{pid: pid, jt: jt, meta: deployXML(t, pid+".bpmn", between(pid, tc.xml(jt), tc.isEnd))}
			pik := m.create(t, map[string]any{"in": 1})
			j := awaitInstanceJob(t, jt, pik)
			assert.Equal(t, "X", j.GetElementId())
			assert.Equal(t, jt, j.GetType())
			assert.Equal(t, tc.retries, j.GetRetries(), "retries")
			assert.Equal(t, tc.wantHeaders, headersOf(t, j))
			assert.Equal(t, map[string]any{"in": 1.0}, jobVars(t, j))
			complete(t, j.GetKey(), map[string]any{"out": "done"})

			needRecords(t)
			waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
			out := findRecords(t, func(r *record) bool {
				return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik && r.V.Name == "out"
			})
			require.Len(t, out, 1, "the job's variables reach the process")
			assert.Equal(t, pik, out[0].V.ScopeKey)
			assert.Equal(t, jobElementTrace, elementTrace(t, j.GetElementInstanceKey(), j.GetKey()))
			typ, ev := elementTypes(t, j.GetElementInstanceKey())
			assert.Equal(t, tc.elementType, typ, "bpmnElementType")
			assert.Equal(t, tc.eventType, ev, "bpmnEventType")
		})
	}
}

func headersOf(t *testing.T, j *pb.ActivatedJob) map[string]string {
	t.Helper()
	h := map[string]string{}
	require.NoError(t, json.Unmarshal([]byte(j.GetCustomHeaders()), &h), "customHeaders %q", j.GetCustomHeaders())
	return h
}

// Plain tasks and manual tasks pass through: activated and completed at
// once, no job (docs: manual-tasks.md "a pass-through activity").
func TestPassThroughTasks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, xml, elementType string }{
		{"undefined task", `<bpmn:task id="X"/>`, "TASK"},
		{"manual task", `<bpmn:manualTask id="X"><bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=a + 1" target="out"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:manualTask>`, "MANUAL_TASK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid := uniq(t, "p")
			m := model{pid: pid, meta: deployXML(t, pid+".bpmn", between(pid, tc.xml, false))}
			resp, vars := awaitResult(t, m.createWithResult(t, map[string]any{"a": 1}))
			if tc.elementType == "MANUAL_TASK" {
				assert.Equal(t, map[string]any{"a": 1.0, "out": 2.0}, vars, "output mappings apply")
			}
			if external {
				return
			}
			pik := resp.GetProcessInstanceKey()
			x := waitRecord(t, "X activating", func(r *record) bool {
				return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ProcessInstanceKey == pik && r.V.ElementID == "X"
			})
			assert.Equal(t, []string{
				"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT",
				"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING",
				"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED",
				"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT",
				"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING",
				"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED",
			}, elementTrace(t, x.Key, 0))
			typ, ev := elementTypes(t, x.Key)
			assert.Equal(t, tc.elementType, typ)
			assert.Equal(t, "UNSPECIFIED", ev)
			assert.Empty(t, findRecords(t, func(r *record) bool { return r.ValueType == "JOB" && r.V.ProcessInstanceKey == pik }), "no job")
		})
	}
}

// A job-based user task hands its form, assignment and schedule to the job
// as the reserved io.camunda.zeebe:* headers (Protocol.USER_TASK_*_HEADER_NAME):
// only those that are set and not empty; candidate lists as JSON arrays.
func TestUserTaskHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		extensions string
		vars       map[string]any
		want       map[string]string
	}{
		{name: "static values",
			extensions: `<zeebe:formDefinition formKey="camunda-forms:bpmn:userTaskForm_1"/>
				<zeebe:assignmentDefinition assignee="1234567891011121314" candidateGroups="sales, operations" candidateUsers="jack,rose"/>
				<zeebe:taskSchedule dueDate="2023-02-28T09:16:23+02:00" followUpDate="2023-02-28T08:16:23+02:00"/>
				<zeebe:taskHeaders><zeebe:header key="a" value="b"/></zeebe:taskHeaders>`,
			want: map[string]string{
				"a":                                "b",
				"io.camunda.zeebe:formKey":         "camunda-forms:bpmn:userTaskForm_1",
				"io.camunda.zeebe:assignee":        "1234567891011121314",
				"io.camunda.zeebe:candidateGroups": `["sales","operations"]`,
				"io.camunda.zeebe:candidateUsers":  `["jack","rose"]`,
				"io.camunda.zeebe:dueDate":         "2023-02-28T09:16:23+02:00",
				"io.camunda.zeebe:followUpDate":    "2023-02-28T08:16:23+02:00",
			}},
		{name: "expressions",
			extensions: `<zeebe:assignmentDefinition assignee="=user" candidateGroups="=groups" candidateUsers="=users"/>
				<zeebe:taskSchedule dueDate="=due" followUpDate="=followUp"/>`,
			vars: map[string]any{"user": "alice", "groups": []string{"g1", "g2"}, "users": []string{"u1"},
				"due": "2023-02-28T09:16:23+02:00", "followUp": "2023-02-28T08:16:23+02:00"},
			want: map[string]string{
				"io.camunda.zeebe:assignee":        "alice",
				"io.camunda.zeebe:candidateGroups": `["g1","g2"]`,
				"io.camunda.zeebe:candidateUsers":  `["u1"]`,
				"io.camunda.zeebe:dueDate":         "2023-02-28T09:16:23+02:00",
				"io.camunda.zeebe:followUpDate":    "2023-02-28T08:16:23+02:00",
			}},
		{name: "empty and null results leave the headers out",
			extensions: `<zeebe:assignmentDefinition assignee="=user"/><zeebe:taskSchedule dueDate="=null" followUpDate="=followUp"/>`,
			vars:       map[string]any{"user": "", "followUp": ""},
			want:       map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid := uniq(t, "p")
			xml := between(pid, `<bpmn:userTask id="X"><bpmn:extensionElements>`+tc.extensions+`</bpmn:extensionElements></bpmn:userTask>`, false)
			m := model{pid: pid, meta: deployXML(t, pid+".bpmn", xml)}
			j := awaitInstanceJob(t, userTaskJobType, m.create(t, tc.vars))
			assert.Equal(t, tc.want, headersOf(t, j))
			completeJob(t, j.GetKey())
		})
	}

	t.Run("an assignee expression that is no string is an incident", func(t *testing.T) {
		t.Parallel()
		needRecords(t)
		pid := uniq(t, "p")
		m := model{pid: pid, meta: deployXML(t, pid+".bpmn", between(pid,
			`<bpmn:userTask id="X"><bpmn:extensionElements><zeebe:assignmentDefinition assignee="=n"/></bpmn:extensionElements></bpmn:userTask>`, false))}
		pik := m.create(t, map[string]any{"n": 5})
		inc := incidentCreated(t, pik)
		assert.Equal(t, "EXTRACT_VALUE_ERROR", inc.V.ErrorType)
		assert.Equal(t, "X", inc.V.ElementID)
		assert.Equal(t, "Expected result of the expression 'n' to be 'STRING', but was 'NUMBER'.", inc.V.ErrorMessage)
		assert.Empty(t, findRecords(t, func(r *record) bool { return isEvent(r, "JOB", "CREATED") && r.V.ProcessInstanceKey == pik }),
			"no job before the headers could be evaluated")
		setVariables(t, pik, map[string]any{"n": "bob"}, false)
		require.NoError(t, resolveIncident(t, inc.Key))
		j := awaitInstanceJob(t, userTaskJobType, pik)
		assert.Equal(t, "bob", headersOf(t, j)["io.camunda.zeebe:assignee"])
		completeJob(t, j.GetKey())
	})
}

// elementKey waits for the element's ELEMENT_ACTIVATING in the instance and returns its key.
func elementKey(t *testing.T, pik int64, elementID string) int64 {
	t.Helper()
	return waitRecord(t, fmt.Sprintf("%s of %d activating", elementID, pik), func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.ProcessInstanceKey == pik && r.V.ElementID == elementID
	}).Key
}

// The records of an element that activates, waits for no job and completes.
var passThroughTrace = []string{
	"COMMAND PROCESS_INSTANCE ACTIVATE_ELEMENT",
	"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATING",
	"EVENT PROCESS_INSTANCE ELEMENT_ACTIVATED",
	"COMMAND PROCESS_INSTANCE COMPLETE_ELEMENT",
	"EVENT PROCESS_INSTANCE ELEMENT_COMPLETING",
	"EVENT PROCESS_INSTANCE ELEMENT_COMPLETED",
}

// A receive task waits for a message like an intermediate message catch
// event, and can have boundary events (docs: message-events.md, receive tasks).
func TestReceiveTask(t *testing.T) {
	t.Parallel()
	const hour = "PT1H"

	t.Run("published after the subscription opened", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "receive-task.bpmn")
		key := uniq(t, "order")
		pik := m.create(t, map[string]any{"orderId": key, "wait": hour})
		afterElement(t, pik, "Receive_Payment")
		noJob(t, m.typ("after"), 0)
		_, err := publish(t, m.msg, key, 0, "", map[string]any{"paid": true})
		require.NoError(t, err)
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, pik, after.GetProcessInstanceKey())
		assert.Equal(t, true, jobVars(t, after)["paid"], "message variables propagate")
		completeJob(t, after.GetKey())

		needRecords(t)
		rk := elementKey(t, pik, "Receive_Payment")
		assert.Equal(t, passThroughTrace, elementTrace(t, rk, 0))
		typ, ev := elementTypes(t, rk)
		assert.Equal(t, "RECEIVE_TASK", typ)
		assert.Equal(t, "UNSPECIFIED", ev)
		for _, intent := range []string{"CREATED", "CORRELATED"} {
			subs := findRecords(t, func(r *record) bool {
				return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", intent) && r.V.ElementInstanceKey == rk
			})
			require.Len(t, subs, 1, "PROCESS_MESSAGE_SUBSCRIPTION %s", intent)
			assert.Equal(t, "Receive_Payment", subs[0].V.ElementID)
		}
	})

	t.Run("a buffered message correlates on activation", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "receive-task.bpmn")
		key := uniq(t, "order")
		_, err := publish(t, m.msg, key, time.Minute, "", map[string]any{"paid": "early"})
		require.NoError(t, err)
		res := m.createWithResult(t, map[string]any{"orderId": key, "wait": hour})
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, "early", jobVars(t, after)["paid"])
		completeJob(t, after.GetKey())
		awaitResult(t, res)
	})

	t.Run("an interrupting timer boundary ends the wait", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "receive-task.bpmn")
		key := uniq(t, "order")
		created := time.Now()
		res := m.createWithResult(t, map[string]any{"orderId": key, "wait": "PT1S"})
		timeout := awaitJob(t, m.typ("timeout"))
		assert.GreaterOrEqual(t, time.Since(created), 950*time.Millisecond, "never earlier than due")
		_, err := publish(t, m.msg, key, 0, "", nil)
		require.NoError(t, err)
		noJob(t, m.typ("after"), 500*time.Millisecond)
		completeJob(t, timeout.GetKey())
		awaitResult(t, res)

		needRecords(t)
		pik := timeout.GetProcessInstanceKey()
		rk := elementKey(t, pik, "Receive_Payment")
		waitRecord(t, "the receive task's subscription deleted", func(r *record) bool {
			return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "DELETED") && r.V.ElementInstanceKey == rk
		})
		assert.Equal(t, []string{"Receive_Payment", "Timer_Boundary"}, elementEventsOf(t, pik, "ELEMENT_TERMINATED", "ELEMENT_COMPLETED", "Receive_Payment", "Timer_Boundary"))
	})
}

// elementEventsOf lists the element ids, in log order, of the instance's
// events with the first intent for the first id and the second for the second.
func elementEventsOf(t *testing.T, pik int64, intentA, intentB, idA, idB string) []string {
	t.Helper()
	var ids []string
	for _, r := range findRecords(t, func(r *record) bool {
		return r.RecordType == "EVENT" && r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik &&
			(r.Intent == intentA && r.V.ElementID == idA || r.Intent == intentB && r.V.ElementID == idB)
	}) {
		ids = append(ids, r.V.ElementID)
	}
	return ids
}

// A script task with zeebe:script evaluates its FEEL expression when it is
// activated and completes at once; the result variable is merged into the
// process unless output mappings say otherwise (docs: script-tasks.md).
func TestScriptTask(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"a": 1, "b": 2}
	for _, tc := range []struct {
		name, script string
		want         any
	}{
		{"arithmetic", "= a + b", 3.0},
		{"string", `= "order-" + string(a)`, "order-1"},
		{"context and list", "= {sum: a + b, both: [a, b]}", map[string]any{"sum": 3.0, "both": []any{1.0, 2.0}}},
		{"a missing variable gives null", "= missing", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := deployModel(t, "script-task.bpmn", "SCRIPT", html.EscapeString(tc.script), "OUTPUT_MAPPINGS", "")
			pik := m.create(t, vars)
			after := awaitJob(t, m.typ("after"))
			assert.Equal(t, pik, after.GetProcessInstanceKey())
			got := jobVars(t, after)
			assert.Contains(t, got, "result")
			assert.Equal(t, tc.want, got["result"])
			completeJob(t, after.GetKey())

			needRecords(t)
			sk := elementKey(t, pik, "Script_Sum")
			assert.Equal(t, passThroughTrace, elementTrace(t, sk, 0), "no job")
			typ, _ := elementTypes(t, sk)
			assert.Equal(t, "SCRIPT_TASK", typ)
			created := findRecords(t, func(r *record) bool {
				return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik && r.V.Name == "result"
			})
			require.Len(t, created, 1)
			assert.Equal(t, pik, created[0].V.ScopeKey, "merged into the process scope")
		})
	}

	t.Run("with output mappings the result stays local", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "script-task.bpmn", "SCRIPT", "= a + b", "OUTPUT_MAPPINGS", `<zeebe:output source="= result * 10" target="total"/>`)
		pik := m.create(t, vars)
		after := awaitJob(t, m.typ("after"))
		assert.Equal(t, map[string]any{"a": 1.0, "b": 2.0, "total": 30.0}, jobVars(t, after))
		completeJob(t, after.GetKey())

		needRecords(t)
		sk := elementKey(t, pik, "Script_Sum")
		scopes := map[string]int64{}
		for _, r := range findRecords(t, func(r *record) bool { return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik }) {
			scopes[r.V.Name] = r.V.ScopeKey
		}
		assert.Equal(t, map[string]int64{"a": pik, "b": pik, "result": sk, "total": pik}, scopes)
	})
}

// Receive tasks and FEEL script tasks can be multi-instance, like job-based tasks
// (reference §4.2): each inner instance subscribes with its own correlation key,
// or evaluates the script with its own input element.
func TestMultiInstanceReceiveAndScriptTasks(t *testing.T) {
	t.Parallel()

	t.Run("parallel receive task", func(t *testing.T) {
		t.Parallel()
		pid, msg := uniq(t, "p"), uniq(t, "msg")
		xml := bpmnHeader + `<bpmn:message id="M" name="` + msg + `"><bpmn:extensionElements><zeebe:subscription correlationKey="= key"/></bpmn:extensionElements></bpmn:message>
			<bpmn:process id="` + pid + `" isExecutable="true"><bpmn:startEvent id="Start"/>
			<bpmn:receiveTask id="Receive" messageRef="M"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
				<zeebe:loopCharacteristics inputCollection="= keys" inputElement="key" outputCollection="amounts" outputElement="= amount"/>
			</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:receiveTask>
			<bpmn:endEvent id="End"/>
			<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Receive"/><bpmn:sequenceFlow id="F2" sourceRef="Receive" targetRef="End"/>
			</bpmn:process></bpmn:definitions>`
		m := model{pid: pid, meta: deployXML(t, pid+".bpmn", xml)}
		k1, k2 := uniq(t, "k"), uniq(t, "k")
		res := m.createWithResult(t, map[string]any{"keys": []string{k1, k2}})
		// Buffered, so the order against the subscriptions does not matter.
		for key, amount := range map[string]int{k2: 20, k1: 10} {
			_, err := publish(t, msg, key, time.Minute, "", map[string]any{"amount": amount})
			require.NoError(t, err)
		}
		_, vars := awaitResult(t, res)
		assert.Equal(t, []any{10.0, 20.0}, vars["amounts"], "each inner instance collects the amount of its own message")
	})

	t.Run("sequential script task", func(t *testing.T) {
		t.Parallel()
		pid := uniq(t, "p")
		xml := process(pid, `<bpmn:startEvent id="Start"/>
			<bpmn:scriptTask id="Double"><bpmn:extensionElements><zeebe:script expression="= x * 2" resultVariable="y"/></bpmn:extensionElements>
			<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:extensionElements>
				<zeebe:loopCharacteristics inputCollection="= xs" inputElement="x" outputCollection="ys" outputElement="= y"/>
			</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:scriptTask>
			<bpmn:endEvent id="End"/>
			<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Double"/><bpmn:sequenceFlow id="F2" sourceRef="Double" targetRef="End"/>`)
		m := model{pid: pid, meta: deployXML(t, pid+".bpmn", xml)}
		_, vars := awaitResult(t, m.createWithResult(t, map[string]any{"xs": []int{1, 2, 3}}))
		assert.Equal(t, []any{2.0, 4.0, 6.0}, vars["ys"])
	})
}
