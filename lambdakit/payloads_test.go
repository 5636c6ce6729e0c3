package lambdakit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// memPayloads is an in-memory claim-check store with a small threshold.
type memPayloads struct {
	mu      sync.Mutex
	objects map[string][]byte
	deleted []string
	denied  error // every read and write of an object fails with it
}

func (m *memPayloads) Offload(_ context.Context, key string, msg jobmsg.Message) (jobmsg.Message, bool, error) {
	if msg.Size() <= 1024 {
		return msg, false, nil
	}
	if m.denied != nil {
		return jobmsg.Message{}, false, m.denied
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = msg.Body
	attrs := map[string]string{claimcheck.AttrSize: fmt.Sprint(len(msg.Body))}
	for k, v := range msg.Attributes {
		attrs[k] = v
	}
	return jobmsg.Message{Body: claimcheck.Pointer{Bucket: "b", Key: key}.Body(), Attributes: attrs}, true, nil
}

func (m *memPayloads) Resolve(_ context.Context, body []byte) ([]byte, *claimcheck.Pointer, error) {
	p, ok := claimcheck.Parse(body)
	if !ok {
		return body, nil, nil
	}
	if m.denied != nil {
		return nil, &p, m.denied
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[p.Key]
	if !ok {
		return nil, &p, fmt.Errorf("%w: %s", claimcheck.ErrNotFound, p.Key)
	}
	return b, &p, nil
}

func (m *memPayloads) Delete(_ context.Context, p claimcheck.Pointer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, p.Key)
	m.deleted = append(m.deleted, p.Key)
	return nil
}

type Doc struct {
	Doc string `json:"doc"`
}

func echoDoc(_ context.Context, in Doc) (Doc, error) { return in, nil }

// TestClaimCheck: a job message that points at S3 is read from there and
// deleted once its outcome is out; an outcome above the threshold goes to S3
// under outcomes/<identifier>/; a pointer that cannot be followed sends the
// record to the DLQ with the reason; a result above Zeebe's own limit fails
// the job with retries 0, naming both limits. The good neighbour of each
// batch is unaffected.
func TestClaimCheck(t *testing.T) {
	big := strings.Repeat("<é&>", 1000)
	tests := []struct {
		name       string
		payloads   bool
		record     func(t *testing.T, p *memPayloads) events.SQSMessage
		maxVars    int
		denied     error
		wantDLQ    string // reason substring
		wantCause  sqsretry.Cause
		wantOut    func(t *testing.T, o jobmsg.Outcome, p *memPayloads)
		wantDelete bool
	}{
		{name: "offloaded job in, offloaded outcome out", payloads: true,
			record: func(t *testing.T, p *memPayloads) events.SQSMessage {
				r := jobRecord(t, "bad", fmt.Sprintf(`{"doc":%q}`, big), nil)
				p.objects["jobs/book-hotel/100-x.json"] = []byte(r.Body)
				r.Body = string(claimcheck.Pointer{Bucket: "b", Key: "jobs/book-hotel/100-x.json"}.Body())
				return r
			},
			wantOut: func(t *testing.T, o jobmsg.Outcome, p *memPayloads) {
				assert.Equal(t, jobmsg.Complete, o.Outcome)
				assert.JSONEq(t, fmt.Sprintf(`{"doc":%q}`, big), string(o.Variables), "the outcome, read back from the store")
			},
			wantDelete: true},
		{name: "pointer whose object is gone", payloads: true,
			record: func(*testing.T, *memPayloads) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", EventSource: "aws:sqs", Body: string(claimcheck.Pointer{Bucket: "b", Key: "jobs/x/1-2.json"}.Body())}
			},
			wantDLQ: "offloaded payload cannot be read"},
		{name: "pointer, but no bucket configured", payloads: false,
			record: func(*testing.T, *memPayloads) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", EventSource: "aws:sqs", Body: string(claimcheck.Pointer{Bucket: "b", Key: "jobs/x/1-2.json"}.Body())}
			},
			wantDLQ: `claim-check pointer to bucket "b", but the function has no PAYLOAD_BUCKET`, wantCause: sqsretry.CauseConfiguration},
		{name: "the bucket denies reading the job", payloads: true, denied: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"},
			record: func(*testing.T, *memPayloads) events.SQSMessage {
				return events.SQSMessage{MessageId: "bad", EventSource: "aws:sqs", Body: string(claimcheck.Pointer{Bucket: "b", Key: "jobs/x/1-2.json"}.Body())}
			},
			wantDLQ: "offloaded payload cannot be read", wantCause: sqsretry.CauseConfiguration},
		{name: "the bucket denies writing the outcome", payloads: true, denied: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"},
			record: func(t *testing.T, _ *memPayloads) events.SQSMessage {
				return jobRecord(t, "bad", fmt.Sprintf(`{"doc":%q}`, big), nil)
			},
			wantDLQ: "its outcome could not be published", wantCause: sqsretry.CauseConfiguration},
		{name: "S3 throttles writing the outcome", payloads: true, denied: &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate"},
			record: func(t *testing.T, _ *memPayloads) events.SQSMessage {
				return jobRecord(t, "bad", fmt.Sprintf(`{"doc":%q}`, big), nil)
			},
			wantDLQ: "its outcome could not be published", wantCause: sqsretry.CauseUnknown},
		{name: "result above Zeebe's limit", payloads: true, maxVars: 2048,
			record: func(t *testing.T, _ *memPayloads) events.SQSMessage {
				return jobRecord(t, "bad", fmt.Sprintf(`{"doc":%q}`, big), nil)
			},
			wantOut: func(t *testing.T, o jobmsg.Outcome, _ *memPayloads) {
				assert.Equal(t, jobmsg.Fail, o.Outcome)
				assert.Equal(t, int32(0), o.Retries, "a retry would produce the same result")
				assert.Contains(t, o.ErrorMessage, "above Zeebe's limit of 2048 bytes")
				assert.Contains(t, o.ErrorMessage, "SNS's 256 KiB")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &memPayloads{objects: map[string][]byte{}, denied: tt.denied}
			pub := &fakePublisher{}
			dl := &fakeDeadLetters{}
			cfg := testConfig(&resolvingPublisher{pub: pub, p: p})
			cfg.DeadLetters, cfg.MaxVariablesBytes = dl, tt.maxVars
			if tt.payloads {
				cfg.Payloads = p
			}
			h, err := lambdakit.New(echoDoc, cfg)
			require.NoError(t, err)
			good := jobRecord(t, "good", `{"doc":"small"}`, func(j *jobmsg.Job) { j.Key = 101 })
			resp := invoke(context.Background(), t, h, tt.record(t, p), good)
			assert.Empty(t, resp.BatchItemFailures)
			if tt.wantDLQ != "" {
				assert.Contains(t, dl.reasons["bad"], tt.wantDLQ)
				assert.Equal(t, tt.wantCause, dl.causes["bad"], "a configuration fault is marked so the returner raises an incident")
				require.Len(t, pub.outcomes, 1, "only the neighbour's outcome")
				return
			}
			require.Len(t, pub.outcomes, 2)
			for _, o := range pub.outcomes {
				if o.JobKey == 100 {
					tt.wantOut(t, o, p)
				} else {
					assert.JSONEq(t, `{"doc":"small"}`, string(o.Variables))
				}
			}
			if tt.wantDelete {
				assert.Equal(t, []string{"jobs/book-hotel/100-x.json"}, p.deleted, "the job's payload is deleted once served")
			}
		})
	}
}

// resolvingPublisher follows claim-check pointers before handing outcomes
// to pub, as the fulfiller does, and checks where they were stored.
type resolvingPublisher struct {
	pub *fakePublisher
	p   *memPayloads
}

func (r *resolvingPublisher) Publish(ctx context.Context, topic string, msgs []jobmsg.Message) []error {
	for i, m := range msgs {
		if ptr, ok := claimcheck.Parse(m.Body); ok {
			if !strings.HasPrefix(ptr.Key, "outcomes/book-hotel/100-") {
				return []error{errors.New("stored under " + ptr.Key)}
			}
			body, _, err := r.p.Resolve(ctx, m.Body)
			if err != nil {
				return []error{err}
			}
			msgs[i].Body = body
		}
	}
	return r.pub.Publish(ctx, topic, msgs)
}
