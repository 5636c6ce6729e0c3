package engine

import (
	"context"
	"encoding/json"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
)

// CreateRequest asks for a new process instance.
type CreateRequest struct {
	BpmnProcessID        string
	Version              int32 // < 0: latest
	ProcessDefinitionKey int64
	Variables            json.RawMessage
	StartElementIDs      []string
}

// Created describes a new process instance.
type Created struct {
	ProcessDefinitionKey int64
	BpmnProcessID        string
	Version              int32
	ProcessInstanceKey   int64
}

// InstanceResult is a completed process instance and its root variables.
type InstanceResult struct {
	Created
	Variables json.RawMessage
}

// CreateInstance creates and starts a process instance.
func (e *Engine) CreateInstance(ctx context.Context, r CreateRequest) (*Created, error) {
	out, err := e.submit(ctx, creationRecord(r, false, nil))
	if err != nil {
		return nil, err
	}
	return out.(*Created), nil
}

// CreateInstanceWithResult creates a process instance and waits until it
// completes (or ctx ends).
func (e *Engine) CreateInstanceWithResult(ctx context.Context, r CreateRequest, fetch []string) (*InstanceResult, error) {
	rec := creationRecord(r, true, fetch)
	ch := make(chan *InstanceResult, 1)
	req := &request{rec: rec, resp: make(chan outcome, 1), result: ch}
	if _, err := e.send(ctx, req); err != nil {
		return nil, err
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func creationRecord(r CreateRequest, withResult bool, fetch []string) *Record {
	var si []StartInstruction
	for _, id := range r.StartElementIDs {
		si = append(si, StartInstruction{ElementID: id})
	}
	if si == nil {
		si = []StartInstruction{}
	}
	intent := "CREATE"
	if withResult {
		intent = "CREATE_WITH_AWAITING_RESULT"
	}
	return &Record{ValueType: VTProcessInstanceCreation, Intent: intent, Key: -1, Value: &CreationValue{
		BpmnProcessID: r.BpmnProcessID, Version: r.Version, ProcessDefinitionKey: r.ProcessDefinitionKey, ProcessInstanceKey: -1,
		StartInstructions: si, Variables: docOrEmpty(r.Variables), TenantID: DefaultTenant, FetchVariables: fetch, WithResult: withResult}}
}

func (p *proc) createInstance(rec *Record) (any, error) {
	v := rec.Value.(*CreationValue)
	var def *procDef
	switch {
	case v.BpmnProcessID != "" && v.Version >= 0:
		for _, d := range p.st.procVersion[v.BpmnProcessID] {
			if d.version == v.Version {
				def = d
			}
		}
		if def == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to find process definition with process ID '%s' and version '%d', but none found", v.BpmnProcessID, v.Version)
		}
	case v.BpmnProcessID != "":
		if def = p.st.latest(v.BpmnProcessID); def == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to find process definition with process ID '%s', but none found", v.BpmnProcessID)
		}
	case v.ProcessDefinitionKey >= 0:
		if def = p.st.procs[v.ProcessDefinitionKey]; def == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to find process definition with key '%d', but none found", v.ProcessDefinitionKey)
		}
	default:
		return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected at least a bpmnProcessId or a key greater than -1, but none given")
	}
	vars, err := ParseDocument(v.Variables)
	if err != nil {
		return nil, reject(rec.Intent, "INVALID_ARGUMENT", "%s", err.Error())
	}
	var starts []*bpmn.Element
	for _, si := range v.StartInstructions {
		el := def.model.Elements[si.ElementID]
		if el == nil {
			return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected to create instance of process with start instructions but no element found with id '%s'.", si.ElementID)
		}
		if el.Type == bpmn.BoundaryEvent || el.Type == bpmn.EventSubProcess || el.IsForCompensation {
			return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected to create instance of process with start instructions but the element with id '%s' targets unsupported element type '%s'.", si.ElementID, el.Type)
		}
		for _, in := range el.Incoming {
			if in.Source.Type == bpmn.EventBasedGateway {
				// Its event belongs to the gateway, which is not there to subscribe to it.
				return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected to create instance of process with start instructions but the element with id '%s' is after the event-based gateway '%s', where an instance cannot start.", si.ElementID, in.Source.ID)
			}
		}
		if el.Parent != nil {
			// Zeebe activates the enclosing subprocesses first; the local engine does not.
			return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected to create instance of process with start instructions but the element with id '%s' is inside the subprocess '%s': the local engine supports start instructions only for elements of the process itself.", si.ElementID, el.Parent.ID)
		}
		starts = append(starts, el)
	}
	if len(starts) == 0 && def.model.NoneStart == nil {
		return nil, reject(rec.Intent, "INVALID_STATE", "Expected to create instance of process with none start event, but there is no such event")
	}
	pi := p.st.nextKey()
	root := &elemInst{key: pi, def: def, typ: "PROCESS", evType: "UNSPECIFIED", flowScope: -1, pi: pi,
		withResult: v.WithResult, fetchVariables: v.FetchVariables, starts: starts}
	sv := p.scope(pi, -1, pi, def)
	for _, kv := range vars {
		p.setLocal(pi, sv, kv.name, kv.raw)
	}
	if v.WithResult && p.req != nil && p.req.result != nil {
		p.e.mu.Lock()
		p.e.results[pi] = append(p.e.results[pi], p.req.result)
		p.e.mu.Unlock()
	}
	p.st.pending[pi] = root
	p.command(VTProcessInstance, "ACTIVATE_ELEMENT", pi, p.st.value(root))
	created := &Created{ProcessDefinitionKey: def.key, BpmnProcessID: def.id, Version: def.version, ProcessInstanceKey: pi}
	out := *v
	out.Version, out.ProcessDefinitionKey, out.ProcessInstanceKey, out.BpmnProcessID = def.version, def.key, pi, def.id
	out.FetchVariables, out.WithResult = nil, false
	p.event(VTProcessInstanceCreation, "CREATED", p.st.nextKey(), out)
	return created, nil
}

// CancelInstance cancels a root process instance.
func (e *Engine) CancelInstance(ctx context.Context, key int64) error {
	_, err := e.submit(ctx, &Record{ValueType: VTProcessInstance, Intent: "CANCEL", Key: key, Value: &ProcessInstanceValue{
		ProcessInstanceKey: key, ProcessDefinitionKey: -1, FlowScopeKey: -1, ParentProcessInstanceKey: -1,
		ParentElementInstanceKey: -1, Version: -1, BpmnElementType: "UNSPECIFIED", BpmnEventType: "UNSPECIFIED", TenantID: DefaultTenant}})
	return err
}

func (p *proc) cancelInstance(rec *Record) error {
	ei := p.st.elems[rec.Key]
	if ei == nil || ei.flowScope != -1 || ei.state == "ELEMENT_TERMINATING" || ei.state == "ELEMENT_COMPLETING" {
		return reject("CANCEL", "NOT_FOUND", "Expected to cancel a process instance with key '%d', but no such process was found", rec.Key)
	}
	if ei.parentEI != 0 {
		return reject("CANCEL", "INVALID_STATE", "Expected to cancel a process instance with key '%d', but it is created by a parent process instance. Cancel the root process instance '%d' instead.", rec.Key, p.rootInstance(ei))
	}
	p.command(VTProcessInstance, "TERMINATE_ELEMENT", ei.key, p.st.value(ei))
	return nil
}
