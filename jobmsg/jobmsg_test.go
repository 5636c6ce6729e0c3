package jobmsg_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

func sampleJob() jobmsg.Job {
	return jobmsg.Job{
		Key:                      2251799813685258,
		Type:                     "lambda",
		ProcessInstanceKey:       2251799813685251,
		BPMNProcessID:            "trip-booking",
		ProcessDefinitionKey:     2251799813685249,
		ProcessDefinitionVersion: 1,
		ElementID:                "Task_BookHotel",
		ElementInstanceKey:       2251799813685257,
		CustomHeaders:            map[string]string{"identifier": "book-hotel", "resultVariable": "hotel"},
		Worker:                   "poller",
		Retries:                  3,
		Deadline:                 time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC).UnixMilli(),
		TenantID:                 "<default>",
		Variables:                json.RawMessage(`{"tripId":"t-1","n":9007199254740993}`),
	}
}

func TestJobRoundTrip(t *testing.T) {
	j := sampleJob()
	m, err := jobmsg.EncodeJob(j)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"lambdaIdentifier": "book-hotel",
		"bpmnProcessId":    "trip-booking",
		"elementId":        "Task_BookHotel",
	}, m.Attributes)

	var wire map[string]any
	require.NoError(t, json.Unmarshal(m.Body, &wire))
	for _, k := range []string{"v", "key", "type", "processInstanceKey", "bpmnProcessId", "processDefinitionKey",
		"processDefinitionVersion", "elementId", "elementInstanceKey", "customHeaders", "worker", "retries",
		"deadline", "tenantId", "variables"} {
		assert.Contains(t, wire, k, "DESIGN.md §3 field %q", k)
	}
	assert.EqualValues(t, 1, wire["v"])

	got, err := jobmsg.DecodeJob(m.Body)
	require.NoError(t, err)
	j.V = 1
	assert.Equal(t, j, got)
	assert.Equal(t, "book-hotel", got.Identifier())
	assert.Equal(t, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), got.DeadlineTime().UTC())
	// 64-bit integers in variables survive untouched: they travel as raw JSON.
	assert.Contains(t, string(got.Variables), "9007199254740993")
}

func TestEncodeJobRejects(t *testing.T) {
	noID := sampleJob()
	noID.CustomHeaders = map[string]string{}
	_, err := jobmsg.EncodeJob(noID)
	require.ErrorIs(t, err, jobmsg.ErrMalformed)
	assert.Contains(t, err.Error(), `"identifier"`)

	big := sampleJob()
	big.Variables = json.RawMessage(fmt.Sprintf(`{"blob":%q}`, strings.Repeat("x", jobmsg.MaxMessageBytes)))
	_, err = jobmsg.EncodeJob(big)
	require.ErrorIs(t, err, jobmsg.ErrTooLarge)
	assert.Contains(t, err.Error(), "256 KiB")
}

func TestOutcomeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   jobmsg.Outcome
	}{
		{"complete", jobmsg.Outcome{JobKey: 1, ProcessInstanceKey: 2, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"a":1}`)}},
		{"fail", jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Fail, ErrorMessage: "boom", Retries: 2, RetryBackoffMs: 5000}},
		{"fail to zero", jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Fail, ErrorMessage: "boom", Retries: 0}},
		{"bpmn error", jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Error, ErrorCode: "FLIGHT_UNAVAILABLE", ErrorMessage: "no seats"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := jobmsg.EncodeOutcome(tt.in)
			require.NoError(t, err)
			assert.Equal(t, string(tt.in.Outcome), m.Attributes[jobmsg.AttrOutcome])
			got, err := jobmsg.DecodeOutcome(m.Body)
			require.NoError(t, err)
			tt.in.V = 1
			assert.Equal(t, tt.in, got)
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"not json", `hello`, jobmsg.ErrMalformed},
		{"no version", `{"jobKey":1,"outcome":"complete"}`, jobmsg.ErrMalformed},
		{"future version", `{"v":2,"jobKey":1,"outcome":"complete"}`, jobmsg.ErrUnsupportedVersion},
		{"unknown outcome", `{"v":1,"jobKey":1,"outcome":"maybe"}`, jobmsg.ErrMalformed},
		{"error without code", `{"v":1,"jobKey":1,"outcome":"error"}`, jobmsg.ErrMalformed},
		{"no job key", `{"v":1,"outcome":"complete"}`, jobmsg.ErrMalformed},
		{"wrong types", `{"v":1,"jobKey":"one","outcome":"complete"}`, jobmsg.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jobmsg.DecodeOutcome([]byte(tt.body))
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := jobmsg.DecodeJob([]byte(`{"v":7,"key":1}`))
	require.ErrorIs(t, err, jobmsg.ErrUnsupportedVersion)
	assert.Contains(t, err.Error(), "v=7")
	_, err = jobmsg.DecodeJob([]byte(`{"v":1,"key":1,"customHeaders":{}}`))
	require.ErrorIs(t, err, jobmsg.ErrMalformed)
}

// snsNotification is what SNS writes into an SQS queue when raw delivery is off.
func snsNotification(t *testing.T, m jobmsg.Message) string {
	t.Helper()
	attrs := map[string]any{}
	for k, v := range m.Attributes {
		attrs[k] = map[string]string{"Type": "String", "Value": v}
	}
	b, err := json.Marshal(map[string]any{
		"Type":              "Notification",
		"MessageId":         "6a1e3b4c-0000-4000-8000-000000000001",
		"TopicArn":          "arn:aws:sns:us-east-1:000000000000:zeebe_jobs",
		"Message":           string(m.Body),
		"Timestamp":         "2026-11-24T12:00:00.000Z",
		"SignatureVersion":  "1",
		"MessageAttributes": attrs,
	})
	require.NoError(t, err)
	return string(b)
}

// TestUnwrapBothDeliveriesInBothRecordShapes feeds the job message through SNS
// raw and non-raw delivery, inside a Lambda SQS event record (what an event
// source mapping passes a function) and inside an SQS ReceiveMessage result
// (what a long-lived consumer sees), and expects the same job every time.
func TestUnwrapBothDeliveriesInBothRecordShapes(t *testing.T) {
	m, err := jobmsg.EncodeJob(sampleJob())
	require.NoError(t, err)
	raw := string(m.Body)
	wrapped := snsNotification(t, m)

	sqsAttrs := func(style string) string {
		// Raw delivery turns SNS attributes into SQS message attributes.
		parts := []string{}
		for k, v := range m.Attributes {
			if style == "lambda" {
				parts = append(parts, fmt.Sprintf(`%q:{"stringValue":%q,"dataType":"String"}`, k, v))
			} else {
				parts = append(parts, fmt.Sprintf(`%q:{"StringValue":%q,"DataType":"String"}`, k, v))
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}

	tests := []struct {
		name      string
		body      string
		rawAttrs  bool
		shape     string
		wantAttrs bool
	}{
		{"lambda event, raw delivery", raw, true, "lambda", true},
		{"lambda event, SNS envelope", wrapped, false, "lambda", true},
		{"ReceiveMessage, raw delivery", raw, true, "api", true},
		{"ReceiveMessage, SNS envelope", wrapped, false, "api", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := "{}"
			if tt.rawAttrs {
				attrs = sqsAttrs(tt.shape)
			}
			var body []byte
			var gotAttrs map[string]string
			if tt.shape == "lambda" {
				event := fmt.Sprintf(`{"Records":[{"messageId":"m1","receiptHandle":"r","body":%q,"attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":%s,"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:zeebe_book-hotel","awsRegion":"us-east-1"}]}`, tt.body, attrs)
				var ev events.SQSEvent
				require.NoError(t, json.Unmarshal([]byte(event), &ev))
				body, gotAttrs = jobmsg.UnwrapRecord(ev.Records[0])
			} else {
				msg := fmt.Sprintf(`{"MessageId":"m1","ReceiptHandle":"r","Body":%q,"Attributes":{"ApproximateReceiveCount":"1"},"MessageAttributes":%s}`, tt.body, attrs)
				var apiMsg struct {
					Body              string
					MessageAttributes map[string]struct{ StringValue string }
				}
				require.NoError(t, json.Unmarshal([]byte(msg), &apiMsg))
				plain := map[string]string{}
				for k, v := range apiMsg.MessageAttributes {
					plain[k] = v.StringValue
				}
				body, gotAttrs = jobmsg.Unwrap(apiMsg.Body, plain)
			}
			job, err := jobmsg.DecodeJob(body)
			require.NoError(t, err)
			assert.Equal(t, sampleJob().Key, job.Key)
			assert.JSONEq(t, string(sampleJob().Variables), string(job.Variables))
			assert.Equal(t, m.Attributes, gotAttrs)
		})
	}
}

func TestUnwrapLeavesNonNotificationsAlone(t *testing.T) {
	// A JSON body that merely has a "Type" field is not an SNS envelope.
	body := `{"Type":"Notification","Message":"x"}`
	got, _ := jobmsg.Unwrap(body, nil)
	assert.Equal(t, body, string(got))
}

// TestPayloadsPassThroughUnescaped: text full of markup or "&" keeps its
// bytes, so a 200 KiB variable stays under the SNS limit and comes back as it
// went in, in a job and in an outcome.
func TestPayloadsPassThroughUnescaped(t *testing.T) {
	html := strings.Repeat(`<p class="x">a &amp; b</p>`, 200*1024/26)
	amps := strings.Repeat("&", 200*1024)
	for name, text := range map[string]string{"HTML": html, "ampersands": amps} {
		t.Run(name, func(t *testing.T) {
			vars, err := json.Marshal(map[string]string{"doc": text})
			require.NoError(t, err)
			vars = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(vars)))

			m, err := jobmsg.EncodeJob(jobmsg.Job{Key: 1, CustomHeaders: map[string]string{"identifier": "fn"}, Variables: vars})
			require.NoError(t, err, "a %d-byte variable fits in a job message", len(text))
			assert.Less(t, m.Size(), len(vars)+1024, "the message is the variables plus a small envelope")
			j, err := jobmsg.DecodeJob(m.Body)
			require.NoError(t, err)
			assert.Equal(t, string(vars), string(j.Variables))

			om, err := jobmsg.EncodeOutcome(jobmsg.Outcome{JobKey: 1, Outcome: jobmsg.Complete, Variables: vars})
			require.NoError(t, err)
			assert.Less(t, om.Size(), len(vars)+1024)
			o, err := jobmsg.DecodeOutcome(om.Body)
			require.NoError(t, err)
			assert.Equal(t, string(vars), string(o.Variables))
		})
	}
}

func TestPeekKeys(t *testing.T) {
	for _, tt := range []struct {
		body     string
		job, pik int64
	}{
		{`{"v":9,"key":7,"processInstanceKey":3}`, 7, 3},
		{`{"v":9,"jobKey":8,"processInstanceKey":4}`, 8, 4},
		{`not json`, 0, 0},
		{`{"key":"x"}`, 0, 0},
	} {
		job, pik := jobmsg.PeekKeys([]byte(tt.body))
		assert.Equal(t, tt.job, job, tt.body)
		assert.Equal(t, tt.pik, pik, tt.body)
	}
}
