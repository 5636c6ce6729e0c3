package activation_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation/activationtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

const (
	job  = int64(2251799813685249)
	actA = int64(1_700_000_000_000)
	actB = int64(1_700_000_300_000)
)

func TestClaim(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// before runs on the store before the claim under test.
		before func(t *testing.T, s *activation.Store)
		owner  string
		want   activation.Claim
	}{
		{"the first answer owns its activation", nil, "mac:a",
			activation.Claim{Verdict: activation.Fresh}},
		{"another answer came first", func(t *testing.T, s *activation.Store) {
			_, err := s.Claim(ctx, job, actA, "mac:returner")
			require.NoError(t, err)
		}, "mac:a", activation.Claim{Verdict: activation.Answered, Why: "another answer to this activation came first"}},
		{"the same answer applied already", func(t *testing.T, s *activation.Store) {
			_, err := s.Claim(ctx, job, actA, "mac:a")
			require.NoError(t, err)
			require.NoError(t, s.Settle(ctx, job, actA, "mac:a"))
		}, "mac:a", activation.Claim{Verdict: activation.Answered, Why: "this answer has been applied already"}},
		{"the same answer, unfinished, job never recorded: resumed", func(t *testing.T, s *activation.Store) {
			_, err := s.Claim(ctx, job, actA, "mac:a")
			require.NoError(t, err)
		}, "mac:a", activation.Claim{Verdict: activation.Resume}},
		{"the same answer, unfinished, job still on this activation: resumed", func(t *testing.T, s *activation.Store) {
			require.NoError(t, s.Record(ctx, job, actA))
			_, err := s.Claim(ctx, job, actA, "mac:a")
			require.NoError(t, err)
		}, "mac:a", activation.Claim{Verdict: activation.Resume}},
		{"the same answer, unfinished, job activated again since: answered", func(t *testing.T, s *activation.Store) {
			require.NoError(t, s.Record(ctx, job, actA))
			_, err := s.Claim(ctx, job, actA, "mac:a")
			require.NoError(t, err)
			require.NoError(t, s.Record(ctx, job, actB))
		}, "mac:a", activation.Claim{Verdict: activation.Answered, Why: "the job has been activated again since this answer's first attempt, so that attempt reached Zeebe"}},
		{"a claim on the earlier activation leaves the later one free", func(t *testing.T, s *activation.Store) {
			_, err := s.Claim(ctx, job, actB, "mac:b")
			require.NoError(t, err)
		}, "mac:a", activation.Claim{Verdict: activation.Fresh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &activation.Store{API: &activationtest.S3{}, Bucket: "b"}
			if tt.before != nil {
				tt.before(t, s)
			}
			got, err := s.Claim(ctx, job, actA, tt.owner)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAnswered(t *testing.T) {
	ctx := context.Background()
	s := &activation.Store{API: &activationtest.S3{}, Bucket: "b"}
	answered, err := s.Answered(ctx, job, actA)
	require.NoError(t, err)
	assert.False(t, answered, "no claim yet: heartbeats go through")
	_, err = s.Claim(ctx, job, actA, "mac:a")
	require.NoError(t, err)
	answered, err = s.Answered(ctx, job, actA)
	require.NoError(t, err)
	assert.True(t, answered)
	answered, err = s.Answered(ctx, job, actB)
	require.NoError(t, err)
	assert.False(t, answered, "the claim is the activation's, not the job's")
}

func TestObjectsAndCost(t *testing.T) {
	ctx := context.Background()
	mem := &activationtest.S3{}
	s := &activation.Store{API: mem, Bucket: "b"}
	require.NoError(t, s.Record(ctx, job, actA))
	_, err := s.Claim(ctx, job, actA, "mac:a")
	require.NoError(t, err)
	require.NoError(t, s.Settle(ctx, job, actA, "mac:a"))
	assert.Equal(t, []string{"activations/2251799813685249", "claims/2251799813685249/1700000000000"}, mem.Keys())
	assert.Equal(t, 3, mem.Puts, "a job answered once: the poller's record, the claim, its settlement")
	assert.Equal(t, 0, mem.Gets, "nothing is read on the path of a job answered once")
}

func TestS3ErrorsAreWrapped(t *testing.T) {
	ctx := context.Background()
	down := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		is   error
	}{
		{"a plain error", down, down},
		{"two conditional writes at once", &smithy.GenericAPIError{Code: "ConditionalRequestConflict"}, activation.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &activation.Store{API: &activationtest.S3{Err: tt.err}, Bucket: "b"}
			_, err := s.Claim(ctx, job, actA, "mac:a")
			require.ErrorIs(t, err, tt.is)
			_, err = s.Answered(ctx, job, actA)
			require.ErrorIs(t, err, tt.err)
		})
	}
}

func TestOfAndOwner(t *testing.T) {
	signed := jobmsg.Outcome{JobKey: job, Outcome: jobmsg.Fail, Token: &jobmsg.Token{Deadline: actA}, MAC: "m1"}
	tests := []struct {
		name  string
		o     jobmsg.Outcome
		act   int64
		ok    bool
		owner string
	}{
		{"signed: the token's deadline, the seal", signed, actA, true, "mac:m1"},
		{"asynchronous, unsigned: the message's deadline", jobmsg.Outcome{JobKey: job, Outcome: jobmsg.Complete, Async: true, Deadline: actB}, actB, true, ""},
		{"synchronous, unsigned: no activation", jobmsg.Outcome{JobKey: job, Outcome: jobmsg.Complete}, 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act, ok := activation.Of(tt.o)
			assert.Equal(t, tt.act, act)
			assert.Equal(t, tt.ok, ok)
			if tt.owner != "" {
				assert.Equal(t, tt.owner, activation.Owner(tt.o))
			}
		})
	}
	// Unsigned: a digest of the content; equal for equal outcomes only.
	a := jobmsg.Outcome{JobKey: job, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"x":1}`)}
	b := a
	b.Variables = json.RawMessage(`{"x":2}`)
	assert.Equal(t, activation.Owner(a), activation.Owner(a))
	assert.NotEqual(t, activation.Owner(a), activation.Owner(b))
	assert.Regexp(t, `^sha256:[A-Za-z0-9_-]{43}$`, activation.Owner(a))
}

func TestReturns(t *testing.T) {
	ctx := context.Background()
	actC := int64(1_700_000_600_000)
	tests := []struct {
		name  string
		noted []int64 // activations handed back before the count
		want  int
	}{
		{"none yet", nil, 0},
		{"two earlier activations", []int64{actB, actC}, 2},
		{"the same activation attempted twice counts once", []int64{actB, actB}, 1},
		{"the activation being counted is not an earlier return", []int64{actB, actA}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &activation.Store{API: &activationtest.S3{}, Bucket: "b"}
			for _, a := range tt.noted {
				require.NoError(t, s.NoteReturn(ctx, job, a))
			}
			got, err := s.Returns(ctx, job, actA)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("a failing bucket is an error", func(t *testing.T) {
		s := &activation.Store{API: &activationtest.S3{Err: errors.New("boom")}, Bucket: "b"}
		_, err := s.Returns(ctx, job, actA)
		require.ErrorContains(t, err, "get s3://b/returns/2251799813685249")
		require.ErrorContains(t, s.NoteReturn(ctx, job, actA), "get s3://b/returns/2251799813685249")
	})
}
