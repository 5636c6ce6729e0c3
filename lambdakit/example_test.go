package lambdakit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

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

// Example drives a handler the way the Lambda runtime does, with one SQS
// record per job, and prints the outcomes it publishes.
func Example() {
	type Order struct {
		Items int `json:"items"`
	}
	type Invoice struct {
		Total int `json:"total"`
	}
	invoice := func(ctx context.Context, o Order) (Invoice, error) {
		switch {
		case o.Items == 0:
			return Invoice{}, lambdakit.BPMNError("EMPTY_ORDER", "nothing to invoice", nil)
		case o.Items < 0:
			return Invoice{}, errors.New("billing system unavailable")
		}
		return Invoice{Total: 10 * o.Items}, nil
	}

	// In a Lambda main this is all: lambdakit.Start(invoice)
	h, err := lambdakit.New(invoice, lambdakit.Config{
		Publisher:       printPublisher{},
		OutcomeTopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete",
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}

	// What the function's SQS queue delivers: a job message per record.
	for i, items := range []int{3, 0, -1} {
		job, _ := jobmsg.EncodeJob(jobmsg.Job{
			Key: int64(10 + i), ProcessInstanceKey: 1, CustomHeaders: map[string]string{"identifier": "invoice"},
			Retries: 3, Deadline: time.Now().Add(time.Minute).UnixMilli(),
			Variables: json.RawMessage(fmt.Sprintf(`{"items":%d}`, items)),
		})
		event, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(job.Body), EventSource: "aws:sqs"}}})
		resp, _ := h.Invoke(context.Background(), event)
		fmt.Println(string(resp))
	}

	// Any other payload is a direct invocation: input in, output out.
	resp, _ := h.Invoke(context.Background(), []byte(`{"items":2}`))
	fmt.Println(string(resp))
	// Output:
	// {"v":1,"jobKey":10,"processInstanceKey":1,"outcome":"complete","variables":{"total":30},"retries":0}
	// {"batchItemFailures":[]}
	// {"v":1,"jobKey":11,"processInstanceKey":1,"outcome":"error","variables":{},"errorCode":"EMPTY_ORDER","errorMessage":"nothing to invoice","retries":0}
	// {"batchItemFailures":[]}
	// {"v":1,"jobKey":12,"processInstanceKey":1,"outcome":"fail","errorMessage":"billing system unavailable","retries":2,"retryBackoffMs":5000}
	// {"batchItemFailures":[]}
	// {"total":20}
}
