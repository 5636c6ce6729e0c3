package poller_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog/joblogtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/poller"
)

// recorder is poller.Recorder in memory; it notes, for each job, whether
// the job had been published when its activation was recorded.
type recorder struct {
	mu           sync.Mutex
	pub          *fakePublisher
	err          error
	recorded     map[int64]int64 // job key -> activation
	afterPublish int
}

func (r *recorder) Record(_ context.Context, jobKey, act int64) error {
	r.pub.mu.Lock()
	published := len(r.pub.published)
	r.pub.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if published > 0 {
		r.afterPublish++
	}
	if r.err != nil {
		return r.err
	}
	if r.recorded == nil {
		r.recorded = map[int64]int64{}
	}
	r.recorded[jobKey] = act
	return nil
}

// TestActivationsAreRecordedBeforePublishing: every job's activation is
// recorded before the job is published, so that no answer to an earlier
// activation is sent again once a function may run this one; a record that
// fails does not hold the job back.
func TestActivationsAreRecordedBeforePublishing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		recorded   int
		unrecorded int // log lines with ActivationsUnrecorded
	}{
		{"recorded", nil, 5, 0},
		{"S3 down: published all the same", errors.New("s3: connection refused"), 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := jobs(5)
			for i := range in {
				in[i].Deadline = int64(1_700_000_000_000 + i)
			}
			zb := &fakeZeebe{script: []activation{{jobs: in}}}
			pub := &fakePublisher{}
			rec := &recorder{pub: pub, err: tt.err}
			var buf joblogtest.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 1800*time.Millisecond)
			defer cancel()
			st, err := poller.Run(ctx, cfg(), zb, pub, joblog.New(&buf, true), poller.WithActivations(rec))
			require.NoError(t, err)
			assert.Equal(t, poller.Stats{Activated: 5, Published: 5}, st)
			assert.Equal(t, 0, rec.afterPublish, "a job's activation is recorded before any job is published")
			assert.Len(t, rec.recorded, tt.recorded)
			for key, act := range rec.recorded {
				assert.Equal(t, int64(1_700_000_000_000)+key-1, act, "job %d", key)
			}
			assert.Len(t, joblogtest.About(buf.Lines(t), "ActivationsUnrecorded", 1.0), tt.unrecorded)
		})
	}
}
