package completion_test

import (
	"context"
	"fmt"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// printer stands in for SNS: it prints what would be published.
type printer struct{}

func (printer) Publish(_ context.Context, topic string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		o, _ := jobmsg.DecodeOutcome(m.Body)
		fmt.Printf("%s: %s job %d (activation %d) timeoutMs=%d variables=%s\n", topic, o.Outcome, o.JobKey, o.Deadline, o.TimeoutMs, o.Variables)
	}
	return make([]error, len(msgs))
}

// The work a pending handler started reports progress, then its result.
func ExampleClient() {
	// The token a handler got from lambdakit.CompletionToken and handed on.
	tok, _ := completion.NewToken(jobmsg.Job{Key: 2251799813685282, Deadline: 1796404160649,
		CustomHeaders: map[string]string{"identifier": "long-work", "timeout": "PT15M"}})
	token := tok.String()

	c := &completion.Client{Publisher: printer{}, TopicARN: "zeebe_jobs2complete"}
	ctx := context.Background()
	_ = c.Heartbeat(ctx, token, 0)              // the task header's 15 minutes, from now
	_ = c.Heartbeat(ctx, token, 20*time.Minute) // or a timeout of its own
	_ = c.Complete(ctx, token, map[string]int{"pages": 120})
	// Output:
	// zeebe_jobs2complete: heartbeat job 2251799813685282 (activation 1796404160649) timeoutMs=900000 variables=
	// zeebe_jobs2complete: heartbeat job 2251799813685282 (activation 1796404160649) timeoutMs=1200000 variables=
	// zeebe_jobs2complete: complete job 2251799813685282 (activation 1796404160649) timeoutMs=0 variables={"pages":120}
}
