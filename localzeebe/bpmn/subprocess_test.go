package bpmn

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sub wraps body in an embedded subprocess with the given id and extra content.
func sub(id, inner, body string) string {
	return `<bpmn:subProcess id="` + id + `">` + inner + body + `</bpmn:subProcess>`
}

func TestParseSubprocess(t *testing.T) {
	inner := `<bpmn:startEvent id="SubStart"/>` + task("Inner", "", "") + `<bpmn:endEvent id="SubEnd"/>` +
		flow("SF1", "SubStart", "Inner") + flow("SF2", "Inner", "SubEnd")
	pd := parseOne(t, model("", `<bpmn:startEvent id="S"/>`+
		sub("Sub", `<bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=x" target="y"/></zeebe:ioMapping></bpmn:extensionElements>`, inner)+
		`<bpmn:boundaryEvent id="T" attachedToRef="Sub"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>`+
		`<bpmn:endEvent id="E"/><bpmn:endEvent id="TE"/>`+flow("F1", "S", "Sub")+flow("F2", "Sub", "E")+flow("F3", "T", "TE")))

	s := pd.Elements["Sub"]
	require.NotNil(t, s)
	assert.Equal(t, SubProcess, s.Type)
	assert.True(t, s.Type.IsActivity())
	assert.Nil(t, s.Parent)
	assert.Equal(t, []Mapping{{Source: "=x", Target: "y"}}, s.Inputs)
	require.NotNil(t, s.NoneStart)
	assert.Equal(t, "SubStart", s.NoneStart.ID)
	var ids []string
	for _, c := range s.Children {
		ids = append(ids, c.ID)
		assert.Same(t, s, c.Parent)
	}
	assert.Equal(t, []string{"SubStart", "Inner", "SubEnd"}, ids)
	assert.Equal(t, "S", pd.NoneStart.ID, "the subprocess's start event is not the process's")
	require.Len(t, s.Boundaries, 1)
	assert.Equal(t, "T", s.Boundaries[0].ID)
	for _, id := range []string{"Sub", "T", "S", "E", "TE"} {
		assert.Contains(t, idsOf(pd.Children), id)
	}
	assert.NotContains(t, idsOf(pd.Children), "Inner", "inner elements are the subprocess's children")
	assert.Same(t, pd.Elements["Inner"], pd.Flows["SF1"].Target)
}

func idsOf(es []*Element) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestParseSubprocessInvalid(t *testing.T) {
	innerOK := `<bpmn:startEvent id="SubStart"/><bpmn:endEvent id="SubEnd"/>` + flow("SF1", "SubStart", "SubEnd")
	tests := []struct {
		name, roots, body string
		want              []string // each must appear in one problem
	}{
		{name: "no start event", body: sub("Sub", "", `<bpmn:endEvent id="SubEnd"/>`),
			want: []string{"Element: Sub\n", "must have exactly one none start event"}},
		{name: "two start events", body: sub("Sub", "", `<bpmn:startEvent id="A"/><bpmn:startEvent id="B"/>`),
			want: []string{"Element: B\n", "exactly one none start event ('A' is one already)"}},
		{name: "a timer start event", body: sub("Sub", "", `<bpmn:startEvent id="A"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>`),
			want: []string{"Element: A\n", "must be none start events, found 'timerEventDefinition'"}},
		{name: "a flow leaving the subprocess", body: `<bpmn:endEvent id="E"/>` + sub("Sub", "", innerOK+flow("Out", "SubEnd", "E")),
			want: []string{"Element: Out\n", "must connect elements of the scope it is in"}},
		{name: "a boundary event on an inner activity outside the subprocess",
			body: sub("Sub", "", innerOK+task("Inner", "", "")) + `<bpmn:boundaryEvent id="B" attachedToRef="Inner"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>`,
			want: []string{"Element: B\n", "of the scope the boundary event is in"}},
		{name: "compensation inside a subprocess",
			body: sub("Sub", "", innerOK+`<bpmn:intermediateThrowEvent id="C"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>`),
			want: []string{"Element: C\n", "inside an embedded subprocess", "not supported by the local engine"}},
		{name: "a compensation boundary on a subprocess",
			body: sub("Sub", "", innerOK) + `<bpmn:boundaryEvent id="CB" attachedToRef="Sub"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>` +
				task("Undo", ` isForCompensation="true"`, "") + `<bpmn:association id="As" sourceRef="CB" targetRef="Undo"/>`,
			want: []string{"Element: CB\n", "attached to a subprocess", "not supported by the local engine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := strings.Join(problems(t, model(tt.roots, tt.body)), "\n---\n")
			for _, w := range tt.want {
				assert.Contains(t, all, w)
			}
		})
	}
}
