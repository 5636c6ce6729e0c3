package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

const bpmnHeader = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">`

// process wraps flow elements into a deployable document.
func process(pid, body string) string {
	return bpmnHeader + `<bpmn:process id="` + pid + `" isExecutable="true">` + body + `</bpmn:process></bpmn:definitions>`
}

// deployInvalid is the rejection prefix of a deployment with an invalid resource.
func deployInvalid(resource string) string {
	return rejection("CREATE", "INVALID_ARGUMENT", "Expected to deploy new resources, but encountered the following errors:\n'%s': ", resource)
}

// Reference §1.2 errors.
func TestDeployRejections(t *testing.T) {
	t.Parallel()

	t.Run("no resources", func(t *testing.T) {
		t.Parallel()
		_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{})
		requireStatus(t, err, codes.InvalidArgument, rejection("CREATE", "INVALID_ARGUMENT", "Expected to deploy at least one resource, but none given"))
	})

	t.Run("unknown resource type", func(t *testing.T) {
		t.Parallel()
		name := uniq(t, "r") + ".txt"
		_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: name, Content: []byte("hello")}}})
		requireStatus(t, err, codes.InvalidArgument, deployInvalid(name)+"unknown resource type")
	})

	// A form must be a JSON object with an id; the local engine's wording.
	for _, tc := range []struct{ name, content, what string }{
		{"form without an id", `{"type":"default","components":[]}`, "expected the form to have an 'id', but it is missing or blank"},
		{"form that is not JSON", `not json`, "the form is not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			localOnly(t, "Zeebe's wording differs")
			name := uniq(t, "r") + ".form"
			_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: name, Content: []byte(tc.content)}}})
			msg := statusMessage(t, err, codes.InvalidArgument)
			assert.True(t, strings.HasPrefix(msg, deployInvalid(name)+tc.what), "message %q", msg)
		})
	}

	for _, tc := range []struct {
		name      string
		localOnly string // non-empty: a local-engine limitation, Zeebe deploys it
		xml       func(pid string) string
		mentions  []string // the message names these (element ids)
	}{
		{name: "malformed XML", xml: func(pid string) string {
			return bpmnHeader + `<bpmn:process id="` + pid + `" isExecutable="true"><bpmn:startEvent id="Start">`
		}},
		{name: "not BPMN at all", xml: func(string) string { return "this is not xml" }},
		{name: "Zeebe user task with a form key", localOnly: "a Zeebe user task (zeebe:userTask) naming its form by formKey",
			mentions: []string{"Task_User", "'formKey'", "'formId' or 'externalReference'"}, xml: func(pid string) string {
				return process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
				<bpmn:userTask id="Task_User"><bpmn:extensionElements><zeebe:userTask/><zeebe:formDefinition formKey="camunda-forms:bpmn:f"/></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
				<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_User"/><bpmn:sequenceFlow id="F2" sourceRef="Task_User" targetRef="End"/>`)
			}},
		{name: "business rule task with a decision and a task definition",
			mentions: []string{"Task_Rule", "'zeebe:calledDecision'", "'zeebe:taskDefinition'"}, xml: func(pid string) string {
				return process(pid, `<bpmn:startEvent id="Start"/>
				<bpmn:businessRuleTask id="Task_Rule"><bpmn:extensionElements><zeebe:calledDecision decisionId="d" resultVariable="r"/><zeebe:taskDefinition type="t"/></bpmn:extensionElements></bpmn:businessRuleTask>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Rule"/>`)
			}},
		{name: "call activity binding type of Zeebe 8.6", localOnly: "Zeebe 8.5 ignores attributes it does not know",
			mentions: []string{"Call", "'bindingType'", "Zeebe 8.6"}, xml: func(pid string) string {
				return process(pid, `<bpmn:startEvent id="Start"/><bpmn:callActivity id="Call"><bpmn:extensionElements>
					<zeebe:calledElement processId="other" bindingType="deployment"/></bpmn:extensionElements></bpmn:callActivity>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Call"/>`)
			}},
		// Zeebe 8.5 does not know execution listeners (8.6) and would deploy the
		// model without running them; the local engine says so instead.
		{name: "execution listeners of Zeebe 8.6", localOnly: "Zeebe 8.5 ignores extension elements it does not know",
			mentions: []string{"Task_A", "'zeebe:executionListeners'", "Zeebe 8.6"}, xml: func(pid string) string {
				return process(pid, `<bpmn:startEvent id="Start"/>
				<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="x"/>
					<zeebe:executionListeners><zeebe:executionListener eventType="start" type="listener"/></zeebe:executionListeners></bpmn:extensionElements></bpmn:serviceTask>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/>`)
			}},
		{name: "event subprocess with flows and a none start event", mentions: []string{"Sub_Process", "Sub_Start"}, xml: func(pid string) string {
			return process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
				<bpmn:subProcess id="Sub_Process" triggeredByEvent="true"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
					<bpmn:startEvent id="Sub_Start"><bpmn:outgoing>S1</bpmn:outgoing></bpmn:startEvent>
					<bpmn:endEvent id="Sub_End"><bpmn:incoming>S1</bpmn:incoming></bpmn:endEvent>
					<bpmn:sequenceFlow id="S1" sourceRef="Sub_Start" targetRef="Sub_End"/>
				</bpmn:subProcess>
				<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Sub_Process"/><bpmn:sequenceFlow id="F2" sourceRef="Sub_Process" targetRef="End"/>`)
		}},
		{name: "bad FEEL in a condition", mentions: []string{"F_Bad"}, xml: func(pid string) string {
			return process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
				<bpmn:exclusiveGateway id="Gateway" default="F_Default"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F_Bad</bpmn:outgoing><bpmn:outgoing>F_Default</bpmn:outgoing></bpmn:exclusiveGateway>
				<bpmn:endEvent id="End"><bpmn:incoming>F_Bad</bpmn:incoming><bpmn:incoming>F_Default</bpmn:incoming></bpmn:endEvent>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Gateway"/>
				<bpmn:sequenceFlow id="F_Bad" sourceRef="Gateway" targetRef="End"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">= a +</bpmn:conditionExpression></bpmn:sequenceFlow>
				<bpmn:sequenceFlow id="F_Default" sourceRef="Gateway" targetRef="End"/>`)
		}},
		{name: "bad FEEL in an input mapping", mentions: []string{"Task_A"}, xml: func(pid string) string {
			return process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
				<bpmn:serviceTask id="Task_A"><bpmn:extensionElements><zeebe:taskDefinition type="x"/>
					<zeebe:ioMapping><zeebe:input source="= a +" target="b"/></zeebe:ioMapping></bpmn:extensionElements>
					<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
				<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/><bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="End"/>`)
		}},
		{name: "service task without a task definition", mentions: []string{"Task_A"}, xml: func(pid string) string {
			return process(pid, `<bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
				<bpmn:serviceTask id="Task_A"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:serviceTask>
				<bpmn:endEvent id="End"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
				<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_A"/><bpmn:sequenceFlow id="F2" sourceRef="Task_A" targetRef="End"/>`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.localOnly != "" {
				localOnly(t, tc.localOnly)
			}
			pid := uniq(t, "p")
			name := pid + ".bpmn"
			_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: name, Content: []byte(tc.xml(pid))}}})
			msg := statusMessage(t, err, codes.InvalidArgument)
			assert.True(t, strings.HasPrefix(msg, deployInvalid(name)), "message %q should start with %q", msg, deployInvalid(name))
			for _, id := range tc.mentions {
				assert.Contains(t, msg, id, "the message names the element")
			}
			// Nothing was deployed.
			_, err = gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: pid, Version: -1})
			requireStatus(t, err, codes.NotFound, "")
		})
	}

	t.Run("duplicated process id across resources", func(t *testing.T) {
		t.Parallel()
		pid := uniq(t, "p")
		xml := []byte(render(t, "start-end.bpmn", "PROCESS_ID", pid))
		_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: "a.bpmn", Content: xml}, {Name: "b.bpmn", Content: xml}}})
		msg := statusMessage(t, err, codes.InvalidArgument)
		assert.Contains(t, msg, "Duplicated process id in resources 'a.bpmn' and 'b.bpmn'")
	})

	t.Run("the deployment is atomic", func(t *testing.T) {
		t.Parallel()
		good, bad := uniq(t, "p"), uniq(t, "p")
		_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{
			{Name: good + ".bpmn", Content: []byte(render(t, "start-end.bpmn", "PROCESS_ID", good))},
			{Name: bad + ".bpmn", Content: []byte("<broken")},
		}})
		requireStatus(t, err, codes.InvalidArgument, "")
		_, err = gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: good, Version: -1})
		requireStatus(t, err, codes.NotFound, rejection("CREATE", "NOT_FOUND", "Expected to find process definition with process ID '%s', but none found", good))
	})
}

// Reference §1.3 errors.
func TestCreateInstanceRejections(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "start-end.bpmn")
	missing := uniq(t, "missing")
	missingKey := unknownKey()
	notFound := func(format string, args ...any) string { return rejection("CREATE", "NOT_FOUND", format, args...) }
	for _, tc := range []struct {
		name string
		req  *pb.CreateProcessInstanceRequest
		code codes.Code
		want string
	}{
		{"unknown process id", &pb.CreateProcessInstanceRequest{BpmnProcessId: missing, Version: -1}, codes.NotFound,
			notFound("Expected to find process definition with process ID '%s', but none found", missing)},
		{"unknown version", &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: 7}, codes.NotFound,
			notFound("Expected to find process definition with process ID '%s' and version '%d', but none found", m.pid, 7)},
		{"version 0 is a lookup of version 0", &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: 0}, codes.NotFound,
			notFound("Expected to find process definition with process ID '%s' and version '%d', but none found", m.pid, 0)},
		{"unknown key", &pb.CreateProcessInstanceRequest{ProcessDefinitionKey: missingKey}, codes.NotFound,
			notFound("Expected to find process definition with key '%d', but none found", missingKey)},
		{"neither id nor key", &pb.CreateProcessInstanceRequest{}, codes.NotFound,
			notFound("Expected to find process definition with key '%d', but none found", 0)},
		{"negative key and no id", &pb.CreateProcessInstanceRequest{ProcessDefinitionKey: -1}, codes.InvalidArgument,
			rejection("CREATE", "INVALID_ARGUMENT", "Expected at least a bpmnProcessId or a key greater than -1, but none given")},
		{"bad variables", &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, Variables: "{oops"}, codes.InvalidArgument,
			"Invalid JSON value: {oops"},
		{"default tenant", &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, TenantId: "<default>"}, codes.OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := gw.CreateProcessInstance(ctx15(t), tc.req)
			if tc.code == codes.OK {
				require.NoError(t, err)
				assert.Equal(t, "<default>", resp.GetTenantId())
				return
			}
			requireStatus(t, err, tc.code, tc.want)
		})
	}

	t.Run("another tenant while multi-tenancy is disabled", func(t *testing.T) {
		t.Parallel()
		_, err := gw.CreateProcessInstance(ctx15(t), &pb.CreateProcessInstanceRequest{BpmnProcessId: m.pid, Version: -1, TenantId: "other"})
		msg := statusMessage(t, err, codes.InvalidArgument)
		assert.Contains(t, msg, "with tenant identifier 'other', but multi-tenancy is disabled")
	})

	t.Run("WithResult unknown process id", func(t *testing.T) {
		t.Parallel()
		_, err := gw.CreateProcessInstanceWithResult(ctx15(t), &pb.CreateProcessInstanceWithResultRequest{
			Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: missing, Version: -1}, RequestTimeout: 5000})
		requireStatus(t, err, codes.NotFound, rejection("CREATE_WITH_AWAITING_RESULT", "NOT_FOUND",
			"Expected to find process definition with process ID '%s', but none found", missing))
	})
}

// Reference §1.8–1.13: unknown keys for every job and incident command.
func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	for _, c := range stateCommands {
		t.Run(c.rpc, func(t *testing.T) {
			t.Parallel()
			key := unknownKey()
			requireStatus(t, c.send(ctx15(t), key), codes.NotFound, notFoundJob(c, key))
		})
	}
	t.Run("UpdateJobRetries", func(t *testing.T) {
		t.Parallel()
		key := unknownKey()
		requireStatus(t, updateRetries(t, key, 3), codes.NotFound,
			rejection("UPDATE_RETRIES", "NOT_FOUND", "Expected to update retries for job with key '%d', but no such job was found", key))
	})
	t.Run("UpdateJobTimeout", func(t *testing.T) {
		t.Parallel()
		key := unknownKey()
		requireStatus(t, updateTimeout(t, key, time.Minute), codes.NotFound,
			rejection("UPDATE_TIMEOUT", "NOT_FOUND", "Expected to update job deadline with key '%d', but no such job was found", key))
	})
	t.Run("ResolveIncident", func(t *testing.T) {
		t.Parallel()
		key := unknownKey()
		requireStatus(t, resolveIncident(t, key), codes.NotFound,
			rejection("RESOLVE", "NOT_FOUND", "Expected to resolve incident with key '%d', but no such incident was found", key))
	})
}

// Reference §1.11: retries must be positive, in any job state.
func TestUpdateRetriesValidation(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "one-task.bpmn")
	m.create(t, nil)
	j := awaitJob(t, m.jt)
	for _, retries := range []int32{0, -3} {
		requireStatus(t, updateRetries(t, j.GetKey(), retries), codes.InvalidArgument, rejection("UPDATE_RETRIES", "INVALID_ARGUMENT",
			"Expected to update retries for job with key '%d' with a positive amount of retries, but the amount given was '%d'", j.GetKey(), retries))
	}
	require.NoError(t, updateRetries(t, j.GetKey(), 7))
	failJob(t, j.GetKey(), 7, "", 0, nil)
	again := awaitJob(t, m.jt)
	assert.EqualValues(t, 7, again.GetRetries())
	completeJob(t, again.GetKey())
}

// Reference §1.17: the RPCs the local engine does not implement.
func TestUnimplementedRPCs(t *testing.T) {
	t.Parallel()
	localOnly(t, "Zeebe implements these RPCs")
	for _, tc := range []struct {
		rpc  string
		call func(ctx context.Context) error
	}{
		{"DeleteResource", func(ctx context.Context) error {
			_, err := gw.DeleteResource(ctx, &pb.DeleteResourceRequest{ResourceKey: 1})
			return err
		}},
		{"ModifyProcessInstance", func(ctx context.Context) error {
			_, err := gw.ModifyProcessInstance(ctx, &pb.ModifyProcessInstanceRequest{ProcessInstanceKey: 1})
			return err
		}},
		{"MigrateProcessInstance", func(ctx context.Context) error {
			_, err := gw.MigrateProcessInstance(ctx, &pb.MigrateProcessInstanceRequest{ProcessInstanceKey: 1})
			return err
		}},
	} {
		t.Run(tc.rpc, func(t *testing.T) {
			t.Parallel()
			msg := statusMessage(t, tc.call(ctx15(t)), codes.Unimplemented)
			assert.Contains(t, msg, tc.rpc)
		})
	}
}
