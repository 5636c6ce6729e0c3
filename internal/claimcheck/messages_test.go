package claimcheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

func job(vars string) jobmsg.Job {
	return jobmsg.Job{Key: 42, Type: "lambda", Retries: 3, Deadline: 1000, ProcessInstanceKey: 7,
		CustomHeaders: map[string]string{jobmsg.HeaderIdentifier: "echo"}, Variables: json.RawMessage(vars)}
}

// failingStore refuses every write and read, as S3 does without permission.
type failingStore struct{}

var errDenied = errors.New("AccessDenied")

func (failingStore) Offload(context.Context, string, jobmsg.Message) (jobmsg.Message, bool, error) {
	return jobmsg.Message{}, false, errDenied
}
func (failingStore) Resolve(context.Context, []byte) ([]byte, *claimcheck.Pointer, error) {
	return nil, nil, errDenied
}

func TestEncodeJob(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", jobmsg.MaxMessageBytes) + `"}`
	store := &claimcheck.Store{API: &fakeS3{objects: map[string][]byte{}, sse: map[string]s3types.ServerSideEncryption{}}, Bucket: "payloads", Threshold: 1024}
	for _, tt := range []struct {
		name      string
		store     claimcheck.Offloader
		vars      string
		offloaded bool
		err       error // nil: no error
		notErr    error // the error must not be this
	}{
		{name: "small, no store", vars: `{"a":1}`},
		{name: "small, store", store: store, vars: `{"a":1}`},
		{name: "above the threshold", store: store, vars: `{"x":"` + strings.Repeat("a", 2000) + `"}`, offloaded: true},
		{name: "above SNS's limit, no store", vars: big, err: jobmsg.ErrTooLarge, notErr: claimcheck.ErrOffload},
		{name: "above SNS's limit, store", store: store, vars: big, offloaded: true},
		{name: "the store fails", store: failingStore{}, vars: `{"a":1}`, err: claimcheck.ErrOffload},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, offloaded, err := claimcheck.EncodeJob(context.Background(), tt.store, job(tt.vars))
			assert.Equal(t, tt.offloaded, offloaded)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				if tt.notErr != nil {
					assert.NotErrorIs(t, err, tt.notErr)
				}
				if errors.Is(tt.err, claimcheck.ErrOffload) {
					assert.ErrorIs(t, err, errDenied, "the store's own error is kept")
					assert.Equal(t, errDenied.Error(), err.Error(), "and its text")
				}
				return
			}
			require.NoError(t, err)
			if offloaded {
				p, ok := claimcheck.Parse(m.Body)
				require.True(t, ok)
				assert.Equal(t, "jobs/echo/42-1000.json", p.Key)
				return
			}
			j, err := jobmsg.DecodeJob(m.Body)
			require.NoError(t, err)
			assert.JSONEq(t, tt.vars, string(j.Variables))
		})
	}
}

func TestEncodeOutcomeKey(t *testing.T) {
	store := &claimcheck.Store{API: &fakeS3{objects: map[string][]byte{}, sse: map[string]s3types.ServerSideEncryption{}}, Bucket: "payloads", Threshold: 1024}
	o := jobmsg.Outcome{JobKey: 42, Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"x":"` + strings.Repeat("a", 2000) + `"}`)}
	m, offloaded, err := claimcheck.EncodeOutcome(context.Background(), store, "echo", 42, 1000, o)
	require.NoError(t, err)
	require.True(t, offloaded)
	p, ok := claimcheck.Parse(m.Body)
	require.True(t, ok)
	assert.Equal(t, "outcomes/echo/42-1000.json", p.Key, "under the function's own prefix")
}

func record(body string) events.SQSMessage { return events.SQSMessage{MessageId: "m", Body: body} }

func TestReadJob(t *testing.T) {
	ctx := context.Background()
	store := &claimcheck.Store{API: &fakeS3{objects: map[string][]byte{}, sse: map[string]s3types.ServerSideEncryption{}}, Bucket: "payloads", Threshold: 1024}
	inline, _, err := claimcheck.EncodeJob(ctx, nil, job(`{"a":1}`))
	require.NoError(t, err)
	offloaded, ok, err := claimcheck.EncodeJob(ctx, store, job(`{"x":"`+strings.Repeat("a", 2000)+`"}`))
	require.NoError(t, err)
	require.True(t, ok)
	gone := claimcheck.Pointer{Bucket: "payloads", Key: "jobs/echo/1-1.json"}.Body()
	envelope, err := json.Marshal(map[string]any{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:zeebe_jobs", "Message": string(inline.Body),
		"MessageAttributes": map[string]any{"lambdaIdentifier": map[string]string{"Type": "String", "Value": "echo"}}})
	require.NoError(t, err)

	for _, tt := range []struct {
		name    string
		body    string
		res     claimcheck.Resolver
		class   claimcheck.Unreadable
		payload bool
		keys    [2]int64
	}{
		{name: "inline", body: string(inline.Body), class: claimcheck.Readable},
		{name: "in an SNS envelope", body: string(envelope), class: claimcheck.Readable},
		{name: "offloaded", body: string(offloaded.Body), res: store, class: claimcheck.Readable, payload: true},
		{name: "offloaded, no store", body: string(offloaded.Body), class: claimcheck.NoStore},
		{name: "offloaded, gone", body: string(gone), res: store, class: claimcheck.PayloadGone},
		{name: "offloaded, store failing", body: string(offloaded.Body), res: failingStore{}, class: claimcheck.PayloadUnavailable},
		{name: "offloaded, another bucket", body: string(claimcheck.Pointer{Bucket: "someone-elses", Key: "jobs/echo/42-1000.json"}.Body()), res: store, class: claimcheck.PointerRefused},
		{name: "offloaded, outside jobs/", body: string(claimcheck.Pointer{Bucket: "payloads", Key: "leases/42/1000"}.Body()), res: store, class: claimcheck.PointerRefused},
		{name: "offloaded, outside jobs/, no store", body: string(claimcheck.Pointer{Bucket: "payloads", Key: "outcomes/echo/42-1000.json"}.Body()), class: claimcheck.PointerRefused},
		{name: "not JSON", body: "not json", class: claimcheck.Malformed},
		{name: "JSON, not a job", body: `{"v":1,"key":5,"processInstanceKey":6}`, class: claimcheck.Malformed, keys: [2]int64{5, 6}},
		{name: "a later contract version", body: `{"v":99,"key":5}`, class: claimcheck.UnsupportedVersion, keys: [2]int64{5, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := claimcheck.ReadJob(ctx, record(tt.body), tt.res)
			assert.Equal(t, tt.class, claimcheck.Classify(err), "error: %v", err)
			assert.Equal(t, tt.keys, [2]int64{in.JobKey, in.ProcessInstanceKey})
			assert.Equal(t, tt.payload, in.Payload != nil)
			if tt.class != claimcheck.Readable {
				return
			}
			assert.Equal(t, int64(42), in.Message.Key)
			assert.Equal(t, int64(7), in.Message.ProcessInstanceKey)
			assert.Equal(t, "echo", in.Message.Identifier())
		})
	}
}

// TestResolveReadsAtMostMaxPayloadBytes: a payload above the cap is refused,
// whether S3 reports its length or not.
func TestResolveReadsAtMostMaxPayloadBytes(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{}, sse: map[string]s3types.ServerSideEncryption{}}
	st := &claimcheck.Store{API: f, Bucket: "payloads"}
	for _, tt := range []struct {
		name  string
		bytes int
		err   error
	}{
		{"at the cap", claimcheck.MaxPayloadBytes, nil},
		{"above the cap", claimcheck.MaxPayloadBytes + 1, claimcheck.ErrRefused},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key := "jobs/echo/" + tt.name
			f.objects["payloads/"+key] = make([]byte, tt.bytes)
			payload, _, err := st.Resolve(context.Background(), claimcheck.Pointer{Bucket: "payloads", Key: key}.Body())
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Equal(t, claimcheck.PointerRefused, claimcheck.Classify(err))
				return
			}
			require.NoError(t, err)
			assert.Len(t, payload, tt.bytes)
		})
	}
}
