package lambdakit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// printPublisher prints the outcomes instead of sending them to SNS.
type printPublisher struct{}

func (printPublisher) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	for _, m := range msgs {
		fmt.Println(string(m.Body))
	}
	return make([]error, len(msgs))
}

func Example() {
	type Order struct {
		Items int `json:"items"`
	}
	type Invoice struct {
		Total int `json:"total"`
	}
	invoice := func(ctx context.Context, o Order) (Invoice, error) {
		if o.Items == 0 {
			return Invoice{}, lambdakit.BPMNError("EMPTY_ORDER", "nothing to invoice", nil)
		}
		return Invoice{Total: 10 * o.Items}, nil
	}

	// In a Lambda main this is all: lambdakit.Start(invoice)
	h, _ := lambdakit.New(invoice, lambdakit.Config{
		Publisher: printPublisher{}, OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete",
		Logger: joblog.Discard(),
	})

	// What the function's SQS queue delivers: a job message per record.
	for i, items := range []int{3, 0} {
		job, _ := jobmsg.EncodeJob(jobmsg.Job{
			Key: int64(10 + i), ProcessInstanceKey: 1, CustomHeaders: map[string]string{"identifier": "invoice"},
			Retries: 3, Deadline: time.Now().Add(time.Minute).UnixMilli(),
			Variables: json.RawMessage(fmt.Sprintf(`{"items":%d}`, items)),
		})
		event, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
		_, _ = h.Invoke(context.Background(), event)
	}
	// Output:
	// {"v":1,"jobKey":10,"processInstanceKey":1,"outcome":"complete","variables":{"total":30},"retries":0}
	// {"v":1,"jobKey":11,"processInstanceKey":1,"outcome":"error","variables":{},"errorCode":"EMPTY_ORDER","errorMessage":"nothing to invoice","retries":0}
}
