package engine

import (
	"fmt"
)

// proc processes one root command and the follow-up commands it causes.
type proc struct {
	e         *Engine
	st        *state
	now       int64 // the root command's timestamp: the only clock processing reads
	replaying bool
	source    int64
	written   []*Record
	queue     []*Record
	req       *request

	jobsAvailable map[string]bool
	finished      []*InstanceResult
}

func (e *Engine) newProc(now int64) *proc {
	return &proc{e: e, st: e.st, now: now, jobsAvailable: map[string]bool{}}
}

func (p *proc) write(recordType, valueType, intent string, key int64, value any) *Record {
	p.st.position++
	r := &Record{PartitionID: 1, Value: value, Key: key, Position: p.st.position, Timestamp: p.now,
		ValueType: valueType, Intent: intent, RejectionType: "NULL_VAL", RecordVersion: 1,
		Authorizations: defaultAuths, SourceRecordPosition: p.source, BrokerVersion: BrokerVersion, RecordType: recordType}
	if !p.replaying {
		p.written = append(p.written, r)
	}
	return r
}

func (p *proc) event(valueType, intent string, key int64, value any) *Record {
	return p.write(Event, valueType, intent, key, value)
}

// command writes a follow-up command, processed after the records written so far.
func (p *proc) command(valueType, intent string, key int64, value any) {
	p.queue = append(p.queue, p.write(Command, valueType, intent, key, value))
}

func reject(intent, typ, format string, args ...any) *Rejection {
	return &Rejection{Intent: intent, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// run processes a root command. The record's Timestamp is kept on replay and
// set from the clock otherwise.
func (p *proc) run(rec *Record) (any, error) {
	if p.replaying {
		p.now = rec.Timestamp
	}
	// An activation that finds no job changes nothing; it is not logged.
	if rec.ValueType == VTJobBatch && !p.replaying {
		if v := rec.Value.(*JobBatchValue); p.st.activatable[v.Type].len() == 0 && v.Type != "" && v.MaxJobsToActivate > 0 && v.Timeout > 0 {
			return &ActivatedJobs{}, nil
		}
	}
	p.st.position++
	rec.PartitionID, rec.Position, rec.Timestamp = 1, p.st.position, p.now
	rec.RejectionType, rec.RecordVersion, rec.Authorizations = "NULL_VAL", 1, defaultAuths
	rec.SourceRecordPosition, rec.BrokerVersion, rec.RecordType = -1, BrokerVersion, Command
	if !p.replaying {
		p.written = append(p.written, rec)
	}
	p.source = rec.Position
	resp, err := p.dispatch(rec)
	if rej, ok := err.(*Rejection); ok {
		r := p.write(CommandRejection, rec.ValueType, rec.Intent, rec.Key, rec.Value)
		r.RejectionType, r.RejectionReason = rej.Type, rej.Reason
	}
	for len(p.queue) > 0 {
		c := p.queue[0]
		p.queue = p.queue[1:]
		p.followUp(c)
	}
	return resp, err
}

func (p *proc) dispatch(rec *Record) (any, error) {
	switch rec.ValueType {
	case VTDeployment:
		return p.deploy(rec)
	case VTProcessInstanceCreation:
		return p.createInstance(rec)
	case VTProcessInstance:
		if rec.Intent == "CANCEL" {
			return nil, p.cancelInstance(rec)
		}
	case VTJob:
		return p.jobCommand(rec)
	case VTJobBatch:
		return p.activateJobs(rec)
	case VTUserTask:
		return p.userTaskCommand(rec)
	case VTIncident:
		return nil, p.resolveIncident(rec)
	case VTVariableDocument:
		return p.setVariables(rec)
	case VTMessage:
		return p.messageCommand(rec)
	case VTTimer:
		return nil, p.triggerTimer(rec)
	case VTSignal:
		return p.broadcast(-1, rec.Value.(*SignalValue)), nil
	case VTDecisionEvaluation:
		return p.evaluateDecisionCommand(rec)
	}
	return nil, reject(rec.Intent, "PROCESSING_ERROR", "the local engine has no processor for %s %s", rec.ValueType, rec.Intent)
}

// followUp processes a command written during this batch.
func (p *proc) followUp(c *Record) {
	if c.ValueType == VTSignal {
		p.broadcast(c.Key, c.Value.(*SignalValue))
		return
	}
	if c.ValueType != VTProcessInstance {
		return
	}
	v := c.Value.(ProcessInstanceValue)
	switch c.Intent {
	case "ACTIVATE_ELEMENT":
		p.activateElement(c.Key, v)
	case "COMPLETE_ELEMENT":
		if ei := p.st.elems[c.Key]; ei != nil && ei.state == "ELEMENT_ACTIVATED" {
			p.completeElement(ei)
		}
	case "TERMINATE_ELEMENT":
		if ei := p.st.elems[c.Key]; ei != nil && ei.state != "ELEMENT_TERMINATING" {
			p.terminateElement(ei)
		}
	}
}
