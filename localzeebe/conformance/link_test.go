package conformance

import (
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// Link events (docs: link-events.md): a link throw event completes and its
// scope goes on at the link catch event with its name, without a sequence
// flow; names pair within a scope only.
func TestLinkEvents(t *testing.T) {
	t.Parallel()
	m := deployModel(t, "link.bpmn")
	res := m.createWithResult(t, nil)
	a := awaitJob(t, m.jt)
	pik := a.GetProcessInstanceKey()
	completeJob(t, a.GetKey())
	completeJob(t, awaitInstanceJob(t, m.typ("b"), pik).GetKey())
	resp, _ := awaitResult(t, res)
	assert.Equal(t, pik, resp.GetProcessInstanceKey())

	needRecords(t)
	trace := instanceTrace(t, pik, m.pid, func(r *record) bool { return r.V.ElementID == "Throw_Next" })
	want := concat(lifecycle("Throw_Next"), lifecycle("Catch_Next"), []string{"EVENT F3 SEQUENCE_FLOW_TAKEN", "COMMAND Sub ACTIVATE_ELEMENT"})
	require.GreaterOrEqual(t, len(trace), len(want))
	assert.Equal(t, want, trace[:len(want)])
	trace = instanceTrace(t, pik, m.pid, func(r *record) bool { return r.V.ElementID == "Sub_Throw" })
	want = concat(lifecycle("Sub_Throw"), lifecycle("Sub_Catch"), []string{"EVENT S2 SEQUENCE_FLOW_TAKEN"})
	require.GreaterOrEqual(t, len(trace), len(want))
	assert.Equal(t, want, trace[:len(want)])
	typ, ev := elementTypes(t, elementKey(t, pik, "Catch_Next"))
	assert.Equal(t, [2]string{"INTERMEDIATE_CATCH_EVENT", "LINK"}, [2]string{typ, ev})
}

// A link throw event needs a catch event with its name in its own scope,
// and a name may have only one catch event there (Zeebe's messages, on the scope).
func TestLinkEventRejections(t *testing.T) {
	t.Parallel()
	throw := func(id, name string) string {
		return `<bpmn:intermediateThrowEvent id="` + id + `"><bpmn:linkEventDefinition name="` + name + `"/></bpmn:intermediateThrowEvent>`
	}
	catch := func(id, name string) string {
		return `<bpmn:intermediateCatchEvent id="` + id + `"><bpmn:linkEventDefinition name="` + name + `"/></bpmn:intermediateCatchEvent>`
	}
	tests := []struct {
		name string
		body func(pid string) string
		want func(pid string) string
	}{
		{"no catch event", func(string) string {
			return `<bpmn:startEvent id="Start"/>` + throw("T", "a") + catch("C", "b") + `<bpmn:sequenceFlow id="F" sourceRef="Start" targetRef="T"/>`
		}, func(pid string) string {
			return "Element: " + pid + "\n    ERROR: Can't find an catch link event for the throw link event with the name 'a'."
		}},
		{"the catch event in another scope", func(string) string {
			return `<bpmn:startEvent id="Start"/>` + throw("T", "a") + `<bpmn:sequenceFlow id="F" sourceRef="Start" targetRef="T"/>` +
				`<bpmn:subProcess id="Sub"><bpmn:startEvent id="Sub_Start"/>` + catch("C", "a") + `</bpmn:subProcess>`
		}, func(pid string) string {
			return "Element: " + pid + "\n    ERROR: Can't find an catch link event for the throw link event with the name 'a'."
		}},
		{"two catch events with one name", func(string) string {
			return `<bpmn:startEvent id="Start"/>` + throw("T", "a") + catch("C1", "a") + catch("C2", "a") + `<bpmn:sequenceFlow id="F" sourceRef="Start" targetRef="T"/>`
		}, func(pid string) string {
			return "Element: " + pid + "\n    ERROR: Multiple intermediate catch link event definitions with the same name 'a' are not allowed."
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pid := uniq(t, "p")
			name := pid + ".bpmn"
			_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{{Name: name, Content: []byte(process(pid, tc.body(pid)))}}})
			requireStatus(t, err, codes.InvalidArgument, deployInvalid(name)+tc.want(pid))
		})
	}
}
