package conformance

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// Reference §1.7: job push.
func TestJobPush(t *testing.T) {
	t.Parallel()

	t.Run("StreamActivatedJobs pushes new and re-activatable jobs", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stream, err := gw.StreamActivatedJobs(ctx, &pb.StreamActivatedJobsRequest{Type: m.jt, Worker: "pusher", Timeout: 60_000, FetchVariable: []string{"a"}})
		require.NoError(t, err)
		jobs := make(chan *pb.ActivatedJob, 10)
		errs := make(chan error, 1)
		go func() {
			for {
				j, err := stream.Recv()
				if err != nil {
					errs <- err
					return
				}
				jobs <- j
			}
		}()
		next := func(what string) *pb.ActivatedJob {
			t.Helper()
			select {
			case j := <-jobs:
				return j
			case err := <-errs:
				require.FailNow(t, "the stream ended", "%s: %v", what, err)
			case <-time.After(3 * time.Second):
				require.FailNow(t, "no job pushed within 3 s: "+what)
			}
			return nil
		}
		time.Sleep(500 * time.Millisecond) // let the stream register: only jobs that become activatable later are pushed
		res := m.createWithResult(t, map[string]any{"a": 1, "b": 2})
		created := time.Now()
		j := next("a new job")
		assert.Less(t, time.Since(created), time.Second, "pushed at once")
		assert.Equal(t, "pusher", j.GetWorker())
		assert.Equal(t, m.jt, j.GetType())
		assert.Equal(t, "Task_A", j.GetElementId())
		assert.JSONEq(t, `{"a":1}`, j.GetVariables(), "fetchVariable applies")
		assert.InDelta(t, time.Now().Add(time.Minute).UnixMilli(), j.GetDeadline(), 2000, "deadline = now + stream timeout")
		noJob(t, m.jt, 0) // the pushed job is activated

		failJob(t, j.GetKey(), 1, "again", 0, nil)
		again := next("the job failed with retries left")
		assert.Equal(t, j.GetKey(), again.GetKey())
		assert.EqualValues(t, 1, again.GetRetries())
		complete(t, again.GetKey(), map[string]any{"pushed": true})
		_, vars := awaitResult(t, res)
		assert.Equal(t, true, vars["pushed"])
	})

	for _, tc := range []struct {
		name string
		req  *pb.StreamActivatedJobsRequest
		want string
	}{
		{"blank type", &pb.StreamActivatedJobsRequest{Type: "", Worker: "w", Timeout: 1000},
			"Expected to stream activated jobs with type to be present, but it was blank"},
		{"timeout 0", &pb.StreamActivatedJobsRequest{Type: "conf-stream-validation", Worker: "w", Timeout: 0},
			"Expected to stream activated jobs with timeout to be greater than zero, but it was 0"},
	} {
		t.Run("StreamActivatedJobs "+tc.name, func(t *testing.T) {
			t.Parallel()
			stream, err := gw.StreamActivatedJobs(ctxT(t, 5*time.Second), tc.req)
			if err == nil {
				_, err = stream.Recv()
			}
			requireStatus(t, err, codes.InvalidArgument, tc.want)
		})
	}

	t.Run("a stream stays open without jobs", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stream, err := gw.StreamActivatedJobs(ctx, &pb.StreamActivatedJobsRequest{Type: uniq(t, "jt"), Worker: "idle", Timeout: 1000})
		require.NoError(t, err)
		ended := make(chan error, 1)
		go func() { _, err := stream.Recv(); ended <- err }()
		select {
		case err := <-ended:
			assert.Failf(t, "the server ended an idle stream", "%v", err)
		case <-time.After(1500 * time.Millisecond):
		}
	})

	t.Run("a closed stream does not swallow jobs", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		ctx, cancel := context.WithCancel(context.Background())
		stream, err := gw.StreamActivatedJobs(ctx, &pb.StreamActivatedJobsRequest{Type: m.jt, Worker: "gone", Timeout: 600_000})
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond)
		cancel()
		_, _ = stream.Recv()
		time.Sleep(300 * time.Millisecond)
		m.create(t, nil)
		start := time.Now()
		j := awaitJob(t, m.jt)
		assert.Less(t, time.Since(start), 3*time.Second, "activatable at once, not after the gone stream's 10 min timeout")
		assert.NotEqual(t, "gone", j.GetWorker())
		completeJob(t, j.GetKey())
	})

	t.Run("Go JobWorker with StreamEnabled", func(t *testing.T) {
		t.Parallel()
		m := deployModel(t, "one-task.bpmn")
		var mu sync.Mutex
		handled := map[int64]bool{}
		w := zb.NewJobWorker().JobType(m.jt).Handler(func(c worker.JobClient, job entities.Job) {
			vars, err := job.GetVariablesAsMap()
			if err != nil {
				return
			}
			n, _ := vars["n"].(float64)
			cmd, err := c.NewCompleteJobCommand().JobKey(job.Key).VariablesFromMap(map[string]any{"doubled": n * 2})
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := cmd.Send(ctx); err == nil {
				mu.Lock()
				handled[job.Key] = true
				mu.Unlock()
			}
		}).Name("stream-worker").Timeout(time.Minute).RequestTimeout(2 * time.Second).StreamEnabled(true).StreamRequestTimeout(time.Minute).Open()
		defer w.Close()
		time.Sleep(500 * time.Millisecond)
		var results []<-chan withResult
		for i := range 3 {
			results = append(results, m.createWithResult(t, map[string]any{"n": i + 1}))
		}
		for i, ch := range results {
			_, vars := awaitResult(t, ch)
			assert.Equal(t, float64(2*(i+1)), vars["doubled"])
		}
		// The result can overtake the CompleteJob response the handler waits for.
		assert.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(handled) == 3
		}, 5*time.Second, 20*time.Millisecond, "the worker completed the three jobs")
	})
}
