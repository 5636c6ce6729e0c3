// Package jobmsg is the wire contract of zeebe-lambda-bridge: the job message
// the poller publishes to the zeebe_jobs topic, the outcome message lambdakit
// publishes to zeebe_jobs2complete, and the unwrapping of both from SQS records
// whether SNS delivered them raw or wrapped in its notification envelope.
//
// The package deliberately imports neither the AWS SDK nor the Zeebe client, so
// that the poller, the fulfiller and every target function share one definition
// without dragging the engine or the cloud into each other's binaries.
package jobmsg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Version is the contract version written into every message as "v".
const Version = 1

// MaxMessageBytes is the SNS limit for one message, body and attributes
// together. A message above it would be rejected by SNS, so we refuse it before
// publishing and fail the job with a message that says so.
const MaxMessageBytes = 256 * 1024

// SNS message attribute names.
const (
	AttrLambdaIdentifier = "lambdaIdentifier"
	AttrBPMNProcessID    = "bpmnProcessId"
	AttrElementID        = "elementId"
	AttrOutcome          = "outcome"
)

// Task header names understood by the bridge.
const (
	// HeaderIdentifier names the target Lambda function. Required.
	HeaderIdentifier = "identifier"
	// HeaderResultVariable, when set, wraps the handler's output under this variable name.
	HeaderResultVariable = "resultVariable"
	// HeaderTimeout overrides the job timeout (ISO-8601 duration, e.g. PT5M).
	HeaderTimeout = "timeout"
)

// Error classes. Callers test them with errors.Is; the wrapped message carries
// the detail.
var (
	// ErrMalformed: the payload is not a message of this contract.
	ErrMalformed = errors.New("malformed message")
	// ErrUnsupportedVersion: the message names a contract version we do not speak.
	ErrUnsupportedVersion = errors.New("unsupported message version")
	// ErrTooLarge: the encoded message would exceed MaxMessageBytes.
	ErrTooLarge = errors.New("message exceeds the SNS limit of 256 KiB")
)

// Job is the job message: one activated Zeebe job, as published to zeebe_jobs.
type Job struct {
	V                        int               `json:"v"`
	Key                      int64             `json:"key"`
	Type                     string            `json:"type"`
	ProcessInstanceKey       int64             `json:"processInstanceKey"`
	BPMNProcessID            string            `json:"bpmnProcessId"`
	ProcessDefinitionKey     int64             `json:"processDefinitionKey"`
	ProcessDefinitionVersion int32             `json:"processDefinitionVersion"`
	ElementID                string            `json:"elementId"`
	ElementInstanceKey       int64             `json:"elementInstanceKey"`
	CustomHeaders            map[string]string `json:"customHeaders"`
	Worker                   string            `json:"worker"`
	Retries                  int32             `json:"retries"`
	// Deadline is the job's activation deadline in epoch milliseconds; after it
	// Zeebe may hand the job to another worker.
	Deadline  int64           `json:"deadline"`
	TenantID  string          `json:"tenantId"`
	Variables json.RawMessage `json:"variables"`
	// Token is the poller's signature on this activation (package jobtoken),
	// when the bridge signs jobs. lambdakit hands it back with the outcome.
	Token *Token `json:"token,omitempty"`
}

// Token is the poller's signature on one activation of a job: an
// HMAC-SHA256 over the job key, Deadline, Identifier and KeyID (package
// jobtoken computes and checks it). It travels from the job message into the
// outcome unchanged; the fulfiller applies no outcome whose token it cannot
// verify.
type Token struct {
	KeyID      string `json:"kid"`
	Deadline   int64  `json:"deadline"`
	Identifier string `json:"identifier"`
	Sig        string `json:"sig"`
}

// Identifier is the target Lambda named by the task header "identifier".
func (j Job) Identifier() string { return j.CustomHeaders[HeaderIdentifier] }

// DeadlineTime returns Deadline as a time.Time.
func (j Job) DeadlineTime() time.Time { return time.UnixMilli(j.Deadline) }

// Expired says whether the activation's deadline has passed at now: Zeebe
// has then timed the job out and may have handed it to someone else, so
// nothing may act on this activation any more.
func (j Job) Expired(now time.Time) bool { return j.Deadline > 0 && now.After(j.DeadlineTime()) }

// Kind is what a function did with a job.
type Kind string

// The three outcomes of a job.
const (
	Complete Kind = "complete"
	Fail     Kind = "fail"
	Error    Kind = "error" // BPMN error, thrown in the process
	// Heartbeat is not an outcome but a sign of life from long work: it sets
	// the job's timeout to TimeoutMs from now (Zeebe's UpdateJobTimeout), so
	// that Zeebe does not hand the job out again while the work goes on. Only
	// asynchronous messages (Async) carry it.
	Heartbeat Kind = "heartbeat"
)

// Outcome is the outcome message, published by lambdakit to zeebe_jobs2complete.
type Outcome struct {
	V      int   `json:"v"`
	JobKey int64 `json:"jobKey"`
	// ProcessInstanceKey is not needed to act on the job; it travels so that the
	// fulfiller can put it on every log line.
	ProcessInstanceKey int64           `json:"processInstanceKey,omitempty"`
	Outcome            Kind            `json:"outcome"`
	Variables          json.RawMessage `json:"variables,omitempty"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	Retries            int32           `json:"retries"`
	RetryBackoffMs     int64           `json:"retryBackoffMs,omitempty"`
	// Token is the job message's token, unchanged; MAC authenticates the
	// outcome's content with it (package jobtoken). Both are empty when the
	// bridge does not sign jobs.
	Token *Token `json:"token,omitempty"`
	MAC   string `json:"mac,omitempty"`
	// SealVersion says how MAC was computed: 0 or 1 over Go's encoding of
	// the outcome, 2 over its RFC 8785 form with exact integers, which other
	// languages reproduce with their standard JSON library
	// (docs/contract.md). The fulfiller accepts both.
	SealVersion int `json:"sealVersion,omitempty"`
	// Async marks a message sent through a completion token after the
	// function's invocation answered "pending" (package completion). The
	// fulfiller applies it only while the activation it answers is alive:
	// before Deadline, or within the timeout its last heartbeat set.
	Async bool `json:"async,omitempty"`
	// Deadline is the first deadline of the activation an asynchronous
	// message answers (epoch ms); with the job key it names the activation.
	Deadline int64 `json:"deadline,omitempty"`
	// TimeoutMs is the job timeout a Heartbeat sets, from when it is applied.
	TimeoutMs int64 `json:"timeoutMs,omitempty"`
}

// Message is an encoded message ready for SNS: a body and string attributes.
type Message struct {
	Body       []byte
	Attributes map[string]string
}

// Publisher publishes messages to an SNS topic and returns one error per
// message, nil where it was accepted. The bridge's SNS publisher is the real
// one; tests and harnesses pass fakes.
type Publisher interface {
	Publish(ctx context.Context, topicARN string, msgs []Message) []error
}

// Size approximates the size SNS counts: body plus attribute names, types and values.
func (m Message) Size() int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// EncodeJob encodes a job message. It fails with ErrMalformed when the job has
// no identifier header and with ErrTooLarge when SNS would reject it.
func EncodeJob(j Job) (Message, error) {
	if j.Identifier() == "" {
		return Message{}, fmt.Errorf("%w: job %d has no %q task header", ErrMalformed, j.Key, HeaderIdentifier)
	}
	j.V = Version
	if len(j.Variables) == 0 {
		j.Variables = json.RawMessage("{}")
	}
	if j.CustomHeaders == nil {
		j.CustomHeaders = map[string]string{}
	}
	body, err := Marshal(j)
	if err != nil {
		return Message{}, fmt.Errorf("%w: job %d: %v", ErrMalformed, j.Key, err)
	}
	m := Message{Body: body, Attributes: map[string]string{
		AttrLambdaIdentifier: j.Identifier(),
		AttrBPMNProcessID:    j.BPMNProcessID,
		AttrElementID:        j.ElementID,
	}}
	for k, v := range m.Attributes {
		if v == "" { // SNS rejects empty attribute values
			delete(m.Attributes, k)
		}
	}
	return m, checkSize(m, "job message", j.Key)
}

// EncodeOutcome encodes an outcome message, failing with ErrTooLarge when SNS
// would reject it.
func EncodeOutcome(o Outcome) (Message, error) {
	o.V = Version
	if err := checkKind(o); err != nil {
		return Message{}, err
	}
	body, err := Marshal(o)
	if err != nil {
		return Message{}, fmt.Errorf("%w: outcome for job %d: %v", ErrMalformed, o.JobKey, err)
	}
	m := Message{Body: body, Attributes: map[string]string{AttrOutcome: string(o.Outcome)}}
	return m, checkSize(m, "outcome message", o.JobKey)
}

// Marshal is json.Marshal without its HTML escaping: variables pass through
// as the bytes they are, instead of "<" growing to "\u003c" (six-fold for
// text full of markup or "&") and hitting the SNS limit early. Everything
// that encodes payloads for the bridge's messages uses it.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func checkSize(m Message, what string, key int64) error {
	if n := m.Size(); n > MaxMessageBytes {
		return fmt.Errorf("%w: %s for job %d is %d bytes", ErrTooLarge, what, key, n)
	}
	return nil
}

// DecodeJob decodes a job message body (already unwrapped from SNS/SQS).
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := decode(body, &j); err != nil {
		return Job{}, err
	}
	if j.Key == 0 || j.Identifier() == "" {
		return Job{}, fmt.Errorf("%w: job message without key or %q header", ErrMalformed, HeaderIdentifier)
	}
	return j, nil
}

// DecodeOutcome decodes an outcome message body (already unwrapped from SNS/SQS).
func DecodeOutcome(body []byte) (Outcome, error) {
	var o Outcome
	if err := decode(body, &o); err != nil {
		return Outcome{}, err
	}
	if o.JobKey == 0 {
		return Outcome{}, fmt.Errorf("%w: outcome message without jobKey", ErrMalformed)
	}
	if err := checkKind(o); err != nil {
		return Outcome{}, err
	}
	if o.Outcome == Error && o.ErrorCode == "" {
		return Outcome{}, fmt.Errorf("%w: outcome %q for job %d without errorCode", ErrMalformed, o.Outcome, o.JobKey)
	}
	return o, nil
}

// checkKind accepts the three outcomes, and a heartbeat of an asynchronous
// message with a positive timeout.
func checkKind(o Outcome) error {
	switch o.Outcome {
	case Complete, Fail, Error:
		return nil
	case Heartbeat:
		if !o.Async || o.TimeoutMs <= 0 {
			return fmt.Errorf("%w: heartbeat for job %d needs async and a positive timeoutMs", ErrMalformed, o.JobKey)
		}
		return nil
	default:
		return fmt.Errorf("%w: unknown outcome %q for job %d", ErrMalformed, o.Outcome, o.JobKey)
	}
}

// PeekKeys reads the job key ("key" of a job message, "jobKey" of an
// outcome) and the process instance key from a body that did not decode, so
// that the log line about it can still be found by job; zero where it cannot.
func PeekKeys(body []byte) (jobKey, processInstanceKey int64) {
	var k struct {
		Key                int64 `json:"key"`
		JobKey             int64 `json:"jobKey"`
		ProcessInstanceKey int64 `json:"processInstanceKey"`
	}
	_ = json.Unmarshal(body, &k)
	return max(k.Key, k.JobKey), k.ProcessInstanceKey
}

// decode checks the version before anything else so that a future message is
// reported as such, not as garbage.
func decode(body []byte, v any) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if head.V == nil {
		return fmt.Errorf("%w: no \"v\" field", ErrMalformed)
	}
	if *head.V != Version {
		return fmt.Errorf("%w: v=%d, this build speaks v=%d", ErrUnsupportedVersion, *head.V, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// snsEnvelope is the notification SNS puts into SQS when raw message delivery is off.
type snsEnvelope struct {
	Type              string `json:"Type"`
	MessageID         string `json:"MessageId"`
	TopicArn          string `json:"TopicArn"`
	Message           string `json:"Message"`
	MessageAttributes map[string]struct {
		Type  string `json:"Type"`
		Value string `json:"Value"`
	} `json:"MessageAttributes"`
}

// Unwrap returns the message body and attributes carried by an SQS record
// body, whether SNS delivered it raw (the body is the message and the
// attributes are the SQS message attributes) or wrapped in its notification
// envelope (the message and attributes are inside the body).
func Unwrap(sqsBody string, sqsAttrs map[string]string) (body []byte, attrs map[string]string) {
	var env snsEnvelope
	if err := json.Unmarshal([]byte(sqsBody), &env); err == nil && env.Type == "Notification" && env.TopicArn != "" {
		attrs := make(map[string]string, len(env.MessageAttributes))
		for k, a := range env.MessageAttributes {
			attrs[k] = a.Value
		}
		return []byte(env.Message), attrs
	}
	return []byte(sqsBody), sqsAttrs
}
