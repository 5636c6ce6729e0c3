package recordlog_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// TestTimelineTellsInterruptedAndCancelledApart runs two instances on an
// engine of the test's own: a task interrupted by its boundary timer, and an
// instance cancelled while its task waits, holding a 300 KiB variable and an
// integer beyond 2^53. The timeline names each ending, and the variables are
// printed exactly but abbreviated.
func TestTimelineTellsInterruptedAndCancelledApart(t *testing.T) {
	eng := localzeebetest.Start(t)
	zb := localzeebetest.Client(t, eng.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	records := recordlog.Open(eng.RecordLog)

	timer, err := os.ReadFile("../conformance/testdata/timer-boundary.bpmn")
	require.NoError(t, err)
	timer = bytes.ReplaceAll(timer, []byte("PROCESS_ID"), []byte("timeline-timer"))
	timer = bytes.ReplaceAll(timer, []byte("JOB_TYPE"), []byte("timeline-nobody"))
	zeebetest.Deploy(t, zb, "timeline-timer.bpmn", timer)
	interrupted := zeebetest.Start(t, zb, "timeline-timer", nil)
	_, err = records.WaitFor(ctx, interrupted, func(r recordlog.Record) bool {
		return r.Is("PROCESS_INSTANCE", "ELEMENT_ACTIVATED") && r.Value.ElementID == "Task_Timeout"
	})
	require.NoError(t, err, "the boundary timer fired")
	recs, err := records.Instance(interrupted)
	require.NoError(t, err)
	var steps []string
	for _, s := range recordlog.Timeline(recs) {
		steps = append(steps, s.ElementID+" "+s.Outcome+" "+s.Detail)
	}
	assert.Equal(t, []string{"Task_Work interrupted by boundary event Timer_Boundary"}, steps)

	zeebetest.Deploy(t, zb, "timeline-wait.bpmn", zeebetest.SingleTaskProcessOfType("timeline-wait", "Task_Wait", "timeline-nobody-either", nil, 3))
	big := strings.Repeat("x", 300*1024)
	cancelled := zeebetest.Start(t, zb, "timeline-wait", map[string]any{"doc": big, "orderId": 9007199254740993})
	_, err = records.WaitFor(ctx, cancelled, func(r recordlog.Record) bool { return r.Is("JOB", "CREATED") })
	require.NoError(t, err)
	_, err = zb.NewCancelInstanceCommand().ProcessInstanceKey(cancelled).Send(ctx)
	require.NoError(t, err)
	end, err := records.WaitEnd(ctx, cancelled)
	require.NoError(t, err)
	assert.True(t, end.Cancelled)
	assert.False(t, end.Completed)
	recs, err = records.Instance(cancelled)
	require.NoError(t, err)

	var out strings.Builder
	recordlog.Render(&out, "cancelled instance", recs, end)
	text := out.String()
	assert.Contains(t, text, "Task_Wait")
	assert.Regexp(t, `Task_Wait\s+-\s+cancelled\s+\(\d+\.\d+s\)\s+with the instance`, text)
	assert.Contains(t, text, "\n  cancelled\n", "not 'did not end'")
	assert.NotContains(t, text, "did not end")
	assert.Contains(t, text, "orderId            9007199254740993\n", "every digit")
	assert.Contains(t, text, `"`+strings.Repeat("x", 100))
	assert.Contains(t, text, "… (300.0 KiB in all)")
	for _, line := range strings.Split(text, "\n") {
		assert.Less(t, len(line), 300, "no line fills the screen: %.80s", line)
	}
}
