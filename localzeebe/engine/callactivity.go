package engine

import (
	"fmt"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// Call activities (docs: call-activities.md, Zeebe 8.5): activating one
// creates an instance of the latest version of the called process, with the
// call activity's variables copied in; that instance's completion completes
// the call activity, and terminating the call activity terminates it first.

// calledProcess resolves the process a call activity calls.
func (p *proc) calledProcess(ei *elemInst) (*procDef, error) {
	id := ei.el.CalledProcessID
	if feel.IsExpression(strings.TrimSpace(id)) {
		v, err := p.evaluateAs(id, ei.key, nil, "STRING")
		if err != nil {
			return nil, err
		}
		id = v.(string)
	}
	def := p.st.latest(id)
	if def == nil {
		return nil, &evalError{"CALLED_ELEMENT_ERROR", fmt.Sprintf("Expected process with BPMN process id '%s' to be deployed, but not found.", id)}
	}
	if def.model.NoneStart == nil {
		return nil, &evalError{"CALLED_ELEMENT_ERROR", fmt.Sprintf("Expected process with BPMN process id '%s' to have a none start event, but not found.", id)}
	}
	return def, nil
}

// createChildInstance writes the child instance's ACTIVATE_ELEMENT and
// copies the variables into its root scope: all those visible from the call
// activity, or only its local ones (its input mappings) when
// propagateAllParentVariables is false.
func (p *proc) createChildInstance(ei *elemInst, def *procDef) {
	pi := p.st.nextKey()
	root := &elemInst{key: pi, def: def, typ: "PROCESS", evType: "UNSPECIFIED", flowScope: -1, pi: pi,
		parentPI: ei.pi, parentEI: ei.key}
	ei.childPI = pi
	p.st.pending[pi] = root
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", pi, p.st.value(root))
	var vars []kv
	if ei.el.PropagateAllParentVariables {
		vars = p.visibleVars(ei.key, nil)
	} else if sv := p.st.vars[ei.key]; sv != nil {
		for _, n := range sv.names {
			vars = append(vars, kv{name: n, raw: sv.vals[n]})
		}
	}
	sv := p.scope(pi, -1, pi, def)
	for _, v := range vars {
		p.setLocal(pi, sv, v.name, v.raw)
	}
}

// childCompleted hands a completed child instance's root variables to its
// call activity and completes it. With output mappings, or with
// propagateAllChildVariables false, they become the call activity's local
// variables, which only the output mappings carry further; otherwise they
// are propagated from the call activity like a job's variables.
func (p *proc) childCompleted(parentEI int64, vars []kv) {
	ca := p.st.elems[parentEI]
	if ca == nil || ca.state != "ELEMENT_ACTIVATED" {
		return
	}
	ca.childPI = 0
	if len(ca.el.Outputs) > 0 || !ca.el.PropagateAllChildVariables {
		sv := p.scopeOf(ca)
		for _, v := range vars {
			p.setLocal(ca.key, sv, v.name, v.raw)
		}
	} else if len(vars) > 0 {
		p.propagate(ca.key, vars)
	}
	p.command(VTProcessInstance, "COMPLETE_ELEMENT", ca.key, p.st.value(ca))
}

// rootVars lists the variables of a process instance's root scope in creation order.
func (p *proc) rootVars(pi int64) []kv {
	sv := p.st.vars[pi]
	if sv == nil {
		return nil
	}
	out := make([]kv, 0, len(sv.names))
	for _, n := range sv.names {
		out = append(out, kv{name: n, raw: sv.vals[n]})
	}
	return out
}

// terminateChild asks the child instance of a terminating call activity to
// terminate; false when there is none left to wait for.
func (p *proc) terminateChild(ei *elemInst) bool {
	if ei.childPI == 0 {
		return false
	}
	c := p.st.elems[ei.childPI]
	if c == nil {
		ei.childPI = 0
		return false
	}
	if c.state != "ELEMENT_TERMINATING" && c.state != "TERMINATE_REQUESTED" {
		p.command(VTProcessInstance, "TERMINATE_ELEMENT", c.key, p.st.value(c))
		c.state = "TERMINATE_REQUESTED"
	}
	return true
}

// outerOf is where an error thrown in ei looks next: the flow scope, or for
// a called process the call activity that created it.
func (p *proc) outerOf(ei *elemInst) *elemInst {
	if ei.flowScope == -1 && ei.parentEI != 0 {
		return p.st.elems[ei.parentEI]
	}
	return p.st.elems[ei.flowScope]
}

// rootInstance is the topmost process instance above a called one.
func (p *proc) rootInstance(ei *elemInst) int64 {
	for ei.parentEI != 0 {
		up := p.st.elems[ei.parentPI]
		if up == nil {
			return ei.parentPI
		}
		ei = up
	}
	return ei.key
}
