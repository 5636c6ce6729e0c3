package engine

import (
	"fmt"
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
