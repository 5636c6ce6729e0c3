package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/bpmn"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// The reserved headers through which Zeebe 8.5 hands a job-based user task's
// form, assignment and schedule to its job (io.camunda.zeebe.protocol.Protocol).
const (
	headerFormKey         = "io.camunda.zeebe:formKey"
	headerAssignee        = "io.camunda.zeebe:assignee"
	headerCandidateGroups = "io.camunda.zeebe:candidateGroups"
	headerCandidateUsers  = "io.camunda.zeebe:candidateUsers"
	headerDueDate         = "io.camunda.zeebe:dueDate"
	headerFollowUpDate    = "io.camunda.zeebe:followUpDate"
)

// userTaskHeaders appends a user task's reserved headers to its custom
// headers, evaluating the expressions in the task's scope. Like Zeebe, it
// leaves out what is absent or empty; candidate lists become JSON arrays of
// strings (["a","b"]), dates stay the ISO 8601 text they are or evaluate to.
func (p *proc) userTaskHeaders(ei *elemInst, u *bpmn.UserTaskProps, headers []kv) ([]kv, error) {
	add := func(name, value string) {
		if value != "" {
			headers = append(headers, kv{name: name, raw: marshal(value)})
		}
	}
	add(headerFormKey, u.FormKey)
	if u.FormID != "" {
		// A linked form: the header carries the latest version's key.
		f, err := p.linkedForm(u.FormID)
		if err != nil {
			return nil, err
		}
		add(headerFormKey, strconv.FormatInt(f.FormKey, 10))
	}
	assignee, err := p.userTaskString(u.Assignee, ei.key)
	if err != nil {
		return nil, err
	}
	add(headerAssignee, assignee)
	for _, l := range []struct{ header, attr string }{{headerCandidateGroups, u.CandidateGroups}, {headerCandidateUsers, u.CandidateUsers}} {
		v, err := p.userTaskList(l.attr, ei.key)
		if err != nil {
			return nil, err
		}
		add(l.header, v)
	}
	for _, d := range []struct{ header, attr string }{{headerDueDate, u.DueDate}, {headerFollowUpDate, u.FollowUpDate}} {
		v, err := p.userTaskDate(d.attr, ei.key)
		if err != nil {
			return nil, err
		}
		add(d.header, v)
	}
	return headers, nil
}

// userTaskString is a static value as written, or an expression's string.
func (p *proc) userTaskString(attr string, scope int64) (string, error) {
	if !feel.IsExpression(attr) {
		return attr, nil // a static assignee stays text, even when it looks like a number
	}
	v, err := p.evaluateAs(attr, scope, nil, "STRING")
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// userTaskList renders a candidate list as a JSON array of strings; "" for none.
func (p *proc) userTaskList(attr string, scope int64) (string, error) {
	if attr == "" {
		return "", nil
	}
	var items []string
	if !feel.IsExpression(attr) {
		items, _ = bpmn.SplitList(attr) // validated at deployment
	} else {
		v, err := p.evaluateAs(attr, scope, nil, "ARRAY")
		if err != nil {
			return "", err
		}
		for _, x := range v.([]any) {
			s, ok := x.(string)
			if !ok {
				raw, _ := feel.ToJSON(v)
				return "", &evalError{"EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected result of the expression '%s' to be a list of strings, but was '%s'.",
					strings.TrimPrefix(strings.TrimSpace(attr), "="), raw)}
			}
			items = append(items, s)
		}
	}
	if len(items) == 0 {
		return "", nil
	}
	return string(marshal(items)), nil
}

// userTaskDate is a static date as written, or an expression's date-time or
// string; null and "" leave the header out.
func (p *proc) userTaskDate(attr string, scope int64) (string, error) {
	if !feel.IsExpression(attr) {
		return attr, nil
	}
	v, err := p.evaluateAs(attr, scope, nil, "DATE_TIME", "STRING", "NULL")
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	raw, err := feel.ToJSON(v)
	if err != nil {
		return "", fmt.Errorf("render the date of '%s': %w", attr, err)
	}
	return strings.Trim(string(raw), `"`), nil
}

// VTUserTask is the value type of a Zeebe user task's records (Zeebe 8.4+).
const VTUserTask = "USER_TASK"

// UserTaskValue is the value of USER_TASK records, with the fields of Zeebe
// 8.5's user task record. FormKey is the key of the linked form, -1 for none.
type UserTaskValue struct {
	Assignee                 string          `json:"assignee"`
	CandidateGroupsList      []string        `json:"candidateGroupsList"`
	CandidateUsersList       []string        `json:"candidateUsersList"`
	DueDate                  string          `json:"dueDate"`
	FollowUpDate             string          `json:"followUpDate"`
	FormKey                  int64           `json:"formKey"`
	ChangedAttributes        []string        `json:"changedAttributes"`
	Variables                json.RawMessage `json:"variables"`
	BpmnProcessID            string          `json:"bpmnProcessId"`
	ProcessDefinitionVersion int32           `json:"processDefinitionVersion"`
	ProcessDefinitionKey     int64           `json:"processDefinitionKey"`
	ProcessInstanceKey       int64           `json:"processInstanceKey"`
	ElementID                string          `json:"elementId"`
	ElementInstanceKey       int64           `json:"elementInstanceKey"`
	TenantID                 string          `json:"tenantId"`
	UserTaskKey              int64           `json:"userTaskKey"`
	Action                   string          `json:"action"`
	ExternalFormReference    string          `json:"externalFormReference"`
	CustomHeaders            json.RawMessage `json:"customHeaders"`
}

// emptyUserTask is a user task command's value before the engine fills it in.
func emptyUserTask() UserTaskValue {
	return UserTaskValue{CandidateGroupsList: []string{}, CandidateUsersList: []string{}, FormKey: -1, ChangedAttributes: []string{},
		Variables: json.RawMessage(`{}`), ProcessDefinitionVersion: -1, ProcessDefinitionKey: -1, ProcessInstanceKey: -1,
		ElementInstanceKey: -1, TenantID: DefaultTenant, UserTaskKey: -1, CustomHeaders: json.RawMessage(`{}`)}
}

// The attributes an UPDATE command may change, as Zeebe names them in
// changedAttributes.
const (
	AttrCandidateGroups = "candidateGroupsList"
	AttrCandidateUsers  = "candidateUsersList"
	AttrDueDate         = "dueDate"
	AttrFollowUpDate    = "followUpDate"
)

// UserTaskCommand is a command on one Zeebe user task; which fields count
// depends on the command. Action "" takes the command's default action.
type UserTaskCommand struct {
	Key       int64
	Variables json.RawMessage // COMPLETE
	Action    string
	Assignee  string // ASSIGN, CLAIM
	// UPDATE: the attributes that change, and their new values.
	ChangedAttributes               []string
	CandidateGroups, CandidateUsers []string
	DueDate, FollowUpDate           string
}

func (e *Engine) userTaskCmd(ctx context.Context, intent string, c UserTaskCommand) error {
	v := emptyUserTask()
	v.Variables = docOrEmpty(c.Variables)
	v.Action, v.Assignee, v.DueDate, v.FollowUpDate = c.Action, c.Assignee, c.DueDate, c.FollowUpDate
	if c.ChangedAttributes != nil {
		v.ChangedAttributes = c.ChangedAttributes
	}
	if c.CandidateGroups != nil {
		v.CandidateGroupsList = c.CandidateGroups
	}
	if c.CandidateUsers != nil {
		v.CandidateUsersList = c.CandidateUsers
	}
	_, err := e.submit(ctx, &Record{ValueType: VTUserTask, Intent: intent, Key: c.Key, Value: &v})
	return err
}

// CompleteUserTask completes a Zeebe user task with variables.
func (e *Engine) CompleteUserTask(ctx context.Context, c UserTaskCommand) error {
	return e.userTaskCmd(ctx, "COMPLETE", c)
}

// AssignUserTask assigns a Zeebe user task, replacing any assignee; an empty
// assignee unassigns it.
func (e *Engine) AssignUserTask(ctx context.Context, c UserTaskCommand) error {
	return e.userTaskCmd(ctx, "ASSIGN", c)
}

// ClaimUserTask assigns a Zeebe user task that has no other assignee.
func (e *Engine) ClaimUserTask(ctx context.Context, c UserTaskCommand) error {
	return e.userTaskCmd(ctx, "CLAIM", c)
}

// UpdateUserTask changes a Zeebe user task's candidates and dates.
func (e *Engine) UpdateUserTask(ctx context.Context, c UserTaskCommand) error {
	return e.userTaskCmd(ctx, "UPDATE", c)
}

// userTask is an active Zeebe user task; Zeebe 8.5 keeps it in state
// CREATED between its creation and its completion or cancellation.
type userTask struct {
	key int64
	v   UserTaskValue
}

// createUserTask evaluates a Zeebe user task's properties and writes
// USER_TASK CREATING; CREATED follows once the element is activated.
func (p *proc) createUserTask(ei *elemInst) (*userTask, error) {
	u := ei.el.UserTask
	v := emptyUserTask()
	var err error
	if v.Assignee, err = p.userTaskString(u.Assignee, ei.key); err != nil {
		return nil, err
	}
	if v.CandidateGroupsList, err = p.userTaskItems(u.CandidateGroups, ei.key); err != nil {
		return nil, err
	}
	if v.CandidateUsersList, err = p.userTaskItems(u.CandidateUsers, ei.key); err != nil {
		return nil, err
	}
	if v.DueDate, err = p.userTaskDate(u.DueDate, ei.key); err != nil {
		return nil, err
	}
	if v.FollowUpDate, err = p.userTaskDate(u.FollowUpDate, ei.key); err != nil {
		return nil, err
	}
	if v.ExternalFormReference, err = p.userTaskString(u.ExternalReference, ei.key); err != nil {
		return nil, err
	}
	if u.FormID != "" {
		// A linked form is the latest version of its id at activation.
		f, err := p.linkedForm(u.FormID)
		if err != nil {
			return nil, err
		}
		v.FormKey = f.FormKey
	}
	headers := []kv{}
	for _, h := range ei.el.Headers {
		headers = append(headers, kv{name: h.Key, raw: marshal(h.Value)})
	}
	v.CustomHeaders = encodeDocument(headers)
	v.BpmnProcessID, v.ProcessDefinitionVersion, v.ProcessDefinitionKey = ei.def.id, ei.def.version, ei.def.key
	v.ProcessInstanceKey, v.ElementID, v.ElementInstanceKey = ei.pi, ei.el.ID, ei.key
	t := &userTask{key: p.st.nextKey(), v: v}
	t.v.UserTaskKey = t.key
	p.st.userTasks[t.key] = t
	ei.userTaskKey = t.key
	p.event(VTUserTask, "CREATING", t.key, t.v)
	return t, nil
}

// cancelUserTask cancels the user task of an element instance that is terminated.
func (p *proc) cancelUserTask(ei *elemInst) {
	t := p.st.userTasks[ei.userTaskKey]
	if t == nil {
		return
	}
	delete(p.st.userTasks, t.key)
	ei.userTaskKey = 0
	p.event(VTUserTask, "CANCELING", t.key, t.v)
	p.event(VTUserTask, "CANCELED", t.key, t.v)
}

// userTaskVerbs name the commands in rejections, and give their default action.
var userTaskVerbs = map[string]struct{ verb, action string }{
	"COMPLETE": {"complete", "complete"}, "ASSIGN": {"assign", "assign"}, "CLAIM": {"claim", "claim"}, "UPDATE": {"update", "update"},
}

func (p *proc) userTaskCommand(rec *Record) (any, error) {
	c := rec.Value.(*UserTaskValue)
	verb, ok := userTaskVerbs[rec.Intent]
	if !ok {
		return nil, reject(rec.Intent, "INVALID_ARGUMENT", "unknown user task command %s", rec.Intent)
	}
	t := p.st.userTasks[rec.Key]
	if t == nil {
		return nil, reject(rec.Intent, "NOT_FOUND", "Expected to %s user task with key '%d', but no such user task was found", verb.verb, rec.Key)
	}
	action := c.Action
	if action == "" {
		action = verb.action
		if rec.Intent == "ASSIGN" && c.Assignee == "" {
			action = "unassign"
		}
	}
	switch rec.Intent {
	case "COMPLETE":
		done := t.v
		done.Variables, done.Action = docOrEmpty(c.Variables), action
		delete(p.st.userTasks, t.key)
		p.event(VTUserTask, "COMPLETING", t.key, done)
		p.event(VTUserTask, "COMPLETED", t.key, done)
		// Like a job's completion: the variables are the trigger's, merged
		// when the element completes.
		if ei := p.st.elems[done.ElementInstanceKey]; ei != nil && ei.state == "ELEMENT_ACTIVATED" {
			ei.userTaskKey = 0
			pe := &processEvent{key: p.st.nextKey(), target: ei.el.ID, scope: ei.key, variables: done.Variables}
			p.event(VTProcessEvent, "TRIGGERING", pe.key, p.processEventValue(ei, pe))
			ei.trigger = pe
			p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
		}
	case "ASSIGN", "CLAIM":
		if rec.Intent == "CLAIM" && t.v.Assignee != "" && t.v.Assignee != c.Assignee {
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to claim user task with key '%d', but it has already been assigned", rec.Key)
		}
		t.v.Assignee, t.v.Action = c.Assignee, action
		p.event(VTUserTask, "ASSIGNING", t.key, t.v)
		p.event(VTUserTask, "ASSIGNED", t.key, t.v)
	case "UPDATE":
		changed := []string{}
		for _, a := range c.ChangedAttributes {
			switch a {
			case AttrCandidateGroups:
				t.v.CandidateGroupsList = c.CandidateGroupsList
			case AttrCandidateUsers:
				t.v.CandidateUsersList = c.CandidateUsersList
			case AttrDueDate:
				t.v.DueDate = c.DueDate
			case AttrFollowUpDate:
				t.v.FollowUpDate = c.FollowUpDate
			default:
				return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected to update user task with key '%d', but attribute '%s' cannot be updated", rec.Key, a)
			}
			changed = append(changed, a)
		}
		t.v.Action = action
		updated := t.v
		updated.ChangedAttributes = changed
		p.event(VTUserTask, "UPDATING", t.key, updated)
		p.event(VTUserTask, "UPDATED", t.key, updated)
	}
	return nil, nil
}

// userTaskItems is a candidate list's items; empty for none.
func (p *proc) userTaskItems(attr string, scope int64) ([]string, error) {
	raw, err := p.userTaskList(attr, scope)
	if err != nil || raw == "" {
		return []string{}, err
	}
	var items []string
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, fmt.Errorf("read candidate list %s: %w", raw, err)
	}
	return items, nil
}

// linkedForm is the latest version of a linked form; none deployed is the
// FORM_NOT_FOUND incident Zeebe raises.
func (p *proc) linkedForm(id string) (*formDef, error) {
	f := p.st.latestForm(id)
	if f == nil {
		return nil, &evalError{"FORM_NOT_FOUND", fmt.Sprintf("Expected to find a form with id '%s', but no form with this id is found, "+
			"at least a form with this id should be available. To resolve the Incident please deploy a form with the same id", id)}
	}
	return f, nil
}
