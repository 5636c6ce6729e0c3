package completion_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

type captured struct {
	msgs []jobmsg.Message
	err  error
}

func (c *captured) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	c.msgs = append(c.msgs, msgs...)
	errs := make([]error, len(msgs))
	for i := range errs {
		errs[i] = c.err
	}
	return errs
}

var key = jobtoken.Key{ID: "k1", Secret: strings.Repeat("x", 32)}

func signedJob() jobmsg.Job {
	j := jobmsg.Job{Key: 42, ProcessInstanceKey: 9, Retries: 3, Deadline: time.Now().Add(time.Minute).UnixMilli(),
		CustomHeaders: map[string]string{"identifier": "long-work", "timeout": "PT15S"}}
	j.Token = jobtoken.Sign(key, j.Key, j.Deadline, j.Identifier())
	return j
}

func TestTokenRoundTrip(t *testing.T) {
	tok, err := completion.NewToken(signedJob())
	require.NoError(t, err)
	s := tok.String()
	assert.True(t, strings.HasPrefix(s, "zlb1."))
	back, err := completion.Parse(s)
	require.NoError(t, err)
	assert.Equal(t, tok, back)
	assert.Equal(t, int64(15000), back.TimeoutMs)

	for _, bad := range []string{"", "zlb1.", "zlb1.!!", "abc", "zlb1.e30"} {
		_, err := completion.Parse(bad)
		assert.ErrorIs(t, err, completion.ErrBadToken, bad)
	}
}

// Each call publishes one asynchronous outcome, sealed with the token so
// that the fulfiller's checks pass, naming the activation.
func TestClientPublishesSealedOutcomes(t *testing.T) {
	job := signedJob()
	tok, err := completion.NewToken(job)
	require.NoError(t, err)
	ctx := context.Background()
	tests := []struct {
		name string
		call func(c *completion.Client) error
		want jobmsg.Outcome
	}{
		{"complete", func(c *completion.Client) error { return c.Complete(ctx, tok.String(), map[string]int{"n": 1}) },
			jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"n":1}`)}},
		{"fail counts one attempt", func(c *completion.Client) error { return c.Fail(ctx, tok.String(), "scanner offline", 3*time.Second) },
			jobmsg.Outcome{Outcome: jobmsg.Fail, ErrorMessage: "scanner offline", Retries: 2, RetryBackoffMs: 3000}},
		{"error", func(c *completion.Client) error { return c.ThrowError(ctx, tok.String(), "REJECTED", "no", nil) },
			jobmsg.Outcome{Outcome: jobmsg.Error, ErrorCode: "REJECTED", ErrorMessage: "no", Variables: json.RawMessage(`{}`)}},
		{"heartbeat takes the task's timeout", func(c *completion.Client) error { return c.Heartbeat(ctx, tok.String(), 0) },
			jobmsg.Outcome{Outcome: jobmsg.Heartbeat, TimeoutMs: 15000}},
		{"heartbeat with its own timeout", func(c *completion.Client) error { return c.Heartbeat(ctx, tok.String(), time.Minute) },
			jobmsg.Outcome{Outcome: jobmsg.Heartbeat, TimeoutMs: 60000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &captured{}
			require.NoError(t, tt.call(&completion.Client{Publisher: pub, TopicARN: "arn"}))
			require.Len(t, pub.msgs, 1)
			o, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
			require.NoError(t, err)
			require.NoError(t, jobtoken.Check(jobtoken.Keyring{Current: key}, o, time.Now().UnixMilli()))
			assert.True(t, o.Async)
			assert.Equal(t, job.Deadline, o.Deadline)
			assert.Equal(t, job.Key, o.JobKey)
			assert.Equal(t, job.ProcessInstanceKey, o.ProcessInstanceKey)
			assert.Equal(t, tt.want.Outcome, o.Outcome)
			assert.JSONEq(t, string(orEmpty(tt.want.Variables)), string(orEmpty(o.Variables)))
			assert.Equal(t, tt.want.ErrorCode, o.ErrorCode)
			assert.Equal(t, tt.want.ErrorMessage, o.ErrorMessage)
			assert.Equal(t, tt.want.Retries, o.Retries)
			assert.Equal(t, tt.want.RetryBackoffMs, o.RetryBackoffMs)
			assert.Equal(t, tt.want.TimeoutMs, o.TimeoutMs)
			assert.Equal(t, string(tt.want.Outcome), pub.msgs[0].Attributes[jobmsg.AttrOutcome])
		})
	}
}

func orEmpty(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage(`{}`)
	}
	return b
}

func TestClientRefusesBadCalls(t *testing.T) {
	j := signedJob()
	delete(j.CustomHeaders, "timeout")
	tok, err := completion.NewToken(j)
	require.NoError(t, err)
	c := &completion.Client{Publisher: &captured{}, TopicARN: "arn"}
	ctx := context.Background()
	assert.ErrorIs(t, c.Complete(ctx, tok.String(), []int{1}), completion.ErrBadRequest)
	assert.ErrorIs(t, c.ThrowError(ctx, tok.String(), "", "no code", nil), completion.ErrBadRequest)
	assert.ErrorIs(t, c.Heartbeat(ctx, tok.String(), 0), completion.ErrBadRequest, "no timeout anywhere")
	assert.ErrorIs(t, c.Complete(ctx, "garbage", nil), completion.ErrBadToken)
	// Tampering with the token breaks its seal at the fulfiller.
	tok.JobKey++
	pub := &captured{}
	require.NoError(t, (&completion.Client{Publisher: pub, TopicARN: "arn"}).Complete(ctx, tok.String(), nil))
	o, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
	require.NoError(t, err)
	assert.ErrorIs(t, jobtoken.Check(jobtoken.Keyring{Current: key}, o, time.Now().UnixMilli()), jobtoken.ErrForged)
}

func TestCallback(t *testing.T) {
	tok, err := completion.NewToken(signedJob())
	require.NoError(t, err)
	post := func(body string) events.LambdaFunctionURLRequest {
		var r events.LambdaFunctionURLRequest
		r.RequestContext.HTTP.Method = http.MethodPost
		r.Body = body
		return r
	}
	tests := []struct {
		name       string
		req        events.LambdaFunctionURLRequest
		publishErr error
		status     int
		kind       jobmsg.Kind
	}{
		{"complete", post(`{"token":"` + tok.String() + `","outcome":"complete","variables":{"approved":true}}`), nil, 202, jobmsg.Complete},
		{"heartbeat", post(`{"token":"` + tok.String() + `","outcome":"heartbeat","timeoutSeconds":900}`), nil, 202, jobmsg.Heartbeat},
		{"error", post(`{"token":"` + tok.String() + `","outcome":"error","errorCode":"REJECTED"}`), nil, 202, jobmsg.Error},
		{"fail", post(`{"token":"` + tok.String() + `","outcome":"fail","errorMessage":"down"}`), nil, 202, jobmsg.Fail},
		{"unknown outcome", post(`{"token":"` + tok.String() + `","outcome":"maybe"}`), nil, 400, ""},
		{"not a token", post(`{"token":"nope","outcome":"complete"}`), nil, 400, ""},
		{"not JSON", post(`{`), nil, 400, ""},
		{"variables not an object", post(`{"token":"` + tok.String() + `","outcome":"complete","variables":[1]}`), nil, 400, ""},
		{"GET", events.LambdaFunctionURLRequest{}, nil, 405, ""},
		{"SNS down", post(`{"token":"` + tok.String() + `","outcome":"complete"}`), errors.New("throttled"), 502, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &captured{err: tt.publishErr}
			cb := &completion.Callback{Client: &completion.Client{Publisher: pub, TopicARN: "arn"}, Log: joblog.Discard()}
			resp, err := cb.Handle(context.Background(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, resp.Body)
			if tt.kind == "" {
				if tt.publishErr == nil {
					assert.Empty(t, pub.msgs)
				}
				return
			}
			require.Len(t, pub.msgs, 1)
			o, err := jobmsg.DecodeOutcome(pub.msgs[0].Body)
			require.NoError(t, err)
			assert.Equal(t, tt.kind, o.Outcome)
		})
	}
}

// offloader stores what is above its threshold, as claimcheck.Store does.
type offloader struct{ keys []string }

func (o *offloader) Offload(_ context.Context, key string, m jobmsg.Message) (jobmsg.Message, bool, error) {
	if m.Size() <= 1024 {
		return m, false, nil
	}
	o.keys = append(o.keys, key)
	return jobmsg.Message{Body: []byte(`{"pointer":true}`), Attributes: m.Attributes}, true, nil
}

// A result above SNS's limit goes to S3 with a store, and is refused
// before publishing without one.
func TestLargeOutcomes(t *testing.T) {
	tok, err := completion.NewToken(signedJob())
	require.NoError(t, err)
	big := map[string]string{"report": strings.Repeat("x", 300*1024)}
	pub, store := &captured{}, &offloader{}
	c := &completion.Client{Publisher: pub, TopicARN: "arn", Payloads: store}
	require.NoError(t, c.Complete(context.Background(), tok.String(), big))
	require.Len(t, pub.msgs, 1)
	assert.JSONEq(t, `{"pointer":true}`, string(pub.msgs[0].Body))
	assert.Equal(t, []string{"outcomes/long-work/42-" + fmt.Sprint(tok.Deadline) + ".json"}, store.keys, "under the function's own prefix")
	require.NoError(t, c.Heartbeat(context.Background(), tok.String(), 0))
	assert.Len(t, store.keys, 1, "small messages are published as they are")

	pub = &captured{}
	c = &completion.Client{Publisher: pub, TopicARN: "arn"}
	assert.ErrorIs(t, c.Complete(context.Background(), tok.String(), big), jobmsg.ErrTooLarge)
	assert.Empty(t, pub.msgs)
}

// recordingOffloader records every key it is asked to store under.
type recordingOffloader struct{ keys []string }

func (o *recordingOffloader) Offload(_ context.Context, key string, m jobmsg.Message) (jobmsg.Message, bool, error) {
	o.keys = append(o.keys, key)
	return m, false, nil
}

// TestCallbackVerifiesBeforeItWrites: with a Verifier, a request whose token
// the bridge did not sign stores nothing in S3 and publishes nothing; a
// genuine one past its first deadline still goes through (a heartbeat may
// have extended it: the fulfiller's lease decides).
func TestCallbackVerifiesBeforeItWrites(t *testing.T) {
	verifier := jobtoken.Verifier{Keys: jobtoken.Static(jobtoken.Keyring{Current: key})}
	genuine, err := completion.NewToken(signedJob())
	require.NoError(t, err)
	late := signedJob()
	late.Deadline = time.Now().Add(-time.Minute).UnixMilli()
	late.Token = jobtoken.Sign(key, late.Key, late.Deadline, late.Identifier())
	lateTok, err := completion.NewToken(late)
	require.NoError(t, err)
	forged := signedJob()
	forged.Token = jobtoken.Sign(jobtoken.Key{ID: "k1", Secret: strings.Repeat("f", 32)}, forged.Key, forged.Deadline, forged.Identifier())
	forgedTok, err := completion.NewToken(forged)
	require.NoError(t, err)
	unsigned := signedJob()
	unsigned.Token = nil
	unsignedTok, err := completion.NewToken(unsigned)
	require.NoError(t, err)
	renamed := genuine
	renamed.Identifier = "someone-else" // the S3 key would name another function
	otherKey := genuine
	otherKey.JobKey = 43

	for _, tt := range []struct {
		name   string
		token  string
		status int
	}{
		{"genuine", genuine.String(), 202},
		{"genuine, past its first deadline", lateTok.String(), 202},
		{"signed with another secret", forgedTok.String(), 400},
		{"unsigned", unsignedTok.String(), 400},
		{"identifier changed after signing", renamed.String(), 400},
		{"another job's signature", otherKey.String(), 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pub, store := &captured{}, &recordingOffloader{}
			cb := &completion.Callback{Client: &completion.Client{Publisher: pub, TopicARN: "arn", Payloads: store, Verifier: verifier}, Log: joblog.Discard()}
			var r events.LambdaFunctionURLRequest
			r.RequestContext.HTTP.Method = http.MethodPost
			r.Body = `{"token":"` + tt.token + `","outcome":"complete","variables":{"approved":true}}`
			resp, err := cb.Handle(context.Background(), r)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, resp.Body)
			if tt.status != 202 {
				assert.Empty(t, store.keys, "nothing written to S3")
				assert.Empty(t, pub.msgs, "nothing published")
				return
			}
			assert.Len(t, store.keys, 1)
			assert.Len(t, pub.msgs, 1)
		})
	}
}
