package runtimeproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// Error types a function raises to say more than "failed" (the name of the
// exception class in Python, error.name in Node.js, the exception's class
// in Java).
const (
	// ErrorTypeBPMN throws a BPMN error. Its message is the error code,
	// "CODE: message", or a JSON object
	// {"code": ..., "message": ..., "variables": {...}}.
	ErrorTypeBPMN = "BpmnError"
	// ErrorTypePending says the work goes on: the job waits for its
	// completion token (lambdakit.ErrResultPending).
	ErrorTypePending = "ResultPending"
)

// The job reaches the function in its client context's custom map, whose
// values are strings in every runtime's context type (Java's
// ClientContext.getCustom is a Map<String, String>): keys as decimal strings
// (JavaScript numbers cannot hold them), customHeaders as a JSON object in a
// string. Python: context.client_context.custom["jobKey"]; Node.js:
// context.clientContext.custom.jobKey; Java:
// context.getClientContext().getCustom().get("jobKey").
const (
	CustomJobKey                   = "jobKey"
	CustomProcessInstanceKey       = "processInstanceKey"
	CustomProcessDefinitionKey     = "processDefinitionKey"
	CustomElementInstanceKey       = "elementInstanceKey"
	CustomBPMNProcessID            = "bpmnProcessId"
	CustomProcessDefinitionVersion = "processDefinitionVersion"
	CustomElementID                = "elementId"
	CustomType                     = "type"
	CustomHeaders                  = "customHeaders"
	CustomRetries                  = "retries"
	// CustomDeadline is the activation's deadline in epoch milliseconds.
	CustomDeadline = "deadline"
	CustomTenantID = "tenantId"
	// CustomCompletionToken finishes the job later through the bridge's
	// callback (docs/async-completion.md), after the function raised
	// ResultPending.
	CustomCompletionToken = "completionToken"
)

// Handler is the lambdakit handler of the layer: it passes the job's
// variables to the function through p, with the job in the client context,
// and turns the function's answer into lambdakit's terms, so that the
// decision table of lambdakit (complete, fail with retries - 1, BPMN error,
// incident, timeout at the deadline margin) is the one that applies.
//
// For each job it logs "runtime answered" with the runtime's own time
// (runtimeMs, from handing the invocation out to its answer): lambdakit's
// HandlerMs on "outcome published" less that is the layer's own work.
func Handler(p *Proxy, log *slog.Logger) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		req := Request{Payload: in}
		if len(bytes.TrimSpace(in)) == 0 {
			req.Payload = []byte("{}") // a job without variables: an empty event, as a direct call would send
		}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			req.FunctionARN = lc.InvokedFunctionArn
		}
		if d, ok := ctx.Deadline(); ok {
			req.Deadline = d
		}
		if cc, err := clientContext(ctx); err != nil {
			return nil, err
		} else {
			req.ClientContext = cc
		}
		out, took, err := p.InvokeTimed(ctx, req)
		if j, ok := lambdakit.JobFromContext(ctx); ok && took > 0 {
			joblog.ForJob(log, j.Key, j.ProcessInstanceKey).Info("runtime answered", "runtimeMs", float64(took)/float64(time.Millisecond))
		}
		if err != nil {
			return nil, zeebeError(err)
		}
		return out, nil
	}
}

// clientContext is the Lambda client context carrying the job; none for a
// direct invocation.
func clientContext(ctx context.Context) ([]byte, error) {
	j, ok := lambdakit.JobFromContext(ctx)
	if !ok {
		return nil, nil
	}
	headers := j.CustomHeaders
	if headers == nil {
		headers = map[string]string{}
	}
	h, err := json.Marshal(headers)
	if err != nil {
		return nil, err
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	custom := map[string]string{
		CustomJobKey: itoa(j.Key), CustomProcessInstanceKey: itoa(j.ProcessInstanceKey),
		CustomProcessDefinitionKey: itoa(j.ProcessDefinitionKey), CustomElementInstanceKey: itoa(j.ElementInstanceKey),
		CustomBPMNProcessID: j.BPMNProcessID, CustomProcessDefinitionVersion: itoa(int64(j.ProcessDefinitionVersion)),
		CustomElementID: j.ElementID, CustomType: j.Type, CustomHeaders: string(h), CustomRetries: itoa(int64(j.Retries)),
		CustomDeadline: itoa(j.Deadline), CustomTenantID: j.TenantID,
	}
	if t, err := lambdakit.CompletionToken(ctx); err == nil {
		custom[CustomCompletionToken] = t
	}
	return json.Marshal(map[string]any{"custom": custom, "env": map[string]string{}})
}

// zeebeError maps the function's error types onto lambdakit's: BpmnError
// throws, ResultPending leaves the job to its token; anything else fails
// the job.
func zeebeError(err error) error {
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Init {
		return err
	}
	switch simpleName(fe.Type) {
	case ErrorTypeBPMN:
		return bpmnError(fe.Message)
	case ErrorTypePending:
		return lambdakit.ErrResultPending
	}
	return err
}

// simpleName is an error type without its package or enclosing class: Java
// reports an exception's full class name ("com.example.Handler$BpmnError").
func simpleName(errorType string) string {
	return errorType[strings.LastIndexAny(errorType, ".$")+1:]
}

// bpmnError reads a BpmnError's message: "CODE", "CODE: message" or the
// JSON object {"code", "message", "variables"}.
func bpmnError(msg string) error {
	msg = strings.TrimSpace(msg)
	if strings.HasPrefix(msg, "{") {
		var b struct {
			Code      string          `json:"code"`
			Message   string          `json:"message"`
			Variables json.RawMessage `json:"variables"`
		}
		if err := json.Unmarshal([]byte(msg), &b); err != nil {
			// A bug in the function: lambdakit raises an incident for an empty code.
			return lambdakit.BPMNError("", fmt.Sprintf("BpmnError whose message is not the JSON object it starts like (%v): %s", err, msg), nil)
		}
		var vars any
		if len(b.Variables) > 0 {
			vars = b.Variables
		}
		return lambdakit.BPMNError(b.Code, b.Message, vars)
	}
	code, message, _ := strings.Cut(msg, ":")
	return lambdakit.BPMNError(strings.TrimSpace(code), strings.TrimSpace(message), nil)
}

// Events is the layer's lambdakit event handler: a record of the function's
// queue that is not a job message (a business event from another topic)
// reaches the function as an ordinary SQS event of that one record. An
// error, or the record listed in the function's batchItemFailures, reports
// it as failed.
func Events(p *Proxy) func(context.Context, events.SQSMessage) error {
	return func(ctx context.Context, r events.SQSMessage) error {
		payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{r}})
		if err != nil {
			return err
		}
		req := Request{Payload: payload}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			req.FunctionARN = lc.InvokedFunctionArn
		}
		if d, ok := ctx.Deadline(); ok {
			req.Deadline = d
		}
		out, err := p.Invoke(ctx, req)
		if err != nil {
			return err
		}
		var resp events.SQSEventResponse
		if json.Unmarshal(out, &resp) == nil && len(resp.BatchItemFailures) > 0 {
			return fmt.Errorf("the function reported the event %s in its batchItemFailures", r.MessageId)
		}
		return nil
	}
}
