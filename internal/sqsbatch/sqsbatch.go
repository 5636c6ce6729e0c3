// Package sqsbatch runs the records of an SQS-triggered Lambda invocation
// concurrently and reports the failed ones in batchItemFailures, so an event
// source mapping with ReportBatchItemFailures retries only those.
package sqsbatch

import (
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// Process calls handle for every record at once (they share one Lambda
// deadline) and lists the records for which it returned false.
func Process(ctx context.Context, ev events.SQSEvent, handle func(context.Context, events.SQSMessage) (ok bool)) events.SQSEventResponse {
	ok := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, r := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = handle(ctx, r)
		}()
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, good := range ok {
		if !good {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp
}
