package conformance

import (
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// positionOf waits for the first record that matches and returns its position.
func positionOf(t *testing.T, what string, match func(*record) bool) int64 {
	t.Helper()
	return waitRecord(t, what, match).Position
}

// An event-based gateway waits for the first of the events after it; that
// event's flow is taken and the other events are cancelled (docs:
// event-based-gateways.md).
func TestEventBasedGateway(t *testing.T) {
	t.Parallel()

	t.Run("the message comes first", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "event-gateway.bpmn")
		key := uniq(t, "order")
		pik := m.create(t, map[string]any{"orderId": key, "wait": "PT1H"})
		afterElement(t, pik, "Gateway")
		first, err := publish(t, m.msg, key, 0, "", map[string]any{"amount": 5})
		require.NoError(t, err)
		paid := awaitInstanceJob(t, m.typ("paid"), pik)
		assert.Equal(t, 5.0, jobVars(t, paid)["amount"], "the message's variables")
		second, err := publish(t, m.msg, key, 0, "", nil)
		require.NoError(t, err)
		completeJob(t, paid.GetKey())
		noJob(t, m.typ("late"), 0)

		needRecords(t)
		waitRecord(t, "the instance completed", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Key == pik })
		gk := elementKey(t, pik, "Gateway")
		typ, ev := elementTypes(t, gk)
		assert.Equal(t, "EVENT_BASED_GATEWAY", typ)
		assert.Equal(t, "UNSPECIFIED", ev)
		assert.Equal(t, passThroughTrace, elementTrace(t, gk, 0))
		assert.Equal(t, passThroughTrace, elementTrace(t, elementKey(t, pik, "Paid"), 0), "the caught event completes at once")
		assert.Empty(t, findRecords(t, func(r *record) bool {
			return r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik && r.V.ElementID == "Late"
		}),
			"the other event is never entered")

		// The gateway holds the subscription and the timer.
		subs := findRecords(t, func(r *record) bool {
			return r.ValueType == "PROCESS_MESSAGE_SUBSCRIPTION" && r.V.ProcessInstanceKey == pik
		})
		var intents []string
		for _, s := range subs {
			intents = append(intents, s.Intent)
			assert.Equal(t, gk, s.V.ElementInstanceKey)
			assert.Equal(t, "Paid", s.V.ElementID)
		}
		assert.Equal(t, []string{"CREATED", "CORRELATED"}, intents, "correlated once: the second message finds no subscription")
		assert.Empty(t, findRecords(t, func(r *record) bool {
			return r.ValueType == "PROCESS_MESSAGE_SUBSCRIPTION" && r.V.MessageKey == second.GetKey()
		}))
		var timers []string
		for _, r := range findRecords(t, func(r *record) bool { return r.ValueType == "TIMER" && r.V.ProcessInstanceKey == pik }) {
			timers = append(timers, r.Intent)
			assert.Equal(t, gk, r.V.ElementInstanceKey)
		}
		assert.Equal(t, []string{"CREATED", "CANCELED"}, timers)

		// Order: the correlation triggers the gateway, which completes after
		// cancelling the timer; then the message's event is entered and its
		// variables are merged when it completes.
		inst := func(id, intent string) func(*record) bool {
			return func(r *record) bool {
				return r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik && r.V.ElementID == id && r.Intent == intent
			}
		}
		order := []int64{
			positionOf(t, "correlated", func(r *record) bool {
				return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED") && r.V.MessageKey == first.GetKey()
			}),
			positionOf(t, "triggering", func(r *record) bool {
				return isEvent(r, "PROCESS_EVENT", "TRIGGERING") && r.V.ProcessInstanceKey == pik
			}),
			positionOf(t, "gateway complete", inst("Gateway", "COMPLETE_ELEMENT")),
			positionOf(t, "gateway completing", inst("Gateway", "ELEMENT_COMPLETING")),
			positionOf(t, "timer cancelled", func(r *record) bool { return isEvent(r, "TIMER", "CANCELED") && r.V.ProcessInstanceKey == pik }),
			positionOf(t, "gateway completed", inst("Gateway", "ELEMENT_COMPLETED")),
			positionOf(t, "flow to Paid", inst("F1", "SEQUENCE_FLOW_TAKEN")),
			positionOf(t, "Paid activating", inst("Paid", "ELEMENT_ACTIVATING")),
			positionOf(t, "Paid completing", inst("Paid", "ELEMENT_COMPLETING")),
			positionOf(t, "triggered", func(r *record) bool { return isEvent(r, "PROCESS_EVENT", "TRIGGERED") && r.V.ProcessInstanceKey == pik }),
			positionOf(t, "amount", func(r *record) bool {
				return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik && r.V.Name == "amount"
			}),
			positionOf(t, "Paid completed", inst("Paid", "ELEMENT_COMPLETED")),
		}
		for i := 1; i < len(order); i++ {
			assert.Less(t, order[i-1], order[i], "record %d before record %d", i-1, i)
		}
		amount := waitRecord(t, "amount", func(r *record) bool {
			return isEvent(r, "VARIABLE", "CREATED") && r.V.ProcessInstanceKey == pik && r.V.Name == "amount"
		})
		assert.Equal(t, pik, amount.V.ScopeKey)
	})

	t.Run("the timer comes first", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "event-gateway.bpmn")
		key := uniq(t, "order")
		created := time.Now()
		pik := m.create(t, map[string]any{"orderId": key, "wait": "PT1S"})
		late := awaitInstanceJob(t, m.typ("late"), pik)
		assert.GreaterOrEqual(t, time.Since(created), 950*time.Millisecond, "never earlier than due")
		_, err := publish(t, m.msg, key, 0, "", nil)
		require.NoError(t, err)
		completeJob(t, late.GetKey())
		noJob(t, m.typ("paid"), 0)

		needRecords(t)
		gk := elementKey(t, pik, "Gateway")
		var intents []string
		for _, r := range findRecords(t, func(r *record) bool {
			return r.ValueType == "PROCESS_MESSAGE_SUBSCRIPTION" && r.V.ProcessInstanceKey == pik
		}) {
			intents = append(intents, r.Intent)
		}
		assert.Equal(t, []string{"CREATED", "DELETED"}, intents, "the message's subscription is cancelled")
		timers := findRecords(t, func(r *record) bool { return isEvent(r, "TIMER", "TRIGGERED") && r.V.ProcessInstanceKey == pik })
		require.Len(t, timers, 1)
		assert.Equal(t, gk, timers[0].V.ElementInstanceKey)
		assert.Equal(t, passThroughTrace, elementTrace(t, elementKey(t, pik, "Late"), 0))
		assert.Empty(t, findRecords(t, func(r *record) bool {
			return r.ValueType == "PROCESS_INSTANCE" && r.V.ProcessInstanceKey == pik && r.V.ElementID == "Paid"
		}))
	})

	t.Run("two timers due at once: the first wins", func(t *testing.T) {
		t.Parallel()
		pid, jt := uniq(t, "p"), uniq(t, "jt")
		timer := func(id string) string {
			return `<bpmn:intermediateCatchEvent id="` + id + `"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`
		}
		xml := process(pid, `<bpmn:startEvent id="Start"/><bpmn:eventBasedGateway id="Gateway"/>`+timer("T1")+timer("T2")+
			`<bpmn:serviceTask id="Task"><bpmn:extensionElements><zeebe:taskDefinition type="`+jt+`"/></bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="End"/>
			<bpmn:sequenceFlow id="F0" sourceRef="Start" targetRef="Gateway"/>
			<bpmn:sequenceFlow id="F1" sourceRef="Gateway" targetRef="T1"/><bpmn:sequenceFlow id="F2" sourceRef="Gateway" targetRef="T2"/>
			<bpmn:sequenceFlow id="F3" sourceRef="T1" targetRef="Task"/><bpmn:sequenceFlow id="F4" sourceRef="T2" targetRef="Task"/>
			<bpmn:sequenceFlow id="F5" sourceRef="Task" targetRef="End"/>`)
		m := model{pid: pid, jt: jt, meta: deployXML(t, pid+".bpmn", xml)}
		res := m.createWithResult(t, nil)
		completeJob(t, awaitJob(t, jt).GetKey())
		awaitResult(t, res)
		noJob(t, jt, 0)

		needRecords(t)
		pik := waitRecord(t, "T1 or T2", func(r *record) bool {
			return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.BpmnProcessID == pid && r.V.ElementID == "Gateway"
		}).V.ProcessInstanceKey
		var timers []string
		for _, r := range findRecords(t, func(r *record) bool {
			return r.RecordType == "EVENT" && r.ValueType == "TIMER" && r.V.ProcessInstanceKey == pik
		}) {
			timers = append(timers, r.Intent)
		}
		assert.Equal(t, []string{"CREATED", "CREATED", "TRIGGERED", "CANCELED"}, timers)
	})

	t.Run("a buffered message is caught when the gateway is entered", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "event-gateway.bpmn")
		key := uniq(t, "order")
		_, err := publish(t, m.msg, key, time.Minute, "", map[string]any{"amount": 7})
		require.NoError(t, err)
		res := m.createWithResult(t, map[string]any{"orderId": key, "wait": "PT1H"})
		paid := awaitJob(t, m.typ("paid"))
		assert.Equal(t, 7.0, jobVars(t, paid)["amount"])
		completeJob(t, paid.GetKey())
		awaitResult(t, res)
	})

	t.Run("cancelling the instance cancels the events", func(t *testing.T) {
		t.Parallel()
		needRecords(t)
		m := deployModel(t, "event-gateway.bpmn")
		pik := m.create(t, map[string]any{"orderId": uniq(t, "order"), "wait": "PT1H"})
		afterElement(t, pik, "Gateway")
		_, err := gw.CancelProcessInstance(ctx15(t), &pb.CancelProcessInstanceRequest{ProcessInstanceKey: pik})
		require.NoError(t, err)
		waitRecord(t, "terminated", func(r *record) bool { return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_TERMINATED") && r.Key == pik })
		assert.Len(t, findRecords(t, func(r *record) bool { return isEvent(r, "TIMER", "CANCELED") && r.V.ProcessInstanceKey == pik }), 1)
		assert.Len(t, findRecords(t, func(r *record) bool {
			return isEvent(r, "PROCESS_MESSAGE_SUBSCRIPTION", "DELETED") && r.V.ProcessInstanceKey == pik
		}), 1)
	})

	t.Run("no start instruction after the gateway", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "event-gateway.bpmn")
		_, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1,
			StartInstructions: []*pb.ProcessInstanceCreationStartInstruction{{ElementId: "Paid"}}})
		msg := statusMessage(t, err, codes.InvalidArgument)
		assert.Contains(t, msg, "'Paid'")
	})
}
