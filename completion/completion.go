// Package completion finishes jobs whose lambdakit handler answered
// "pending" (lambdakit.ErrResultPending): work that outlives a Lambda
// invocation, such as a document pipeline, a human check or an AWS Batch job.
//
// The handler takes the job's completion token (lambdakit.CompletionToken)
// and hands it to whatever does the work. Whoever holds the token later
// completes the job, fails it or throws a BPMN error on it through a Client,
// which publishes the outcome to the zeebe_jobs2complete topic as lambdakit
// does; the fulfiller applies it. Systems that are not written in Go post the
// same through the callback function's URL (Callback).
//
// While the work goes on, Heartbeat extends the job's timeout (Zeebe's
// UpdateJobTimeout, applied by the fulfiller). A job that gets no heartbeat
// within its timeout is handed out again, as Zeebe does with any job; the
// fulfiller then acknowledges what the earlier holder of the token sends as a
// duplicate and never applies it. Choose the heartbeat interval well inside
// the timeout (a third of it leaves room for two lost heartbeats): with the
// task header timeout=PT15M, heartbeat every 5 minutes.
//
// A token is a bearer credential for one activation of one job: when the
// bridge signs jobs, it holds the poller's signature, and the outcome is
// sealed with it (package jobtoken). Keep it as secret as the work's result.
package completion

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// ErrBadToken: the string is not a completion token of this bridge.
var ErrBadToken = errors.New("not a completion token")

// ErrBadRequest: the call cannot become an outcome (variables that are not
// a JSON object, an empty error code, no timeout for a heartbeat).
var ErrBadRequest = errors.New("bad completion request")

// tokenPrefix versions the token's encoding.
const tokenPrefix = "zlb1."

// Token is what a completion token says: the job and the activation it
// answers. Its string form (String, Parse) is opaque to its holder.
type Token struct {
	JobKey             int64  `json:"k"`
	ProcessInstanceKey int64  `json:"p,omitempty"`
	Identifier         string `json:"i"`
	// Deadline is the activation's first deadline (epoch ms); with the job
	// key it names the activation.
	Deadline int64 `json:"d"`
	// Retries are the job's retries when it was activated; a failure
	// leaves one less.
	Retries int32 `json:"r"`
	// TimeoutMs is the task header timeout, the default for Heartbeat;
	// zero when the task sets none.
	TimeoutMs int64 `json:"t,omitempty"`
	// Signed is the poller's signature on the activation, when the bridge
	// signs jobs.
	Signed *jobmsg.Token `json:"s,omitempty"`
}

// NewToken returns the completion token of a job as its job message
// carries it.
func NewToken(j jobmsg.Job) (Token, error) {
	if j.Key == 0 || j.Identifier() == "" {
		return Token{}, fmt.Errorf("%w: job without key or identifier", ErrBadToken)
	}
	t := Token{JobKey: j.Key, ProcessInstanceKey: j.ProcessInstanceKey, Identifier: j.Identifier(),
		Deadline: j.Deadline, Retries: j.Retries, Signed: j.Token}
	if raw := j.CustomHeaders[jobmsg.HeaderTimeout]; raw != "" {
		d, err := jobmsg.ParseISODuration(raw)
		if err != nil {
			return Token{}, fmt.Errorf("task header %s: %w", jobmsg.HeaderTimeout, err)
		}
		t.TimeoutMs = d.Milliseconds()
	}
	return t, nil
}

// String encodes the token for its holder.
func (t Token) String() string {
	b, _ := json.Marshal(t) // plain fields: cannot fail
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Parse decodes a token's string form.
func Parse(s string) (Token, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), tokenPrefix)
	if !ok {
		return Token{}, fmt.Errorf("%w: it does not start with %q", ErrBadToken, tokenPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if t.JobKey == 0 || t.Deadline == 0 {
		return Token{}, fmt.Errorf("%w: no job key or activation", ErrBadToken)
	}
	// The signature covers the signed part only: the plain fields the
	// payload's S3 key is built from must say the same.
	if t.Signed != nil && (t.Signed.Identifier != t.Identifier || t.Signed.Deadline != t.Deadline) {
		return Token{}, fmt.Errorf("%w: its identifier or activation differs from what the bridge signed", ErrBadToken)
	}
	return t, nil
}

// Client sends the outcomes of pending jobs to the zeebe_jobs2complete
// topic. FromEnv builds one for a Lambda or a service on AWS.
type Client struct {
	Publisher jobmsg.Publisher
	// TopicARN is the zeebe_jobs2complete topic.
	TopicARN string
	// Payloads, when set, moves an outcome above its threshold to S3 and
	// publishes a pointer instead (the claim-check pattern, as lambdakit
	// does); without it an outcome above SNS's 256 KiB is refused with
	// jobmsg.ErrTooLarge. FromEnv sets it when PAYLOAD_BUCKET names a bucket.
	Payloads claimcheck.Offloader
	// Verifier, when set, checks the token's signature before anything is
	// written or published, so that a caller without a genuine token (the
	// callback function's URL may be open to anyone) can store nothing in
	// S3 and send nothing. The callback function sets it from
	// JOB_TOKEN_SECRET_ARN; the fulfiller checks every outcome anyway.
	Verifier Verifier
}

// Verifier checks an outcome's job token and seal (jobtoken.Verifier). An
// error wrapping jobtoken.ErrInvalid is a token the bridge never signed;
// jobtoken.ErrExpired only says the activation's first deadline has passed,
// which a heartbeat may have extended.
type Verifier interface {
	Verify(ctx context.Context, o jobmsg.Outcome) error
}

// Complete completes the job; vars (nil, a map or a struct that encodes as
// a JSON object) become process variables.
func (c *Client) Complete(ctx context.Context, token string, vars any) error {
	raw, err := object(vars)
	if err != nil {
		return err
	}
	return c.send(ctx, token, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: raw})
}

// Fail fails the job with one retry less than it had when it was activated,
// as a failed invocation does; Zeebe hands it out again after backoff, or
// raises an incident when no retries are left.
func (c *Client) Fail(ctx context.Context, token, message string, backoff time.Duration) error {
	t, err := Parse(token)
	if err != nil {
		return err
	}
	return c.publish(ctx, t, jobmsg.Outcome{Outcome: jobmsg.Fail, ErrorMessage: message,
		Retries: max(t.Retries-1, 0), RetryBackoffMs: backoff.Milliseconds()})
}

// ThrowError throws a BPMN error with this code in the process; vars
// become variables of the catching scope.
func (c *Client) ThrowError(ctx context.Context, token, code, message string, vars any) error {
	if code == "" {
		return fmt.Errorf("%w: a BPMN error needs a code", ErrBadRequest)
	}
	raw, err := object(vars)
	if err != nil {
		return err
	}
	return c.send(ctx, token, jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: code, ErrorMessage: message, Variables: raw})
}

// Heartbeat tells Zeebe the work goes on: the job's timeout becomes
// timeout from when the fulfiller applies it. Zero means the task header
// timeout the token carries.
func (c *Client) Heartbeat(ctx context.Context, token string, timeout time.Duration) error {
	t, err := Parse(token)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		timeout = time.Duration(t.TimeoutMs) * time.Millisecond
	}
	if timeout < time.Millisecond {
		return fmt.Errorf("%w: heartbeat of job %d without a timeout: pass one, or set the task header %q", ErrBadRequest, t.JobKey, jobmsg.HeaderTimeout)
	}
	return c.publish(ctx, t, jobmsg.Outcome{Outcome: jobmsg.Heartbeat, TimeoutMs: timeout.Milliseconds()})
}

func (c *Client) send(ctx context.Context, token string, o jobmsg.Outcome) error {
	t, err := Parse(token)
	if err != nil {
		return err
	}
	return c.publish(ctx, t, o)
}

// publish seals the outcome with the token, as lambdakit seals the
// outcomes of an invocation, and sends it.
func (c *Client) publish(ctx context.Context, t Token, o jobmsg.Outcome) error {
	if c.Publisher == nil || c.TopicARN == "" {
		return fmt.Errorf("completion: the client needs a Publisher and a TopicARN (%s)", envconfig.OutcomeTopicARN)
	}
	o.Async, o.Deadline = true, t.Deadline
	o, err := jobtoken.Attach(jobmsg.Job{Key: t.JobKey, ProcessInstanceKey: t.ProcessInstanceKey, Token: t.Signed}, o)
	if err != nil {
		return err
	}
	if c.Verifier != nil {
		switch err := c.Verifier.Verify(ctx, o); {
		case err == nil, errors.Is(err, jobtoken.ErrExpired):
		case errors.Is(err, jobtoken.ErrInvalid):
			return fmt.Errorf("%w: %v", ErrBadToken, err)
		default:
			return fmt.Errorf("check the token of job %d: %w", t.JobKey, err)
		}
	}
	// Under the function's own prefix, as lambdakit's outcomes.
	msg, _, err := claimcheck.EncodeOutcome(ctx, c.Payloads, t.Identifier, t.JobKey, t.Deadline, o)
	if err != nil {
		return fmt.Errorf("encode the %s of job %d: %w", o.Outcome, t.JobKey, err)
	}
	msg.Attributes = tracing.Inject(ctx, maps.Clone(msg.Attributes))
	if errs := c.Publisher.Publish(ctx, c.TopicARN, []jobmsg.Message{msg}); len(errs) > 0 && errs[0] != nil {
		return fmt.Errorf("publish the %s of job %d: %w", o.Outcome, t.JobKey, errs[0])
	}
	return nil
}

// object renders vars as a JSON object; nil is an empty one.
func object(vars any) (json.RawMessage, error) {
	if vars == nil {
		return json.RawMessage("{}"), nil
	}
	raw, err := jobmsg.Marshal(vars)
	if err != nil {
		return nil, fmt.Errorf("%w: the variables cannot be encoded as JSON: %v", ErrBadRequest, err)
	}
	switch {
	case string(raw) == "null":
		return json.RawMessage("{}"), nil
	case raw[0] != '{':
		return nil, fmt.Errorf("%w: the variables must be a JSON object, not %.40s", ErrBadRequest, raw)
	}
	return raw, nil
}
