package engine

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/dmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// Decisions (docs: dmn, business-rule-tasks.md, Zeebe 8.5): a deployed .dmn
// resource is a decision requirements graph (DRG) with its decisions, each
// versioned by id; a business rule task with zeebe:calledDecision and the
// EvaluateDecision RPC evaluate the latest version of a decision, writing
// DECISION_EVALUATION EVALUATED or FAILED.

type drgDef struct {
	key          int64
	id, name     string
	version      int32
	resourceName string
	checksum     []byte
	model        *dmn.Definitions
	decisions    []*decisionDef
}

type decisionDef struct {
	key      int64
	id, name string
	version  int32
	drg      *drgDef
}

func (s *state) latestDecision(id string) *decisionDef {
	vs := s.decisionVersion[id]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

func (d *drgDef) value(duplicate bool, resource []byte) DecisionRequirementsValue {
	return DecisionRequirementsValue{DecisionRequirementsID: d.id, DecisionRequirementsName: d.name, DecisionRequirementsVersion: d.version,
		DecisionRequirementsKey: d.key, Namespace: d.model.Namespace, ResourceName: d.resourceName, Checksum: d.checksum,
		Resource: resource, Duplicate: duplicate, TenantID: DefaultTenant}
}

func (d *decisionDef) value(duplicate bool) DecisionValue {
	return DecisionValue{DecisionID: d.id, DecisionName: d.name, Version: d.version, DecisionKey: d.key,
		DecisionRequirementsID: d.drg.id, DecisionRequirementsKey: d.drg.key, Duplicate: duplicate, TenantID: DefaultTenant}
}

// deployDRG deploys a parsed DMN resource: a new version of the DRG and of
// each decision, or the latest ones again when the resource is unchanged.
func (p *proc) deployDRG(r Resource, m *dmn.Definitions, res *DeployResult) {
	sum := md5.Sum(r.Resource)
	vs := p.st.drgs[m.ID]
	if n := len(vs); n > 0 && string(vs[n-1].checksum) == string(sum[:]) && vs[n-1].resourceName == r.ResourceName {
		last := vs[n-1]
		res.DecisionRequirements = append(res.DecisionRequirements, last.value(true, nil))
		for _, d := range last.decisions {
			res.Decisions = append(res.Decisions, d.value(true))
		}
		return
	}
	drg := &drgDef{key: p.st.nextKey(), id: m.ID, name: m.Name, version: int32(len(vs) + 1), resourceName: r.ResourceName,
		checksum: sum[:], model: m}
	p.st.drgs[m.ID] = append(vs, drg)
	p.event(VTDecisionRequirements, "CREATED", drg.key, drg.value(false, r.Resource))
	res.DecisionRequirements = append(res.DecisionRequirements, drg.value(false, nil))
	for _, md := range m.Decisions {
		d := &decisionDef{key: p.st.nextKey(), id: md.ID, name: md.Name, version: int32(len(p.st.decisionVersion[md.ID]) + 1), drg: drg}
		drg.decisions = append(drg.decisions, d)
		p.st.decisionVersion[d.id] = append(p.st.decisionVersion[d.id], d)
		p.st.decisions[d.key] = d
		p.event(VTDecision, "CREATED", d.key, d.value(false))
		res.Decisions = append(res.Decisions, d.value(false))
	}
}

// jsonText renders a FEEL value as the JSON text the records carry.
func jsonText(v any) string {
	raw, err := feel.ToJSON(v)
	if err != nil {
		return "null"
	}
	return string(raw)
}

// evaluateDecision evaluates d with the variables lookup and returns the
// DECISION_EVALUATION value (without the process fields) and the output.
func (p *proc) evaluateDecision(d *decisionDef, lookup feel.Lookup) (DecisionEvaluationValue, *dmn.Result) {
	res := d.drg.model.Evaluate(d.id, lookup, time.UnixMilli(p.now))
	v := DecisionEvaluationValue{DecisionKey: d.key, DecisionID: d.id, DecisionName: d.name, DecisionVersion: d.version,
		DecisionRequirementsID: d.drg.id, DecisionRequirementsKey: d.drg.key, DecisionOutput: jsonText(res.Output),
		Variables: json.RawMessage(`{}`), ProcessDefinitionKey: -1, ProcessInstanceKey: -1, ElementInstanceKey: -1,
		EvaluatedDecisions: []EvaluatedDecisionValue{}, TenantID: DefaultTenant}
	for _, ev := range res.Decisions {
		ed := EvaluatedDecisionValue{DecisionID: ev.Decision.ID, DecisionName: ev.Decision.Name, DecisionType: ev.Decision.Type(),
			DecisionOutput: jsonText(ev.Output), EvaluatedInputs: []EvaluatedInputValue{}, MatchedRules: []MatchedRuleValue{}, TenantID: DefaultTenant}
		// The required decisions are those of the same DRG version.
		for _, x := range d.drg.decisions {
			if x.id == ev.Decision.ID {
				ed.DecisionKey, ed.DecisionVersion = x.key, x.version
			}
		}
		for _, in := range ev.Inputs {
			ed.EvaluatedInputs = append(ed.EvaluatedInputs, EvaluatedInputValue{InputID: in.ID, InputName: in.Name, InputValue: jsonText(in.Value)})
		}
		for _, m := range ev.Matched {
			mr := MatchedRuleValue{RuleID: m.ID, RuleIndex: m.Index, EvaluatedOutputs: []EvaluatedOutputValue{}}
			for _, o := range m.Outputs {
				mr.EvaluatedOutputs = append(mr.EvaluatedOutputs, EvaluatedOutputValue{OutputID: o.ID, OutputName: o.Name, OutputValue: jsonText(o.Value)})
			}
			ed.MatchedRules = append(ed.MatchedRules, mr)
		}
		v.EvaluatedDecisions = append(v.EvaluatedDecisions, ed)
	}
	if res.Failure != "" {
		v.DecisionOutput = "null"
		v.EvaluationFailureMessage = fmt.Sprintf("Expected to evaluate decision '%s', but %s", d.id, res.Failure)
		v.FailedDecisionID = d.id
		if res.Failed != nil {
			v.FailedDecisionID = res.Failed.ID
		}
	}
	return v, res
}

// calledDecision evaluates a business rule task's zeebe:calledDecision; the
// result goes to its result variable when the task completes.
func (p *proc) calledDecision(ei *elemInst) error {
	id := ei.el.CalledDecisionID
	if feel.IsExpression(strings.TrimSpace(id)) {
		v, err := p.evaluateAs(id, ei.key, nil, "STRING")
		if err != nil {
			return err
		}
		id = v.(string)
	}
	d := p.st.latestDecision(id)
	if d == nil {
		return &evalError{"CALLED_DECISION_ERROR", fmt.Sprintf("Expected to evaluate decision '%s', but no decision found for id '%s'", id, id)}
	}
	v, res := p.evaluateDecision(d, p.lookup(ei.key, nil))
	v.ProcessDefinitionKey, v.BpmnProcessID, v.ProcessInstanceKey = ei.def.key, ei.def.id, ei.pi
	v.ElementInstanceKey, v.ElementID = ei.key, ei.el.ID
	if res.Failure != "" {
		p.event(VTDecisionEvaluation, "FAILED", p.st.nextKey(), v)
		return &evalError{"DECISION_EVALUATION_ERROR", v.EvaluationFailureMessage}
	}
	p.event(VTDecisionEvaluation, "EVALUATED", p.st.nextKey(), v)
	ei.result = []kv{{name: ei.el.ResultVariable, raw: json.RawMessage(v.DecisionOutput)}}
	return nil
}

// DecisionEvaluation is the outcome of EvaluateDecision: the record's value and its key.
type DecisionEvaluation struct {
	Key int64
	DecisionEvaluationValue
}

// EvaluateDecision evaluates a decision by key (when > 0) or by id, latest version.
func (e *Engine) EvaluateDecision(ctx context.Context, key int64, id string, vars json.RawMessage) (*DecisionEvaluation, error) {
	out, err := e.submit(ctx, &Record{ValueType: VTDecisionEvaluation, Intent: "EVALUATE", Key: -1, Value: &DecisionEvaluationValue{
		DecisionKey: key, DecisionID: id, Variables: docOrEmpty(vars), ProcessDefinitionKey: -1, ProcessInstanceKey: -1,
		ElementInstanceKey: -1, EvaluatedDecisions: []EvaluatedDecisionValue{}, TenantID: DefaultTenant}})
	if err != nil {
		return nil, err
	}
	return out.(*DecisionEvaluation), nil
}

func (p *proc) evaluateDecisionCommand(rec *Record) (any, error) {
	cmd := rec.Value.(*DecisionEvaluationValue)
	var d *decisionDef
	switch {
	case cmd.DecisionKey > 0:
		if d = p.st.decisions[cmd.DecisionKey]; d == nil {
			return nil, reject("EVALUATE", "NOT_FOUND", "Expected to evaluate decision with key '%d', but no decision found for key '%d'", cmd.DecisionKey, cmd.DecisionKey)
		}
	case cmd.DecisionID != "":
		if d = p.st.latestDecision(cmd.DecisionID); d == nil {
			return nil, reject("EVALUATE", "NOT_FOUND", "Expected to evaluate decision '%s', but no decision found for id '%s'", cmd.DecisionID, cmd.DecisionID)
		}
	default:
		return nil, reject("EVALUATE", "INVALID_ARGUMENT", "Expected either a decision id or a valid decision key, but none provided")
	}
	vars, err := ParseDocument(cmd.Variables)
	if err != nil {
		return nil, reject("EVALUATE", "INVALID_ARGUMENT", "%s", err.Error())
	}
	given := map[string]json.RawMessage{}
	for _, x := range vars {
		given[x.name] = x.raw
	}
	v, res := p.evaluateDecision(d, func(name string) (any, bool) {
		raw, ok := given[name]
		if !ok {
			return nil, false
		}
		x, err := feel.FromJSON(raw)
		return x, err == nil
	})
	v.Variables = docOrEmpty(cmd.Variables)
	intent := "EVALUATED"
	if res.Failure != "" {
		intent = "FAILED"
	}
	key := p.st.nextKey()
	p.event(VTDecisionEvaluation, intent, key, v)
	return &DecisionEvaluation{Key: key, DecisionEvaluationValue: v}, nil
}
