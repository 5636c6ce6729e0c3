package conformance

import (
	"strings"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// deployDMN deploys testdata/discount.dmn with a fresh DRG id (a FEEL name:
// the literal expression refers to a decision by it) and returns the id.
func deployDMN(t *testing.T) (string, *pb.DeployResourceResponse) {
	t.Helper()
	drg := strings.ReplaceAll(uniq(t, "drg"), "-", "_")
	resp, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{
		{Name: drg + ".dmn", Content: []byte(render(t, "discount.dmn", "DRG_ID", drg))}}})
	require.NoError(t, err)
	return drg, resp
}

// A .dmn resource deploys its decision requirements graph and decisions
// (reference §1.2: decisions, then the graph, in the response); deploying it
// unchanged again answers the same versions.
func TestDeployDecisions(t *testing.T) {
	t.Parallel()
	drg, resp := deployDMN(t)
	require.Len(t, resp.GetDeployments(), 4)
	var ids []string
	for _, d := range resp.GetDeployments()[:3] {
		dec := d.GetDecision()
		require.NotNil(t, dec)
		ids = append(ids, dec.GetDmnDecisionId())
		assert.Equal(t, int32(1), dec.GetVersion())
		assert.Equal(t, drg, dec.GetDmnDecisionRequirementsId())
		assert.Equal(t, "<default>", dec.GetTenantId())
	}
	assert.Equal(t, []string{drg + "_tier", drg + "_discount", drg + "_strict"}, ids)
	g := resp.GetDeployments()[3].GetDecisionRequirements()
	require.NotNil(t, g)
	assert.Equal(t, [4]string{drg, "Discounts", drg + ".dmn", "<default>"},
		[4]string{g.GetDmnDecisionRequirementsId(), g.GetDmnDecisionRequirementsName(), g.GetResourceName(), g.GetTenantId()})
	assert.Equal(t, g.GetDecisionRequirementsKey(), resp.GetDeployments()[0].GetDecision().GetDecisionRequirementsKey())

	again, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{
		{Name: drg + ".dmn", Content: []byte(render(t, "discount.dmn", "DRG_ID", drg))}}})
	require.NoError(t, err)
	require.Len(t, again.GetDeployments(), 4)
	assert.Equal(t, resp.GetDeployments()[0].GetDecision().GetDecisionKey(), again.GetDeployments()[0].GetDecision().GetDecisionKey(), "a duplicate")
	assert.Equal(t, int32(1), again.GetDeployments()[3].GetDecisionRequirements().GetVersion())

	needRecords(t)
	for vt, n := range map[string]int{"DECISION_REQUIREMENTS": 1, "DECISION": 3} {
		got := findRecords(t, func(r *record) bool {
			return isEvent(r, vt, "CREATED") && strings.Contains(string(r.Value), `"decisionRequirementsId":"`+drg+`"`)
		})
		assert.Len(t, got, n, vt)
	}
}

// EvaluateDecision evaluates the latest version of a decision by id, or the
// decision with the key, with its required decisions first.
func TestEvaluateDecision(t *testing.T) {
	t.Parallel()
	drg, dep := deployDMN(t)
	discountKey := dep.GetDeployments()[1].GetDecision().GetDecisionKey()
	for _, tc := range []struct {
		name string
		req  *pb.EvaluateDecisionRequest
		want string
		rule string
	}{
		{"by id", &pb.EvaluateDecisionRequest{DecisionId: drg + "_discount", Variables: `{"orders":12}`}, "10", "Rule_Gold"},
		{"by key", &pb.EvaluateDecisionRequest{DecisionKey: discountKey, Variables: `{"orders":2}`}, "0", "Rule_Basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := gw.EvaluateDecision(ctx15(t), tc.req)
			require.NoError(t, err)
			assert.Equal(t, [3]string{drg + "_discount", "Discount", tc.want}, [3]string{resp.GetDecisionId(), resp.GetDecisionName(), resp.GetDecisionOutput()})
			assert.Equal(t, discountKey, resp.GetDecisionKey())
			assert.Equal(t, drg, resp.GetDecisionRequirementsId())
			assert.Empty(t, resp.GetFailureMessage())
			require.Len(t, resp.GetEvaluatedDecisions(), 2)
			tier, discount := resp.GetEvaluatedDecisions()[0], resp.GetEvaluatedDecisions()[1]
			assert.Equal(t, [2]string{"DECISION_TABLE", "LITERAL_EXPRESSION"}, [2]string{tier.GetDecisionType(), discount.GetDecisionType()})
			require.Len(t, tier.GetEvaluatedInputs(), 1)
			assert.Equal(t, [2]string{"Input_Orders", "Orders"}, [2]string{tier.GetEvaluatedInputs()[0].GetInputId(), tier.GetEvaluatedInputs()[0].GetInputName()})
			require.Len(t, tier.GetMatchedRules(), 1)
			assert.Equal(t, tc.rule, tier.GetMatchedRules()[0].GetRuleId())
			assert.Equal(t, "tier", tier.GetMatchedRules()[0].GetEvaluatedOutputs()[0].GetOutputName())
			assert.Equal(t, tc.want, discount.GetDecisionOutput())
		})
	}
	t.Run("a failed evaluation answers with the failure", func(t *testing.T) {
		resp, err := gw.EvaluateDecision(ctx15(t), &pb.EvaluateDecisionRequest{DecisionId: drg + "_strict", Variables: `{"n":3}`})
		require.NoError(t, err)
		assert.Equal(t, drg+"_strict", resp.GetFailedDecisionId())
		assert.Equal(t, "Expected to evaluate decision '"+drg+"_strict', but the hit policy UNIQUE allows one matching rule, but the rules [Rule_Small, Rule_Odd] matched", resp.GetFailureMessage())
		assert.Equal(t, "null", resp.GetDecisionOutput())
	})
	t.Run("rejections", func(t *testing.T) {
		_, err := gw.EvaluateDecision(ctx15(t), &pb.EvaluateDecisionRequest{DecisionId: drg + "_nope"})
		requireStatus(t, err, codes.NotFound, rejection("EVALUATE", "NOT_FOUND", "Expected to evaluate decision '%s_nope', but no decision found for id '%s_nope'", drg, drg))
		key := unknownKey()
		_, err = gw.EvaluateDecision(ctx15(t), &pb.EvaluateDecisionRequest{DecisionKey: key})
		requireStatus(t, err, codes.NotFound, rejection("EVALUATE", "NOT_FOUND", "Expected to evaluate decision with key '%d', but no decision found for key '%d'", key, key))
		_, err = gw.EvaluateDecision(ctx15(t), &pb.EvaluateDecisionRequest{})
		requireStatus(t, err, codes.InvalidArgument, rejection("EVALUATE", "INVALID_ARGUMENT", "Expected either a decision id or a valid decision key, but none provided"))
	})
}

// A business rule task with zeebe:calledDecision evaluates the latest
// version of the decision when it is activated and completes with the
// result in its result variable; a decision not deployed is a
// CALLED_DECISION_ERROR incident, resolvable once it is.
func TestBusinessRuleTaskDecision(t *testing.T) {
	t.Parallel()
	drg := strings.ReplaceAll(uniq(t, "drg"), "-", "_")
	m := deployModel(t, "business-rule.bpmn", "DECISION_ID", drg+"_discount")
	res := m.createWithResult(t, map[string]any{"orders": 11})
	needRecords(t)
	pik := waitRecord(t, "the instance", func(r *record) bool {
		return isEvent(r, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING") && r.V.BpmnProcessID == m.pid && r.V.BpmnElementType == "PROCESS"
	}).Key
	inc := incidentCreated(t, pik)
	assert.Equal(t, [3]string{"CALLED_DECISION_ERROR", "Rule", "Expected to evaluate decision '" + drg + "_discount', but no decision found for id '" + drg + "_discount'"},
		[3]string{inc.V.ErrorType, inc.V.ElementID, inc.V.ErrorMessage})
	_, err := gw.DeployResource(ctx15(t), &pb.DeployResourceRequest{Resources: []*pb.Resource{
		{Name: drg + ".dmn", Content: []byte(render(t, "discount.dmn", "DRG_ID", drg))}}})
	require.NoError(t, err)
	require.NoError(t, resolveIncident(t, inc.Key))
	j := awaitInstanceJob(t, m.jt, pik)
	assert.Equal(t, map[string]any{"orders": 11.0, "discount": 10.0}, jobVars(t, j))
	completeJob(t, j.GetKey())
	_, vars := awaitResult(t, res)
	assert.Equal(t, map[string]any{"orders": 11.0, "discount": 10.0}, vars)

	ev := waitRecord(t, "DECISION_EVALUATION EVALUATED", func(r *record) bool {
		return isEvent(r, "DECISION_EVALUATION", "EVALUATED") && r.V.ProcessInstanceKey == pik
	})
	assert.Equal(t, [3]string{"Rule", "10", drg + "_discount"},
		[3]string{ev.V.ElementID, jsonField(t, ev, "decisionOutput"), jsonField(t, ev, "decisionId")})
	trace := instanceTrace(t, pik, m.pid, func(r *record) bool { return r.V.ElementID == "Rule" && r.Intent == "ELEMENT_ACTIVATING" })
	want := []string{"EVENT Rule ELEMENT_ACTIVATING", "EVENT Rule ELEMENT_ACTIVATED", "COMMAND Rule COMPLETE_ELEMENT",
		"EVENT Rule ELEMENT_COMPLETING", "EVENT Rule ELEMENT_COMPLETED"}
	require.GreaterOrEqual(t, len(trace), len(want))
	assert.Equal(t, want, trace[:len(want)])
}
