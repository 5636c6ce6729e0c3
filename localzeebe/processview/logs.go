package processview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
)

// LogLine is one line a function logged while it ran a job.
type LogLine struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// JobLogQuery names a job's function and the time its log lines lie in.
type JobLogQuery struct {
	Function string
	JobKey   int64
	From, To time.Time
}

// LogSource finds the log lines a function wrote for one job.
type LogSource interface {
	JobLogs(ctx context.Context, q JobLogQuery) ([]LogLine, error)
}

// CloudWatchLogs reads a function's lines from its log group
// /aws/lambda/<function>: the lines lambdakit writes carry the job's key as
// jobKey (internal/joblog).
type CloudWatchLogs struct {
	Client *cloudwatchlogs.Client
}

// JobLogs returns the lines of q.Function between q.From and q.To whose
// jobKey is q.JobKey, oldest first. A log group that does not exist (the
// function never ran) has none.
func (c CloudWatchLogs) JobLogs(ctx context.Context, q JobLogQuery) ([]LogLine, error) {
	group := "/aws/lambda/" + q.Function
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group),
		StartTime: aws.Int64(q.From.UnixMilli()), EndTime: aws.Int64(q.To.UnixMilli())}
	var lines []LogLine
	for page := 0; page < maxLogPages; page++ {
		out, err := c.Client.FilterLogEvents(ctx, in)
		var missing *cwtypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			return []LogLine{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read log group %s: %w", group, err)
		}
		for _, e := range out.Events {
			msg := strings.TrimRight(aws.ToString(e.Message), "\n")
			if jobKeyOf(msg) == q.JobKey {
				lines = append(lines, LogLine{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Message: msg})
			}
		}
		if out.NextToken == nil || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	if lines == nil {
		lines = []LogLine{}
	}
	return lines, nil
}

// maxLogPages bounds one job's read of a busy log group.
const maxLogPages = 50

// jobKeyOf is the jobKey of a JSON log line, 0 for any other line (the
// runtime's START, END and REPORT lines, say).
func jobKeyOf(line string) int64 {
	if !strings.HasPrefix(line, "{") {
		return 0
	}
	var v map[string]json.RawMessage
	if json.Unmarshal([]byte(line), &v) != nil {
		return 0
	}
	var k int64
	if json.Unmarshal(v[joblog.KeyJob], &k) != nil {
		return 0
	}
	return k
}
