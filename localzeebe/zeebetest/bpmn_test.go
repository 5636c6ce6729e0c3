package zeebetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestErrorBoundaryProcessCatchesTheCode runs the model against the
// in-process engine: a BPMN error with the code ends at "Caught".
func TestErrorBoundaryProcessCatchesTheCode(t *testing.T) {
	e := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, e.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	zeebetest.Deploy(t, zb, "p.bpmn", zeebetest.ErrorBoundaryProcess("p", "Task", map[string]string{"identifier": "x"}, 3, "OOPS"))
	pik := zeebetest.Start(t, zb, "p", nil)
	var jobKey int64
	for jobKey == 0 {
		jobs, err := zb.NewActivateJobsCommand().JobType("lambda").MaxJobsToActivate(1).Timeout(time.Minute).Send(ctx)
		require.NoError(t, err)
		if len(jobs) == 1 {
			jobKey = jobs[0].Key
		}
	}
	_, err := zb.NewThrowErrorCommand().JobKey(jobKey).ErrorCode("OOPS").ErrorMessage("caught").Send(ctx)
	require.NoError(t, err)
	end, err := recordlog.Open(e.RecordLog).WaitEnd(ctx, pik)
	require.NoError(t, err)
	assert.True(t, end.Completed)
	assert.Equal(t, "Caught", end.EndEventID)
}
