package engine

import (
	"context"
	"encoding/json"
	"math"
	"sort"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/feel"
)

// ActivateRequest asks for jobs of one type.
type ActivateRequest struct {
	Type           string
	Worker         string
	Timeout        int64 // ms
	MaxJobs        int32
	FetchVariables []string
}

// ActivatedJob is a job handed to a worker.
type ActivatedJob struct {
	Key int64
	JobValue
}

// ActivatedJobs is the outcome of one activation.
type ActivatedJobs struct {
	Jobs []ActivatedJob
}

// ActivateJobs activates up to MaxJobs activatable jobs of the type, at once.
func (e *Engine) ActivateJobs(ctx context.Context, r ActivateRequest) (*ActivatedJobs, error) {
	out, err := e.submit(ctx, &Record{ValueType: VTJobBatch, Intent: "ACTIVATE", Key: -1, Value: &JobBatchValue{
		Type: r.Type, Worker: r.Worker, Timeout: r.Timeout, MaxJobsToActivate: r.MaxJobs, TenantIDs: []string{DefaultTenant},
		JobKeys: []int64{}, Jobs: []JobValue{}, FetchVariables: r.FetchVariables}})
	if err != nil {
		return nil, err
	}
	return out.(*ActivatedJobs), nil
}

// JobCommand is a command on one job; which fields count depends on the intent.
type JobCommand struct {
	Key          int64
	Variables    json.RawMessage
	Retries      int32
	ErrorMessage string
	ErrorCode    string
	RetryBackoff int64 // ms
	Timeout      int64 // ms
}

func (e *Engine) jobCmd(ctx context.Context, intent string, c JobCommand) error {
	v := emptyJob()
	v.Variables = docOrEmpty(c.Variables)
	v.Retries, v.ErrorMessage, v.ErrorCode, v.RetryBackoff, v.Timeout = c.Retries, c.ErrorMessage, c.ErrorCode, c.RetryBackoff, c.Timeout
	_, err := e.submit(ctx, &Record{ValueType: VTJob, Intent: intent, Key: c.Key, Value: &v})
	return err
}

// CompleteJob completes a job with variables.
func (e *Engine) CompleteJob(ctx context.Context, c JobCommand) error {
	return e.jobCmd(ctx, "COMPLETE", c)
}

// FailJob fails a job with the retries left, an error message, a backoff and variables.
func (e *Engine) FailJob(ctx context.Context, c JobCommand) error { return e.jobCmd(ctx, "FAIL", c) }

// ThrowError throws a BPMN error from a job.
func (e *Engine) ThrowError(ctx context.Context, c JobCommand) error {
	return e.jobCmd(ctx, "THROW_ERROR", c)
}

// UpdateJobRetries sets a job's retries.
func (e *Engine) UpdateJobRetries(ctx context.Context, c JobCommand) error {
	return e.jobCmd(ctx, "UPDATE_RETRIES", c)
}

// UpdateJobTimeout moves an activated job's deadline to now + timeout.
func (e *Engine) UpdateJobTimeout(ctx context.Context, c JobCommand) error {
	return e.jobCmd(ctx, "UPDATE_TIMEOUT", c)
}

// YieldJob gives an activated job back (a push that could not be delivered).
func (e *Engine) YieldJob(ctx context.Context, key int64) error {
	return e.jobCmd(ctx, "YIELD", JobCommand{Key: key})
}

func (p *proc) activateJobs(rec *Record) (any, error) {
	v := rec.Value.(*JobBatchValue)
	switch {
	case v.MaxJobsToActivate < 1:
		return nil, reject("ACTIVATE", "INVALID_ARGUMENT", "Expected to activate job batch with max jobs to activate to be greater than zero, but it was '%d'", v.MaxJobsToActivate)
	case v.Timeout < 1:
		return nil, reject("ACTIVATE", "INVALID_ARGUMENT", "Expected to activate job batch with timeout to be greater than zero, but it was '%d'", v.Timeout)
	case v.Type == "":
		return nil, reject("ACTIVATE", "INVALID_ARGUMENT", "Expected to activate job batch with type to be present, but it was blank")
	}
	out := *v
	out.JobKeys, out.Jobs = []int64{}, []JobValue{}
	res := &ActivatedJobs{}
	q := p.st.activatable[v.Type]
	for q.len() > 0 && int32(len(res.Jobs)) < v.MaxJobsToActivate {
		k := q.keys[0]
		q.keys = q.keys[1:]
		j := p.st.jobs[k]
		j.state = jobActivated
		j.v.Deadline = p.now + v.Timeout
		j.v.Worker = v.Worker
		jv := j.v
		jv.Variables = p.visible(j.v.ElementInstanceKey, v.FetchVariables)
		out.JobKeys = append(out.JobKeys, k)
		out.Jobs = append(out.Jobs, jv)
		res.Jobs = append(res.Jobs, ActivatedJob{Key: k, JobValue: jv})
	}
	out.FetchVariables = nil
	p.event(VTJobBatch, "ACTIVATED", p.st.nextKey(), out)
	return res, nil
}

// createJob creates the job of a service task instance.
func (p *proc) createJob(ei *elemInst) error {
	el := ei.el
	typ, err := p.evaluateAs(el.JobType, ei.key, nil, "STRING")
	if err != nil {
		return err
	}
	retriesAttr := el.JobRetries
	if retriesAttr == "" {
		retriesAttr = "3"
	}
	rv, err := p.evaluateAs(retriesAttr, ei.key, nil, "NUMBER")
	if err != nil {
		return err
	}
	retries, _ := toInt(rv)
	headers := []kv{}
	for _, h := range el.Headers {
		headers = append(headers, kv{name: h.Key, raw: marshal(h.Value)})
	}
	if el.UserTask != nil {
		if headers, err = p.userTaskHeaders(ei, el.UserTask, headers); err != nil {
			return err
		}
	}
	j := &job{key: p.st.nextKey(), state: jobActivatable, v: JobValue{Type: typ.(string), Retries: int32(retries),
		RecurringTime: -1, JobKind: "BPMN_ELEMENT", ElementID: el.ID, ProcessDefinitionKey: ei.def.key, Deadline: -1,
		CustomHeaders: encodeDocument(headers), TenantID: DefaultTenant, BpmnProcessID: ei.def.id, ProcessInstanceKey: ei.pi,
		ElementInstanceKey: ei.key, ProcessDefinitionVersion: ei.def.version, Variables: json.RawMessage(`{}`), Timeout: -1}}
	p.st.jobs[j.key] = j
	ei.jobKey = j.key
	p.event(VTJob, "CREATED", j.key, j.v)
	p.makeActivatable(j)
	return nil
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case interface{ Int64() (int64, bool) }:
		return n.Int64()
	case interface{ Float64() float64 }:
		f := n.Float64()
		return int64(math.Trunc(f)), f == math.Trunc(f)
	case float64:
		return int64(n), n == math.Trunc(n)
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	if raw, err := feel.ToJSON(v); err == nil {
		var i int64
		if json.Unmarshal(raw, &i) == nil {
			return i, true
		}
	}
	return 0, false
}

func (p *proc) makeActivatable(j *job) {
	j.state = jobActivatable
	q := p.st.activatable[j.v.Type]
	if q == nil {
		q = &jobQueue{}
		p.st.activatable[j.v.Type] = q
	}
	q.add(j.key)
	p.jobsAvailable[j.v.Type] = true
}

func (p *proc) removeJob(j *job) {
	delete(p.st.jobs, j.key)
	p.st.activatable[j.v.Type].remove(j.key)
}

// cancelJob cancels the job of an element instance that is terminated.
func (p *proc) cancelJob(ei *elemInst) {
	j := p.st.jobs[ei.jobKey]
	if j == nil {
		return
	}
	p.removeJob(j)
	ei.jobKey = 0
	p.event(VTJob, "CANCELED", j.key, j.v)
	if inc := p.st.incidents[j.incidentKey]; inc != nil {
		delete(p.st.incidents, inc.key)
		p.event(VTIncident, "RESOLVED", inc.key, inc.v)
	}
}

var jobVerbs = map[string]string{"COMPLETE": "complete job", "FAIL": "fail job", "THROW_ERROR": "throw an error for job"}

func (p *proc) jobCommand(rec *Record) (any, error) {
	c := rec.Value.(*JobValue)
	j := p.st.jobs[rec.Key]
	switch rec.Intent {
	case "COMPLETE", "FAIL", "THROW_ERROR":
		verb := jobVerbs[rec.Intent]
		if j == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to %s with key '%d', but no such job was found", verb, rec.Key)
		}
		if j.state != jobActivatable && j.state != jobActivated {
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to %s with key '%d', but it is in state '%s'", verb, rec.Key, j.state)
		}
	case "UPDATE_RETRIES":
		if c.Retries <= 0 {
			return nil, reject(rec.Intent, "INVALID_ARGUMENT", "Expected to update retries for job with key '%d' with a positive amount of retries, but the amount given was '%d'", rec.Key, c.Retries)
		}
		if j == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to update retries for job with key '%d', but no such job was found", rec.Key)
		}
	case "UPDATE_TIMEOUT":
		if j == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to update job deadline with key '%d', but no such job was found", rec.Key)
		}
		if j.state != jobActivated {
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to update the timeout of job with key '%d', but it is not active", rec.Key)
		}
	default:
		if j == nil {
			return nil, reject(rec.Intent, "NOT_FOUND", "Expected to %s job with key '%d', but no such job was found", rec.Intent, rec.Key)
		}
	}
	ei := p.st.elems[j.v.ElementInstanceKey]
	switch rec.Intent {
	case "COMPLETE":
		vars := docOrEmpty(c.Variables)
		p.removeJob(j)
		done := j.v
		done.Variables = vars
		p.event(VTJob, "COMPLETED", j.key, done)
		if ei != nil && ei.state == "ELEMENT_ACTIVATED" {
			ei.jobKey = 0
			t := &processEvent{key: p.st.nextKey(), target: ei.el.ID, scope: ei.key, variables: vars}
			p.event(VTProcessEvent, "TRIGGERING", t.key, p.processEventValue(ei, t))
			ei.trigger = t
			p.command(VTProcessInstance, "COMPLETE_ELEMENT", ei.key, p.st.value(ei))
		}
	case "FAIL":
		if vars, err := ParseDocument(c.Variables); err == nil && len(vars) > 0 && ei != nil {
			sv := p.scopeOf(ei)
			for _, v := range vars {
				p.setLocal(ei.key, sv, v.name, v.raw)
			}
		}
		msg := c.ErrorMessage
		if len(msg) > 10000 {
			msg = msg[:10000]
		}
		j.v.Retries, j.v.ErrorMessage, j.v.RetryBackoff = c.Retries, msg, c.RetryBackoff
		p.st.activatable[j.v.Type].remove(j.key)
		j.state = jobFailed
		if c.Retries > 0 && c.RetryBackoff > 0 {
			j.v.RecurringTime = p.now + c.RetryBackoff
		}
		failed := j.v
		failed.Variables = docOrEmpty(c.Variables)
		p.event(VTJob, "FAILED", j.key, failed)
		switch {
		case c.Retries > 0 && c.RetryBackoff <= 0:
			p.makeActivatable(j)
		case c.Retries <= 0:
			if msg == "" {
				msg = "No more retries left."
			}
			k := p.st.nextKey()
			inc := &incident{key: k, v: IncidentValue{ErrorType: "JOB_NO_RETRIES", ErrorMessage: msg, BpmnProcessID: j.v.BpmnProcessID,
				ProcessDefinitionKey: j.v.ProcessDefinitionKey, ProcessInstanceKey: j.v.ProcessInstanceKey, ElementID: j.v.ElementID,
				ElementInstanceKey: j.v.ElementInstanceKey, JobKey: j.key, VariableScopeKey: j.v.ElementInstanceKey, TenantID: DefaultTenant}}
			p.st.incidents[k] = inc
			j.incidentKey = k
			p.event(VTIncident, "CREATED", k, inc.v)
		}
	case "THROW_ERROR":
		if ei == nil || ei.state != "ELEMENT_ACTIVATED" {
			state := "null"
			if ei != nil {
				state = ei.state
			}
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to find active service task, but was %s", state)
		}
		j.v.ErrorCode, j.v.ErrorMessage = c.ErrorCode, c.ErrorMessage
		j.v.Variables = docOrEmpty(c.Variables)
		p.throwError(ei, c.ErrorCode, c.ErrorMessage, c.Variables, j)
		j.v.Variables = json.RawMessage(`{}`)
	case "UPDATE_RETRIES":
		j.v.Retries = c.Retries
		p.event(VTJob, "RETRIES_UPDATED", j.key, j.v)
	case "UPDATE_TIMEOUT":
		j.v.Deadline = p.now + c.Timeout
		p.event(VTJob, "TIMEOUT_UPDATED", j.key, j.v)
	case "TIME_OUT":
		if j.state != jobActivated || j.v.Deadline >= p.now {
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to time out activated job with key '%d', but it is not active or its deadline has not passed", rec.Key)
		}
		p.event(VTJob, "TIMED_OUT", j.key, j.v)
		p.makeActivatable(j)
	case "RECUR_AFTER_BACKOFF":
		if j.state != jobFailed || j.incidentKey != 0 || j.v.Retries <= 0 {
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to recur job with key '%d' after its backoff, but it is not waiting for one", rec.Key)
		}
		j.v.RecurringTime = -1
		p.event(VTJob, "RECURRED_AFTER_BACKOFF", j.key, j.v)
		p.makeActivatable(j)
	case "YIELD":
		if j.state != jobActivated {
			return nil, reject(rec.Intent, "INVALID_STATE", "Expected to yield activated job with key '%d', but it is in state '%s'", rec.Key, j.state)
		}
		p.event(VTJob, "YIELDED", j.key, j.v)
		p.makeActivatable(j)
	default:
		return nil, reject(rec.Intent, "INVALID_ARGUMENT", "unknown job command %s", rec.Intent)
	}
	return nil, nil
}

// processDue writes the commands the clock makes due: job timeouts, retry
// backoffs, timers and message expiry. Each is a root command of its own.
func (e *Engine) processDue(now int64) []*proc {
	var procs []*proc
	run := func(rec *Record) {
		p := e.newProc(now)
		_, _ = p.run(rec)
		procs = append(procs, p)
	}
	st := e.st
	// Only the due keys are sorted: the scan runs every tick over every job.
	var due []int64
	for k, j := range st.jobs {
		if j.state == jobActivated && j.v.Deadline < now || j.state == jobFailed && j.incidentKey == 0 && j.v.Retries > 0 && j.v.RecurringTime > 0 && j.v.RecurringTime <= now {
			due = append(due, k)
		}
	}
	sort.Slice(due, func(a, b int) bool { return due[a] < due[b] })
	for _, k := range due {
		j := st.jobs[k]
		switch {
		case j.state == jobActivated && j.v.Deadline < now:
			v := emptyJob()
			run(&Record{ValueType: VTJob, Intent: "TIME_OUT", Key: k, Value: &v})
		case j.state == jobFailed && j.incidentKey == 0 && j.v.Retries > 0 && j.v.RecurringTime > 0 && j.v.RecurringTime <= now:
			v := emptyJob()
			run(&Record{ValueType: VTJob, Intent: "RECUR_AFTER_BACKOFF", Key: k, Value: &v})
		}
	}
	var dueTimers []int64
	for k, t := range st.timers {
		if t.v.DueDate <= now {
			dueTimers = append(dueTimers, k)
		}
	}
	sort.Slice(dueTimers, func(a, b int) bool { return dueTimers[a] < dueTimers[b] })
	for _, k := range dueTimers {
		t := st.timers[k]
		if t == nil {
			continue // cancelled by a timer triggered before it in this tick
		}
		v := t.v
		run(&Record{ValueType: VTTimer, Intent: "TRIGGER", Key: k, Value: &v})
	}
	var expired []*bufferedMessage
	for _, name := range sortedStrings(st.messages) {
		for _, m := range st.messages[name] {
			if m.v.Deadline <= now {
				expired = append(expired, m)
			}
		}
	}
	for _, m := range expired {
		v := m.v
		run(&Record{ValueType: VTMessage, Intent: "EXPIRE", Key: m.key, Value: &v})
	}
	return procs
}
