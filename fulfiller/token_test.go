package fulfiller_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// TestJobTokens: with a Verifier, an outcome is applied only when its job
// token and seal check out; any other goes to the DLQ with the check that
// failed, before Zeebe hears of it, and its neighbour in the batch is applied.
func TestJobTokens(t *testing.T) {
	current := jobtoken.Key{ID: "k2", Secret: strings.Repeat("b", 32)}
	previous := jobtoken.Key{ID: "k1", Secret: strings.Repeat("a", 32)}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	deadline := now.Add(time.Minute).UnixMilli()
	signed := func(key jobtoken.Key, jobKey, deadline int64) jobmsg.Outcome {
		job := jobmsg.Job{Key: jobKey, ProcessInstanceKey: 1, Deadline: deadline, CustomHeaders: map[string]string{"identifier": "book-hotel"}}
		job.Token = jobtoken.Sign(key, job.Key, job.Deadline, job.Identifier())
		o, err := jobtoken.Attach(job, jobmsg.Outcome{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"ok":true}`)})
		require.NoError(t, err)
		return o
	}
	genuine := func(key jobtoken.Key, jobKey int64) jobmsg.Outcome { return signed(key, jobKey, deadline) }
	tests := []struct {
		name    string
		outcome func() jobmsg.Outcome
		keysErr error
		applied bool
		retried bool
		late    bool
		reason  string
	}{
		{name: "genuine", outcome: func() jobmsg.Outcome { return genuine(current, 7) }, applied: true},
		{name: "genuine, signed before the key was rotated", outcome: func() jobmsg.Outcome { return genuine(previous, 7) }, applied: true},
		{name: "forged: no token, for a job the bridge never published", outcome: func() jobmsg.Outcome {
			return jobmsg.Outcome{JobKey: 7, Outcome: jobmsg.Complete}
		}, reason: "job token: job token invalid: missing"},
		{name: "tampered: variables changed after sealing", outcome: func() jobmsg.Outcome {
			o := genuine(current, 7)
			o.Variables = json.RawMessage(`{"ok":false}`)
			return o
		}, reason: "tampered"},
		{name: "signed with an unknown key id", outcome: func() jobmsg.Outcome {
			return genuine(jobtoken.Key{ID: "k9", Secret: strings.Repeat("z", 32)}, 7)
		}, reason: `key id "k9"`},
		{name: "another job's token", outcome: func() jobmsg.Outcome {
			o := genuine(current, 6)
			o.JobKey = 7
			return o
		}, reason: "forged"},
		{name: "genuine, after its activation's deadline: a duplicate, acknowledged, neither applied nor dead-lettered", outcome: func() jobmsg.Outcome {
			return signed(current, 7, now.Add(-time.Second).UnixMilli())
		}, late: true},
		{name: "keyring unreadable: retried, not rejected", outcome: func() jobmsg.Outcome { return genuine(current, 7) },
			keysErr: errors.New("secrets manager throttled"), retried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zb := &fakeZeebe{}
			rd := &fakeRedelivery{}
			h := fulfiller.New(zb, joblog.Discard())
			h.Redelivery = rd
			keys := jobtoken.Static(jobtoken.Keyring{Current: current, Previous: []jobtoken.Key{previous}})
			if tt.keysErr != nil {
				keys = jobtoken.NewKeys(func(context.Context) (string, error) { return "", tt.keysErr })
			}
			h.Verifier = jobtoken.Verifier{Keys: keys, Now: func() time.Time { return now }}
			neighbour := genuine(current, 8)
			resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
				record(t, "x", tt.outcome(), false), record(t, "good", neighbour, true)}})
			require.NoError(t, err)
			var keysCalled []int64
			for _, c := range zb.calls {
				keysCalled = append(keysCalled, c.Key)
			}
			switch {
			case tt.applied:
				assert.ElementsMatch(t, []int64{7, 8}, keysCalled)
				assert.Empty(t, resp.BatchItemFailures)
			case tt.late:
				assert.Equal(t, []int64{8}, keysCalled, "never applied; the neighbour is")
				assert.Empty(t, rd.deadLetters, "not the DLQ: no alarm for a late outcome")
				assert.Empty(t, resp.BatchItemFailures, "acknowledged")
			case tt.retried:
				assert.Empty(t, keysCalled, "nothing applied while the keys cannot be read")
				assert.Len(t, rd.retried, 2)
			default:
				assert.Equal(t, []int64{8}, keysCalled, "never applied; the neighbour is")
				assert.Contains(t, rd.deadLetters["x"], tt.reason)
				assert.Empty(t, resp.BatchItemFailures, "moved to the DLQ and acknowledged")
			}
		})
	}
}
