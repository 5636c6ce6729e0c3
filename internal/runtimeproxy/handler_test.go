package runtimeproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

type recordingPublisher struct {
	mu   sync.Mutex
	msgs []jobmsg.Message
}

func (r *recordingPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msgs...)
	return make([]error, len(msgs))
}

func jobRecord(t *testing.T, vars string, headers map[string]string) events.SQSMessage {
	t.Helper()
	h := map[string]string{"identifier": "book-hotel"}
	for k, v := range headers {
		h[k] = v
	}
	m, err := jobmsg.EncodeJob(jobmsg.Job{Key: 2251799813685249, ProcessInstanceKey: 2251799813685250, Type: "lambda", ElementID: "Task_BookHotel",
		BPMNProcessID: "trip", CustomHeaders: h, Retries: 3, Deadline: time.Now().Add(time.Minute).UnixMilli(), Variables: json.RawMessage(vars)})
	require.NoError(t, err)
	attrs := map[string]events.SQSMessageAttribute{}
	for k, v := range m.Attributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return events.SQSMessage{MessageId: "m-1", Body: string(m.Body), MessageAttributes: attrs, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel", Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// TestTheLayerAppliesLambdakitsDecisionTable runs a job through lambdakit
// and the proxy into the fake runtime and reads the outcome published: what
// the function answered, in lambdakit's terms.
func TestTheLayerAppliesLambdakitsDecisionTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		vars    string
		headers map[string]string
		want    jobmsg.Outcome
	}{
		{"a response completes the job with it", `{"echo":{"hotel":"Ritz","n":9007199254740993}}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"hotel":"Ritz","n":9007199254740993}`)}},
		{"resultVariable wraps a response that is not an object", `{"echo":[1,2]}`, map[string]string{"resultVariable": "r"},
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"r":[1,2]}`)}},
		{"a response that is not an object, without resultVariable, is an incident", `{"echo":"ok"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: `the handler returned "ok", which is not a JSON object, so it cannot become process variables: set the task header "resultVariable" to the name of the variable it should be stored under`}},
		{"an exception fails the job with one retry less", `{"errorType":"ValueError","message":"no rooms"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000, ErrorMessage: "ValueError: no rooms"}},
		{"BpmnError with a code", `{"errorType":"BpmnError","message":"NO_ROOMS"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOMS", Variables: json.RawMessage(`{}`)}},
		{"BpmnError with a code and a message", `{"errorType":"BpmnError","message":"NO_ROOMS: the Ritz is full"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOMS", ErrorMessage: "the Ritz is full", Variables: json.RawMessage(`{}`)}},
		{"BpmnError as JSON with variables", `{"errorType":"BpmnError","message":"{\"code\":\"NO_ROOMS\",\"message\":\"full\",\"variables\":{\"tried\":3}}"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOMS", ErrorMessage: "full", Variables: json.RawMessage(`{"tried":3}`)}},
		{"a Java BpmnError, named with its package and enclosing class", `{"errorType":"com.example.Handler$BpmnError","message":"NO_ROOMS"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "NO_ROOMS", Variables: json.RawMessage(`{}`)}},
		{"an error type that only ends like BpmnError fails the job", `{"errorType":"NotABpmnError","message":"NO_ROOMS"}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000, ErrorMessage: "NotABpmnError: NO_ROOMS"}},
		{"BpmnError without a code is an incident", `{"errorType":"BpmnError","message":""}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 0, ErrorMessage: `lambdakit.BPMNError needs a non-empty error code (message "")`}},
		{"a runtime that dies fails the job with one retry less", `{"exit":true}`, nil,
			jobmsg.Outcome{Outcome: jobmsg.Fail, Retries: 2, RetryBackoffMs: 5000, ErrorMessage: "the function's runtime exited before it answered (exit status 3)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := &recordingPublisher{}
			h, err := lambdakit.New(Handler(newFakeProxy(t, "run", 1), joblog.Discard()), lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete"})
			require.NoError(t, err)
			ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{jobRecord(t, tc.vars, tc.headers)}})
			require.NoError(t, err)
			resp, err := h.Invoke(context.Background(), ev)
			require.NoError(t, err)
			assert.JSONEq(t, `{"batchItemFailures":[]}`, string(resp))
			require.Len(t, pub.msgs, 1)
			got, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
			require.NoError(t, err)
			tc.want.V, tc.want.JobKey, tc.want.ProcessInstanceKey = 1, 2251799813685249, 2251799813685250
			if tc.want.Variables != nil {
				assert.JSONEq(t, string(tc.want.Variables), string(got.Variables))
				got.Variables, tc.want.Variables = nil, nil
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTheFunctionFindsTheJobInItsClientContext(t *testing.T) {
	pub := &recordingPublisher{}
	h, err := lambdakit.New(Handler(newFakeProxy(t, "run", 1), joblog.Discard()), lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete"})
	require.NoError(t, err)
	// The fake runtime answers with what it saw; resultVariable keeps it.
	ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{jobRecord(t, `{}`, map[string]string{"resultVariable": "seen"})}})
	require.NoError(t, err)
	_, err = h.Invoke(context.Background(), ev)
	require.NoError(t, err)
	require.Len(t, pub.msgs, 1)
	got, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
	require.NoError(t, err)
	var out struct{ Seen seen }
	require.NoError(t, json.Unmarshal(got.Variables, &out))
	var cc struct {
		Custom map[string]string `json:"custom"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.Seen.ClientContext), &cc))
	z := cc.Custom
	tok, err := completion.Parse(z[CustomCompletionToken])
	require.NoError(t, err, "the completion token")
	assert.Equal(t, completion.Token{JobKey: 2251799813685249, ProcessInstanceKey: 2251799813685250, Identifier: "book-hotel",
		Deadline: tok.Deadline, Retries: 3}, tok, "the completion token names this activation")
	assert.Equal(t, strconv.FormatInt(tok.Deadline, 10), z[CustomDeadline], "the deadline is the activation's, the token's")
	assert.InDelta(t, time.Now().Add(time.Minute).UnixMilli(), tok.Deadline, float64(10*time.Second/time.Millisecond))
	delete(z, CustomCompletionToken)
	delete(z, CustomDeadline)
	assert.Equal(t, map[string]string{
		"jobKey": "2251799813685249", "processInstanceKey": "2251799813685250", "processDefinitionKey": "0", "elementInstanceKey": "0",
		"bpmnProcessId": "trip", "processDefinitionVersion": "0", "elementId": "Task_BookHotel", "type": "lambda",
		"customHeaders": `{"identifier":"book-hotel","resultVariable":"seen"}`, "retries": "3", "tenantId": "",
	}, z, "every value a string: Java's ClientContext.getCustom is a Map<String, String>")
	assert.JSONEq(t, `{}`, string(out.Seen.Payload))
	// lambdakit's handler stops DefaultDeadlineMargin before the job's
	// deadline (to the millisecond: the context's deadline has nanoseconds).
	handlerDeadline, err := strconv.ParseInt(out.Seen.Deadline, 10, 64)
	require.NoError(t, err, "the runtime's deadline %q", out.Seen.Deadline)
	assert.InDelta(t, tok.Deadline-lambdakit.DefaultDeadlineMargin.Milliseconds(), handlerDeadline, 1,
		"the runtime reports the handler's own deadline as the invocation's")
}

// TestBusinessEventsReachTheFunctionAsAnSQSEvent: a record that is not a job
// message reaches the runtime as an SQS event of that record; an error the
// function raises reports it as failed; nothing is published either way.
func TestBusinessEventsReachTheFunctionAsAnSQSEvent(t *testing.T) {
	pub := &recordingPublisher{}
	p := newFakeProxy(t, "run", 1)
	h, err := lambdakit.New(Handler(p, joblog.Discard()), lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete",
		Events: Events(p)})
	require.NoError(t, err)
	ok := events.SQSMessage{MessageId: "ev-ok", Body: `{"orderId":"o-1"}`, EventSource: "aws:sqs"}
	bad := events.SQSMessage{MessageId: "ev-bad", Body: `{"errorType":"ValueError","message":"bad event"}`, EventSource: "aws:sqs"}
	ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{ok, bad, jobRecord(t, `{"echo":{"done":true}}`, nil)}})
	require.NoError(t, err)
	resp, err := h.Invoke(context.Background(), ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"ev-bad"}]}`, string(resp))
	require.Len(t, pub.msgs, 1, "only the job publishes an outcome")
	got, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
	require.NoError(t, err)
	assert.Equal(t, jobmsg.Complete, got.Outcome)
	assert.JSONEq(t, `{"done":true}`, string(got.Variables))
}

// TestTheLayerLogsTheRuntimesTime: one "runtime answered" line per job, with
// its key and the runtime's own time, so that the layer's work (lambdakit's
// HandlerMs less it) can be told apart.
func TestTheLayerLogsTheRuntimesTime(t *testing.T) {
	var buf bytes.Buffer
	pub := &recordingPublisher{}
	h, err := lambdakit.New(Handler(newFakeProxy(t, "run", 1), joblog.New(&buf, false)), lambdakit.Config{Publisher: pub, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete"})
	require.NoError(t, err)
	ev, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{jobRecord(t, `{"sleepMs":30,"echo":{}}`, nil)}})
	require.NoError(t, err)
	_, err = h.Invoke(context.Background(), ev)
	require.NoError(t, err)
	require.Len(t, pub.msgs, 1)
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 1, buf.String())
	var line struct {
		Msg                string  `json:"msg"`
		JobKey             int64   `json:"jobKey"`
		ProcessInstanceKey int64   `json:"processInstanceKey"`
		RuntimeMs          float64 `json:"runtimeMs"`
	}
	require.NoError(t, json.Unmarshal(lines[0], &line))
	assert.Equal(t, "runtime answered", line.Msg)
	assert.Equal(t, int64(2251799813685249), line.JobKey)
	assert.Equal(t, int64(2251799813685250), line.ProcessInstanceKey)
	assert.GreaterOrEqual(t, line.RuntimeMs, 30.0)
}
