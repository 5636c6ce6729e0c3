package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExporterResumesAfterACrash(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantLast int64
		wantFile string
	}{
		{"missing file", "", 0, ""},
		{"complete lines", "opened\n{\"position\":1}\n{\"position\":2}\n", 2, "opened\n{\"position\":1}\n{\"position\":2}\n"},
		{"a line cut by kill -9", "{\"position\":1}\n{\"position\":2}\n{\"posi", 2, "{\"position\":1}\n{\"position\":2}\n"},
		{"only a cut line", "{\"posi", 0, ""},
		{"exporter text only", "Debug exporter opened\n", 0, "Debug exporter opened\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "records.jsonl")
			if tt.content != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			}
			x, last, err := openExporter(path)
			require.NoError(t, err)
			defer x.close()
			assert.Equal(t, tt.wantLast, last)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.wantFile, string(b))
		})
	}
}

// TestReplayRebuildsTheState closes an engine with work in flight, opens the
// same store again and checks that the job it held is still there, with the
// same key, and that the record log got each record once.
func TestReplayRebuildsTheState(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/><bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="work" retries="2"/></bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/></bpmn:process></bpmn:definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	require.NoError(t, err)
	created, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "p", Version: -1, Variables: []byte(`{"x":1}`)})
	require.NoError(t, err)
	jobs, err := e.ActivateJobs(ctx, ActivateRequest{Type: "work", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, jobs.Jobs, 1)
	require.NoError(t, e.FailJob(ctx, JobCommand{Key: jobs.Jobs[0].Key, Retries: 1, ErrorMessage: "boom"}))
	require.NoError(t, e.Close())
	before, err := os.ReadFile(cfg.RecordLog)
	require.NoError(t, err)

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	again, err := e.ActivateJobs(ctx, ActivateRequest{Type: "work", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, again.Jobs, 1)
	assert.Equal(t, jobs.Jobs[0].Key, again.Jobs[0].Key)
	assert.Equal(t, int32(1), again.Jobs[0].Retries)
	assert.Equal(t, created.ProcessInstanceKey, again.Jobs[0].ProcessInstanceKey)
	assert.JSONEq(t, `{"x":1}`, string(again.Jobs[0].Variables))
	require.NoError(t, e.CompleteJob(ctx, JobCommand{Key: again.Jobs[0].Key}))

	after, err := os.ReadFile(cfg.RecordLog)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(after), string(before)), "the log after the restart extends the one before")
	assert.Contains(t, string(after[len(before):]), `"bpmnElementType":"PROCESS","parentProcessInstanceKey":-1,"parentElementInstanceKey":-1,"bpmnEventType":"UNSPECIFIED","tenantId":"<default>"},"key":`+itoa(created.ProcessInstanceKey))
	assert.Equal(t, strings.Count(string(before), "\n"), strings.Count(string(after[:len(before)]), "\n"))
}

func itoa(i int64) string { return strings.TrimSpace(strings.ReplaceAll(string(marshal(i)), "\"", "")) }

// TestReplayKeepsTimersAndIncidents restarts an engine that holds a pending
// timer and an open incident: after the replay the incident resolves under
// the same key and the timer still fires.
func TestReplayKeepsTimersAndIncidents(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl"), TickInterval: 10 * time.Millisecond}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:parallelGateway id="fork"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="fails"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:serviceTask id="after"><bpmn:extensionElements><zeebe:taskDefinition type="after-timer"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/><bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="wait"/><bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="t"/>
<bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="after"/></bpmn:process></bpmn:definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	require.NoError(t, err)
	_, err = e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "p", Version: -1})
	require.NoError(t, err)
	jobs, err := e.ActivateJobs(ctx, ActivateRequest{Type: "fails", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, jobs.Jobs, 1)
	require.NoError(t, e.FailJob(ctx, JobCommand{Key: jobs.Jobs[0].Key, Retries: 0, ErrorMessage: "out of luck"}))
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	var incidentKey int64
	for _, line := range strings.Split(readFile(t, cfg.RecordLog), "\n") {
		if strings.Contains(line, `"valueType":"INCIDENT"`) && strings.Contains(line, `"intent":"CREATED"`) {
			rec, err := decodeRecord([]byte(line))
			require.NoError(t, err)
			incidentKey = rec.Key
		}
	}
	require.NotZero(t, incidentKey, "the incident is in the record log")
	require.NoError(t, e.UpdateJobRetries(ctx, JobCommand{Key: jobs.Jobs[0].Key, Retries: 1}))
	require.NoError(t, e.ResolveIncident(ctx, incidentKey), "the incident survived the restart under its key")
	again, err := e.ActivateJobs(ctx, ActivateRequest{Type: "fails", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, again.Jobs, 1)

	deadline := time.Now().Add(5 * time.Second)
	for {
		after, err := e.ActivateJobs(ctx, ActivateRequest{Type: "after-timer", Worker: "w", Timeout: 60000, MaxJobs: 1})
		require.NoError(t, err)
		if len(after.Jobs) == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the timer did not fire after the restart")
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplayKeepsReceiveTasksAndUserTasks restarts an engine with a receive
// task waiting for its message and a user task job: after the replay the
// message correlates, and the job is the same, headers included.
func TestReplayKeepsReceiveTasksAndUserTasks(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:message id="m" name="paid"><bpmn:extensionElements><zeebe:subscription correlationKey="=order"/></bpmn:extensionElements></bpmn:message>
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:receiveTask id="r" messageRef="m"/>
<bpmn:userTask id="u"><bpmn:extensionElements><zeebe:assignmentDefinition assignee="=owner" candidateGroups="a, b"/></bpmn:extensionElements></bpmn:userTask>
<bpmn:serviceTask id="after"><bpmn:extensionElements><zeebe:taskDefinition type="after-message"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="fork"/><bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="r"/><bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="u"/>
<bpmn:sequenceFlow id="f3" sourceRef="r" targetRef="after"/></bpmn:process></bpmn:definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	require.NoError(t, err)
	_, err = e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "p", Version: -1, Variables: []byte(`{"order":"o-1","owner":"ann"}`)})
	require.NoError(t, err)
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	_, err = e.PublishMessage(ctx, PublishRequest{Name: "paid", CorrelationKey: "o-1"})
	require.NoError(t, err)
	after, err := e.ActivateJobs(ctx, ActivateRequest{Type: "after-message", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, after.Jobs, 1, "the receive task's subscription survived the restart")
	user, err := e.ActivateJobs(ctx, ActivateRequest{Type: "io.camunda.zeebe:userTask", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, user.Jobs, 1)
	assert.JSONEq(t, `{"io.camunda.zeebe:assignee":"ann","io.camunda.zeebe:candidateGroups":"[\"a\",\"b\"]"}`, string(user.Jobs[0].CustomHeaders))
	assert.EqualValues(t, 1, user.Jobs[0].Retries)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// TestReplayKeepsMessageStartsAndGateways restarts an engine with an instance
// that a message with a correlation key started, waiting at an event-based
// gateway inside a subprocess: after the replay the key still holds a second
// message back, the gateway still catches its message, and the held message
// starts the next instance when the first completes.
func TestReplayKeepsMessageStartsAndGateways(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:message id="order" name="order"/>
<bpmn:message id="paid" name="paid"><bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="order"/></bpmn:startEvent>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:eventBasedGateway id="g"/>
<bpmn:intermediateCatchEvent id="gotPaid"><bpmn:messageEventDefinition messageRef="paid"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="late"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="s1" sourceRef="ss" targetRef="g"/><bpmn:sequenceFlow id="s2" sourceRef="g" targetRef="gotPaid"/><bpmn:sequenceFlow id="s3" sourceRef="g" targetRef="late"/>
</bpmn:subProcess>
<bpmn:serviceTask id="after"><bpmn:extensionElements><zeebe:taskDefinition type="after-paid"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="sub"/><bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="after"/></bpmn:process></bpmn:definitions>`
	order := PublishRequest{Name: "order", CorrelationKey: "o-1", TimeToLive: 60000, Variables: []byte(`{"orderId":"o-1"}`)}
	paid := PublishRequest{Name: "paid", CorrelationKey: "o-1"}

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	require.NoError(t, err)
	_, err = e.PublishMessage(ctx, order)
	require.NoError(t, err)
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	held, err := e.PublishMessage(ctx, order)
	require.NoError(t, err)
	assert.NotContains(t, readFile(t, cfg.RecordLog), `"messageKey":`+itoa(held), "the first instance still holds the key")
	_, err = e.PublishMessage(ctx, paid)
	require.NoError(t, err)
	first, err := e.ActivateJobs(ctx, ActivateRequest{Type: "after-paid", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, first.Jobs, 1, "the gateway's subscription survived the restart")
	require.NoError(t, e.CompleteJob(ctx, JobCommand{Key: first.Jobs[0].Key}))

	assert.Contains(t, readFile(t, cfg.RecordLog), `"messageKey":`+itoa(held), "the held message started the next instance")
	_, err = e.PublishMessage(ctx, paid)
	require.NoError(t, err)
	second, err := e.ActivateJobs(ctx, ActivateRequest{Type: "after-paid", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, second.Jobs, 1)
	assert.NotEqual(t, first.Jobs[0].ProcessInstanceKey, second.Jobs[0].ProcessInstanceKey)
}

// TestReplayKeepsCallActivities restarts an engine while a called instance
// waits: after the replay the child's job completes the call activity, which
// gets the child's variables.
func TestReplayKeepsCallActivities(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:process id="parent" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="child"/></bpmn:extensionElements></bpmn:callActivity>
<bpmn:serviceTask id="after"><bpmn:extensionElements><zeebe:taskDefinition type="after-call"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/><bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/></bpmn:process>
<bpmn:process id="child" isExecutable="true"><bpmn:startEvent id="cs"/>
<bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="child-work"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="c1" sourceRef="cs" targetRef="work"/></bpmn:process></bpmn:definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	require.NoError(t, err)
	created, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "parent", Version: -1, Variables: []byte(`{"x":1}`)})
	require.NoError(t, err)
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	work, err := e.ActivateJobs(ctx, ActivateRequest{Type: "child-work", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, work.Jobs, 1, "the child instance survived the restart")
	assert.NotEqual(t, created.ProcessInstanceKey, work.Jobs[0].ProcessInstanceKey)
	require.NoError(t, e.CompleteJob(ctx, JobCommand{Key: work.Jobs[0].Key, Variables: []byte(`{"y":2}`)}))
	after, err := e.ActivateJobs(ctx, ActivateRequest{Type: "after-call", Worker: "w", Timeout: 60000, MaxJobs: 1})
	require.NoError(t, err)
	require.Len(t, after.Jobs, 1)
	assert.Equal(t, created.ProcessInstanceKey, after.Jobs[0].ProcessInstanceKey)
	assert.JSONEq(t, `{"x":1,"y":2}`, string(after.Jobs[0].Variables))
}

// awaitJobs polls until n jobs of the type are activated or 5 s pass.
func awaitJobs(t *testing.T, e *Engine, typ string, n int) []ActivatedJob {
	t.Helper()
	var got []ActivatedJob
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n {
		res, err := e.ActivateJobs(context.Background(), ActivateRequest{Type: typ, Worker: "w", Timeout: 60000, MaxJobs: int32(n - len(got))})
		require.NoError(t, err)
		got = append(got, res.Jobs...)
		require.True(t, time.Now().Before(deadline), "%d of %d jobs of type %s within 5 s", len(got), n, typ)
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

// TestReplayKeepsTimerStartsAndCycles restarts an engine before a timer
// start event is due: after the replay it starts its instance, whose
// non-interrupting cycle boundary fires twice.
func TestReplayKeepsTimerStartsAndCycles(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl"), TickInterval: 10 * time.Millisecond}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeDuration>PT0.3S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>
<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="ts-work"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:boundaryEvent id="tick" attachedToRef="t" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT0.1S</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:serviceTask id="ticked"><bpmn:extensionElements><zeebe:taskDefinition type="ts-tick"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="tick" targetRef="ticked"/></bpmn:process></bpmn:definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	require.NoError(t, err)
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	work := awaitJobs(t, e, "ts-work", 1)
	ticks := awaitJobs(t, e, "ts-tick", 2)
	for _, j := range ticks {
		assert.Equal(t, work[0].ProcessInstanceKey, j.ProcessInstanceKey)
	}
}

// TestReplayKeepsSignalsEventSubprocessesAndDecisions restarts an engine
// after a signal broadcast and a decision evaluation: after the replay the
// signal start subscription, the event subprocess's message subscription and
// the deployed decision are all still there.
func TestReplayKeepsSignalsEventSubprocessesAndDecisions(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:signal id="go" name="go"/>
<bpmn:message id="note" name="note"><bpmn:extensionElements><zeebe:subscription correlationKey="=k"/></bpmn:extensionElements></bpmn:message>
<bpmn:process id="sig" isExecutable="true"><bpmn:startEvent id="s"><bpmn:signalEventDefinition signalRef="go"/></bpmn:startEvent>
<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="sig-work"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/></bpmn:process>
<bpmn:process id="esp" isExecutable="true"><bpmn:startEvent id="es"/>
<bpmn:serviceTask id="et"><bpmn:extensionElements><zeebe:taskDefinition type="esp-work"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="e1" sourceRef="es" targetRef="et"/>
<bpmn:subProcess id="x" triggeredByEvent="true"><bpmn:startEvent id="xs" isInterrupting="false"><bpmn:messageEventDefinition messageRef="note"/></bpmn:startEvent>
<bpmn:serviceTask id="xt"><bpmn:extensionElements><zeebe:taskDefinition type="esp-note"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:sequenceFlow id="x1" sourceRef="xs" targetRef="xt"/></bpmn:subProcess></bpmn:process></bpmn:definitions>`
	decision := `<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="drg" name="DRG"><decision id="inc" name="Inc"><literalExpression><text>x + 1</text></literalExpression></decision></definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	_, err = e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}, {ResourceName: "d.dmn", Resource: []byte(decision)}})
	require.NoError(t, err)
	created, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "esp", Version: -1, Variables: []byte(`{"k":"1"}`)})
	require.NoError(t, err)
	_, err = e.BroadcastSignal(ctx, "go", nil)
	require.NoError(t, err)
	before, err := e.EvaluateDecision(ctx, 0, "inc", []byte(`{"x":1}`))
	require.NoError(t, err)
	assert.Equal(t, "2", before.DecisionOutput)
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	_, err = e.BroadcastSignal(ctx, "go", nil)
	require.NoError(t, err)
	started := awaitJobs(t, e, "sig-work", 2)
	assert.NotEqual(t, started[0].ProcessInstanceKey, started[1].ProcessInstanceKey, "one instance per broadcast, before and after the restart")
	_, err = e.PublishMessage(ctx, PublishRequest{Name: "note", CorrelationKey: "1"})
	require.NoError(t, err)
	note := awaitJobs(t, e, "esp-note", 1)
	assert.Equal(t, created.ProcessInstanceKey, note[0].ProcessInstanceKey)
	after, err := e.EvaluateDecision(ctx, 0, "inc", []byte(`{"x":2}`))
	require.NoError(t, err)
	assert.Equal(t, "3", after.DecisionOutput)
	assert.Equal(t, before.DecisionKey, after.DecisionKey)
}

// TestReplayKeepsZeebeUserTasksAndForms restarts an engine with a Zeebe user
// task that is assigned and linked to a deployed form: after the replay the
// task is still there to be completed, and a new instance links the same form.
func TestReplayKeepsZeebeUserTasksAndForms(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: filepath.Join(dir, "data"), RecordLog: filepath.Join(dir, "records.jsonl")}
	ctx := context.Background()
	model := `<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>
<bpmn:userTask id="u"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition formId="f"/></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="u"/><bpmn:sequenceFlow id="f1" sourceRef="u" targetRef="e"/></bpmn:process></bpmn:definitions>`

	e, err := Open(cfg)
	require.NoError(t, err)
	dep, err := e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}, {ResourceName: "f.form", Resource: []byte(`{"id":"f","components":[]}`)}})
	require.NoError(t, err)
	require.Len(t, dep.Forms, 1)
	formKey := dep.Forms[0].FormKey
	pi, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "p", Version: -1, Variables: []byte(`{}`)})
	require.NoError(t, err)
	require.NoError(t, e.Close())

	e, err = Open(cfg)
	require.NoError(t, err)
	defer e.Close()
	tasks := userTasksOf(t, e, pi.ProcessInstanceKey)
	require.Len(t, tasks, 1)
	assert.Equal(t, formKey, tasks[0].FormKey)
	require.NoError(t, e.AssignUserTask(ctx, UserTaskCommand{Key: tasks[0].UserTaskKey, Assignee: "ann"}))
	require.NoError(t, e.CompleteUserTask(ctx, UserTaskCommand{Key: tasks[0].UserTaskKey, Variables: []byte(`{"done":true}`)}))
	var rej *Rejection
	require.ErrorAs(t, e.CompleteUserTask(ctx, UserTaskCommand{Key: tasks[0].UserTaskKey}), &rej, "completed once")
	assert.Equal(t, "NOT_FOUND", rej.Type)

	again, err := redeployProcess(ctx, e, model)
	require.NoError(t, err)
	assert.Equal(t, dep.Processes[0].ProcessDefinitionKey, again, "an unchanged process is not deployed again")
	pi2, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "p", Version: -1, Variables: []byte(`{}`)})
	require.NoError(t, err)
	tasks = userTasksOf(t, e, pi2.ProcessInstanceKey)
	require.Len(t, tasks, 1)
	assert.Equal(t, formKey, tasks[0].FormKey, "the form survived the restart")
}

// redeployProcess redeploys the process alone and returns its definition key.
func redeployProcess(ctx context.Context, e *Engine, model string) (int64, error) {
	dep, err := e.Deploy(ctx, []Resource{{ResourceName: "p.bpmn", Resource: []byte(model)}})
	if err != nil {
		return 0, err
	}
	return dep.Processes[0].ProcessDefinitionKey, nil
}

// userTasksOf reads the instance's USER_TASK CREATED records from the log.
func userTasksOf(t *testing.T, e *Engine, pi int64) []UserTaskValue {
	t.Helper()
	var out []UserTaskValue
	require.NoError(t, e.Records(1, func(b []byte) error {
		rec, err := decodeRecord(b)
		if err != nil {
			return err
		}
		if v, ok := rec.Value.(*UserTaskValue); ok && rec.RecordType == Event && rec.Intent == "CREATED" && v.ProcessInstanceKey == pi {
			out = append(out, *v)
		}
		return nil
	}))
	return out
}
