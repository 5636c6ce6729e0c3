package lambdakit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/lambdakit"
)

// TestBusinessEventsShareTheQueue: with an event handler, a record that is
// not a job message and does not claim to be one goes to it; a job message
// on the same queue still runs as a job; a record that claims to be a job
// message (lambdaIdentifier) but is malformed is still rejected.
func TestBusinessEventsShareTheQueue(t *testing.T) {
	str := func(s string) *string { return &s }
	event := events.SQSMessage{MessageId: "ev-1", Body: `{"orderId":"o-1","status":"shipped"}`, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel"}
	textEvent := events.SQSMessage{MessageId: "ev-2", Body: "not JSON at all", EventSource: "aws:sqs"}
	failing := events.SQSMessage{MessageId: "ev-fail", Body: `{"fail":true}`, EventSource: "aws:sqs"}
	claimsJob := events.SQSMessage{MessageId: "bad-job", Body: `{"v":1,"key":"not a number"}`, EventSource: "aws:sqs",
		MessageAttributes: map[string]events.SQSMessageAttribute{jobmsg.AttrLambdaIdentifier: {DataType: "String", StringValue: str("book-hotel")}}}

	var mu sync.Mutex
	var got []string
	pub := &fakePublisher{}
	cfg := testConfig(pub)
	cfg.Events = func(_ context.Context, r events.SQSMessage) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.MessageId+" "+r.Body)
		if r.MessageId == "ev-fail" {
			return errors.New("cannot handle it")
		}
		return nil
	}
	h, err := lambdakit.New(book, cfg)
	require.NoError(t, err)

	resp := invoke(context.Background(), t, h, event, jobRecord(t, "job-1", `{"tripId":"t1"}`, nil), textEvent, failing, claimsJob)

	assert.ElementsMatch(t, []string{`ev-1 {"orderId":"o-1","status":"shipped"}`, "ev-2 not JSON at all", `ev-fail {"fail":true}`}, got,
		"the events reach the event handler unchanged, and only they")
	outcomes := pub.published()
	require.Len(t, outcomes, 1, "the job ran as a job")
	assert.Equal(t, jobmsg.Complete, outcomes[0].Outcome)
	assert.ElementsMatch(t, []events.SQSBatchItemFailure{{ItemIdentifier: "ev-fail"}, {ItemIdentifier: "bad-job"}}, resp.BatchItemFailures,
		"a failed event and a malformed job message are reported; nothing else")
}

func TestWithEventsSetsTheHandler(t *testing.T) {
	var cfg lambdakit.Config
	called := false
	lambdakit.WithEvents(func(context.Context, events.SQSMessage) error { called = true; return nil })(&cfg)
	require.NotNil(t, cfg.Events)
	require.NoError(t, cfg.Events(context.Background(), events.SQSMessage{}))
	assert.True(t, called)
}
