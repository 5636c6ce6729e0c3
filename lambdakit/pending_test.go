package lambdakit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// A handler that answers pending publishes nothing: its record is
// acknowledged and the token it took names the job's activation.
func TestPendingPublishesNothing(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
	}{
		{"ErrResultPending", func() error { return lambdakit.ErrResultPending }},
		{"wrapped", func() error { return fmt.Errorf("started scan 17: %w", lambdakit.ErrResultPending) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &fakePublisher{}
			var token string
			h, err := lambdakit.New(func(ctx context.Context, _ struct{}) (struct{}, error) {
				var err error
				token, err = lambdakit.CompletionToken(ctx)
				require.NoError(t, err)
				return struct{}{}, tt.err()
			}, testConfig(pub))
			require.NoError(t, err)
			resp := invoke(context.Background(), t, h, jobRecord(t, "m1", `{}`, nil))
			assert.Empty(t, resp.BatchItemFailures)
			assert.Empty(t, pub.outcomes, "the token's holder answers, not the invocation")
			tok, err := completion.Parse(token)
			require.NoError(t, err)
			assert.Equal(t, int64(100), tok.JobKey)
			assert.Equal(t, int64(200), tok.ProcessInstanceKey)
			assert.Equal(t, now().Add(60e9).UnixMilli(), tok.Deadline)
			assert.Equal(t, int32(3), tok.Retries)
		})
	}
	_, err := lambdakit.CompletionToken(context.Background())
	assert.Error(t, err, "no job, no token")
}
