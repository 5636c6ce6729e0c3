package processview_test

import (
	"context"
	"fmt"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/processview"
)

// fakeLogs answers every Lambda job with two lines naming it, as lambdakit's would.
type fakeLogs struct{}

func (fakeLogs) JobLogs(_ context.Context, q processview.JobLogQuery) ([]processview.LogLine, error) {
	return []processview.LogLine{
		{Time: q.From, Message: fmt.Sprintf(`{"msg":"job received","function":%q,"jobKey":%d}`, q.Function, q.JobKey)},
		{Time: q.From, Message: fmt.Sprintf(`{"msg":"outcome published","function":%q,"jobKey":%d}`, q.Function, q.JobKey)},
	}, nil
}
