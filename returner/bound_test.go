package returner_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation/activationtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsretry"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/returner"
)

// TestReturnsAreBounded dead-letters one job activation after activation,
// each time with the retries Zeebe would give it after the previous
// outcome, until Zeebe would raise an incident (retries 0).
func TestReturnsAreBounded(t *testing.T) {
	tests := []struct {
		name       string
		maxReturns int
		cause      sqsretry.Cause
		retries    int32
		// want is the retries of each fail outcome, one per activation,
		// until one is 0.
		want    []int32
		lastMsg string
	}{
		{"default: three hand-backs, then each dead-letter costs a retry", 0, sqsretry.CauseUnknown, 3,
			[]int32{3, 3, 3, 2, 1, 0},
			`the job message for function "book-hotel" reached its dead-letter queue again after 3 hand-backs with retries unchanged (the most allowed): the outcome could not be published: SNS said no; failed with retries-1`},
		{"one hand-back allowed", 1, sqsretry.CauseUnknown, 2,
			[]int32{2, 1, 0},
			`again after 1 hand-backs with retries unchanged (the most allowed)`},
		{"a configuration fault: no hand-back at all", 0, sqsretry.CauseConfiguration, 3,
			[]int32{0},
			`because the function's deployment is wrong: the outcome could not be published: SNS said no; failed without retries`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			pub := &fakePublisher{}
			h := &returner.Handler{Publisher: pub, OutcomeTopicARN: outcomes, Log: joblog.Discard(), MaxReturns: tt.maxReturns,
				Guard: &activation.Store{API: &activationtest.S3{}, Bucket: "b"}, Now: func() time.Time { return now }}
			retries := tt.retries
			var got []int32
			for i := 0; retries > 0 && i < 10; i++ {
				// Each activation has its own deadline.
				deadline := now.Add(time.Duration(i+1) * time.Minute)
				r := jobRecordCause(t, fmt.Sprint("m", i), 7, retries, deadline, "the outcome could not be published: SNS said no", tt.cause)
				require.Equal(t, returner.Returned, h.Record(ctx, r))
				o := pub.outcomes[len(pub.outcomes)-1]
				got = append(got, o.Retries)
				if o.Retries == retries && i < len(tt.want)-1 {
					assert.Contains(t, o.ErrorMessage, fmt.Sprintf("handed back to Zeebe with its retries unchanged (hand-back %d of", i+1))
				}
				retries = o.Retries
			}
			assert.Equal(t, tt.want, got)
			assert.Contains(t, pub.outcomes[len(pub.outcomes)-1].ErrorMessage, tt.lastMsg)
		})
	}
}

// TestAHandBackAttemptedTwiceCountsOnce delivers one activation's record
// twice (its first publish failed): it is one hand-back, not two.
func TestAHandBackAttemptedTwiceCountsOnce(t *testing.T) {
	ctx := context.Background()
	pub := &fakePublisher{errs: map[int64]error{}}
	store := &activation.Store{API: &activationtest.S3{}, Bucket: "b"}
	h := &returner.Handler{Publisher: pub, OutcomeTopicARN: outcomes, Log: joblog.Discard(), MaxReturns: 1,
		Guard: store, Now: func() time.Time { return now }}
	r := jobRecord(t, "m", 7, 3, now.Add(time.Minute), "lost")
	pub.errs[7] = errors.New("sns down")
	require.Equal(t, returner.RetryLate, h.Record(ctx, r))
	pub.errs[7] = nil
	require.Equal(t, returner.Returned, h.Record(ctx, r))
	require.Len(t, pub.outcomes, 1)
	assert.Equal(t, int32(3), pub.outcomes[0].Retries, "the first hand-back, resumed")
	n, err := store.Returns(ctx, 7, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "one activation handed back")
}

// TestReturnsUncountableNow: when the count cannot be read, the record
// comes back rather than being handed back without a bound.
func TestReturnsUncountableNow(t *testing.T) {
	pub := &fakePublisher{}
	rd := &fakeRedelivery{held: map[string]time.Duration{}}
	h := &returner.Handler{Publisher: pub, OutcomeTopicARN: outcomes, Log: joblog.Discard(), Redelivery: rd,
		Guard: &activation.Store{API: &activationtest.S3{Err: errors.New("s3 down")}, Bucket: "b"}, Now: func() time.Time { return now }}
	r := jobRecord(t, "m", 7, 3, now.Add(time.Minute), "lost")
	assert.Equal(t, returner.RetryLate, h.Record(context.Background(), r))
	assert.Empty(t, pub.outcomes)
	assert.Equal(t, []string{"m"}, rd.retried)
}
