package sqsbatch_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/sqsbatch"
)

func TestProcessReportsOnlyFailedRecordsAndRunsConcurrently(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "ok-1"}, {MessageId: "bad-2"}, {MessageId: "ok-3"}, {MessageId: "bad-4"}}}
	var running, peak atomic.Int32
	resp := sqsbatch.Process(context.Background(), ev, func(_ context.Context, r events.SQSMessage) bool {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		running.Add(-1)
		return strings.HasPrefix(r.MessageId, "ok")
	})
	assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "bad-2"}, {ItemIdentifier: "bad-4"}}, resp.BatchItemFailures)
	assert.Equal(t, int32(4), peak.Load())

	empty := sqsbatch.Process(context.Background(), events.SQSEvent{}, nil)
	assert.NotNil(t, empty.BatchItemFailures, "an empty list, not null, in the JSON response")
}
