//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/examples/chaos"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestNoSilentLoop plays issue 20's silent loop: a job whose function keeps
// dead-lettering it must end in an incident naming the cause within a
// minute, after a bounded and exact number of handler runs, not be handed
// back for ever.
// Not parallel: it changes noop's environment while it runs, and a function
// update restarts noop's environments under the other tests (seen: the
// poison-record subtest of TestServerless lost its log line).
func TestNoSilentLoop(t *testing.T) {
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)
	stack := deployed(t)
	for _, fn := range []string{"loop", "noop"} {
		require.Contains(t, stack.Functions, fn, "TestNoSilentLoop needs %s: add it to E2E_FUNCTIONS", fn)
	}
	pollerTimeout := jobTimeoutOfPoller(ctx, t, awsCfg, stack.PollerFunctionName)
	// Above SNS's 256 KiB: the poller offloads the job to the payload bucket.
	pad := strings.Repeat("p", 300<<10)

	tests := []struct {
		name     string
		fn       string
		setup    func(t *testing.T)
		vars     map[string]any
		retries  []int32 // of each FAILED record, in order
		incident []string
		// runs counts the handler's runs from the function's log lines.
		runs     func(t *testing.T, pik int64) int
		wantRuns int
	}{
		{
			name: "a function deployed without the payload bucket: a 300 KiB job is an incident naming the bucket at once; the handler never ran",
			fn:   "noop",
			setup: func(t *testing.T) {
				withoutEnv(ctx, t, awsCfg, stack.Functions["noop"].FunctionName, "PAYLOAD_BUCKET")
			},
			vars:    map[string]any{"pad": pad},
			retries: []int32{0},
			incident: []string{`the job message for function "noop" reached its dead-letter queue because the function's deployment is wrong`,
				fmt.Sprintf("claim-check pointer to bucket %q, but the function has no PAYLOAD_BUCKET", stack.PayloadBucket)},
			runs: func(t *testing.T, pik int64) int {
				// noop logs nothing of its own: lambdakit's line for every
				// outcome a run publishes counts them, once its line for the
				// rejection shows the invocation's lines have arrived.
				group := stack.Functions["noop"].LogGroupName
				rejection := fmt.Sprintf("rejecting SQS record: claim-check pointer to bucket %q, but the function has no PAYLOAD_BUCKET; moved to the DLQ at once", stack.PayloadBucket)
				var rejected int
				for deadline := time.Now().Add(30 * time.Second); rejected == 0 && time.Now().Before(deadline); time.Sleep(time.Second) {
					// The pointer lambdakit could not follow carries no keys
					// (key 0); only this test leaves noop without the bucket.
					rejected = countLines(ctx, t, awsCfg, group, rejection, map[int64]bool{0: true})
				}
				assert.Equal(t, 1, rejected, "lambdakit rejected the job once")
				return countLines(ctx, t, awsCfg, group, "outcome published", map[int64]bool{pik: true})
			},
			wantRuns: 0,
		},
		{
			name: "a function that never gets its outcome out: three hand-backs, then retries 2, 1, 0 and an incident naming the cause; six runs",
			fn:   "loop",
			vars: map[string]any{"i": 0, "n": 1, "faults": chaos.LoopFaults{LoseAlways: true}, "pad": pad},
			// The default MAX_RETURNS, 3, with the task's 3 retries.
			retries: []int32{3, 3, 3, 2, 1, 0},
			incident: []string{`the job message for function "loop" reached its dead-letter queue again after 3 hand-backs with retries unchanged (the most allowed)`,
				"injected fault: SNS publish failed", "failed with retries-1"},
			runs: func(t *testing.T, pik int64) int {
				return len(loopRuns(ctx, t, awsCfg, stack, pik, 6))
			},
			wantRuns: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			id := zeebetest.UniqueID("no-silent-loop-" + tt.fn)
			zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcess(id, "Task_Doomed", map[string]string{"identifier": tt.fn}, 3))
			pik := zeebetest.Start(t, zb.Zeebe(), id, tt.vars)
			// The scheduled poller, once a minute, may take a minute to pick
			// the job up; the bound is timed from its first activation.
			wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			end, err := records.WaitEnd(wctx, pik)
			recs := mustInstance(t, records, pik)
			var timeline strings.Builder
			recordlog.Render(&timeline, fmt.Sprintf("instance %d", pik), recs, end)
			t.Log(timeline.String())
			require.NoError(t, err, "instance %d did not end", pik)
			require.NotNil(t, end.Incident, "an incident, not a loop")
			assert.Equal(t, "JOB_NO_RETRIES", end.Incident.Value.ErrorType)
			for _, s := range tt.incident {
				assert.Contains(t, end.Incident.Value.ErrorMessage, s)
			}
			var retries []int32
			var first recordlog.Record
			for _, r := range recordlog.Jobs(recs) {
				if r.Intent == "FAILED" {
					retries = append(retries, r.Value.Retries)
					if first.Key == 0 {
						first = r
					}
				}
			}
			assert.Equal(t, tt.retries, retries)
			require.NotZero(t, first.Key)
			activated := time.UnixMilli(first.Value.Deadline).Add(-pollerTimeout)
			took := end.At.Sub(activated)
			assert.Less(t, took, time.Minute, "incident %s after the first activation", took)
			assert.Equal(t, tt.wantRuns, tt.runs(t, pik), "handler runs")
			t.Logf("incident %s after the first activation, %d FAILED records, %d handler runs", took.Round(100*time.Millisecond), len(retries), tt.wantRuns)
		})
	}
}

// withoutEnv removes a variable from a deployed function's environment, as
// a deployer who missed it would have, and puts it back when the test ends.
func withoutEnv(ctx context.Context, t *testing.T, cfg aws.Config, fn, name string) {
	t.Helper()
	lc := lambda.NewFromConfig(cfg)
	out, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn)})
	require.NoError(t, err)
	require.NotNil(t, out.Environment)
	was := maps.Clone(out.Environment.Variables)
	require.Contains(t, was, name)
	env := maps.Clone(was)
	delete(env, name)
	update := func(ctx context.Context, t *testing.T, vars map[string]string) {
		_, err := lc.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(fn),
			Environment: &lambdatypes.Environment{Variables: vars}})
		require.NoError(t, err)
		w := lambda.NewFunctionUpdatedV2Waiter(lc)
		require.NoError(t, w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)}, 2*time.Minute))
	}
	update(ctx, t, env)
	t.Cleanup(func() { update(context.Background(), t, was) })
}
