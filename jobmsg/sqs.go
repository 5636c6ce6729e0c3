package jobmsg

import "github.com/aws/aws-lambda-go/events"

// UnwrapRecord is Unwrap for a record of a Lambda SQS event.
func UnwrapRecord(r events.SQSMessage) (body []byte, attrs map[string]string) {
	sqsAttrs := make(map[string]string, len(r.MessageAttributes))
	for k, a := range r.MessageAttributes {
		if a.StringValue != nil {
			sqsAttrs[k] = *a.StringValue
		}
	}
	return Unwrap(r.Body, sqsAttrs)
}
