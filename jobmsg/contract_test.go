package jobmsg_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/completion"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// schemas compiles the JSON Schemas of docs/contract.
func schemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	dir, err := filepath.Abs("../docs/contract")
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, name := range []string{"job", "outcome", "job-token", "completion-token", "claim-check-pointer"} {
		s, err := c.Compile("file://" + filepath.ToSlash(filepath.Join(dir, name+".schema.json")))
		require.NoError(t, err, name)
		out[name] = s
	}
	return out
}

func validate(t *testing.T, s *jsonschema.Schema, doc []byte) error {
	t.Helper()
	// jsonschema's decoder keeps numbers as json.Number: big integers stay integers.
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err, string(doc))
	return s.Validate(v)
}

type capture struct{ msgs []jobmsg.Message }

func (c *capture) Publish(_ context.Context, _ string, msgs []jobmsg.Message) []error {
	c.msgs = append(c.msgs, msgs...)
	return make([]error, len(msgs))
}

// TestMessagesMatchTheSchemas: what the Go code writes (job messages,
// outcomes of every kind sealed either way, asynchronous ones through a
// completion token, the completion token, the claim-check pointer) is valid
// under the schemas of docs/contract, and the schemas reject what readers
// reject.
func TestMessagesMatchTheSchemas(t *testing.T) {
	sch := schemas(t)
	key := jobtoken.Key{ID: "k1", Secret: strings.Repeat("s", 32)}
	deadline := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).UnixMilli()
	job := jobmsg.Job{Key: 9007199254740993, Type: "lambda", ProcessInstanceKey: 2251799813685250, BPMNProcessID: "trip",
		ProcessDefinitionKey: 2251799813685251, ProcessDefinitionVersion: 3, ElementID: "book-hotel", ElementInstanceKey: 2251799813685252,
		CustomHeaders: map[string]string{"identifier": "book-hotel", "timeout": "PT10M"}, Worker: "zeebe-poller", Retries: 3,
		Deadline: deadline, Variables: json.RawMessage(`{"id":9007199254740993,"city":"Zürich <&>"}`)}
	job.Token = jobtoken.Sign(key, job.Key, job.Deadline, job.Identifier())

	type sample struct {
		name, schema string
		doc          []byte
	}
	var samples []sample
	jm, err := jobmsg.EncodeJob(job)
	require.NoError(t, err)
	unsigned := job
	unsigned.Token, unsigned.Variables, unsigned.CustomHeaders = nil, nil, map[string]string{"identifier": "f"}
	um, err := jobmsg.EncodeJob(unsigned)
	require.NoError(t, err)
	samples = append(samples, sample{"job", "job", jm.Body}, sample{"unsigned job without variables", "job", um.Body},
		sample{"job token", "job-token", mustJSON(t, job.Token)})

	for _, o := range []jobmsg.Outcome{
		{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"booked":true,"n":1.5}`)},
		{Outcome: jobmsg.Complete, Variables: json.RawMessage(`{"booked":true}`), SealVersion: jobtoken.SealV2},
		{Outcome: jobmsg.Fail, ErrorMessage: "boom", Retries: 2, RetryBackoffMs: 1000},
		{Outcome: jobmsg.Error, ErrorCode: "FLIGHT_UNAVAILABLE", ErrorMessage: "no seats", Variables: json.RawMessage(`{}`)},
	} {
		sealed, err := jobtoken.Attach(job, o)
		require.NoError(t, err)
		m, err := jobmsg.EncodeOutcome(sealed)
		require.NoError(t, err)
		samples = append(samples, sample{"outcome " + string(o.Outcome), "outcome", m.Body})
		plain, err := jobtoken.Attach(unsigned, o)
		require.NoError(t, err)
		m, err = jobmsg.EncodeOutcome(plain)
		require.NoError(t, err)
		samples = append(samples, sample{"unsigned outcome " + string(o.Outcome), "outcome", m.Body})
	}

	tok, err := completion.NewToken(job)
	require.NoError(t, err)
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok.String(), "zlb1."))
	require.NoError(t, err)
	samples = append(samples, sample{"completion token", "completion-token", raw})
	pub := &capture{}
	c := &completion.Client{Publisher: pub, TopicARN: "arn:aws:sns:us-east-1:000000000000:zeebe_jobs2complete"}
	ctx := context.Background()
	require.NoError(t, c.Complete(ctx, tok.String(), map[string]any{"done": true}))
	require.NoError(t, c.Fail(ctx, tok.String(), "gave up", time.Second))
	require.NoError(t, c.ThrowError(ctx, tok.String(), "REJECTED", "no", nil))
	require.NoError(t, c.Heartbeat(ctx, tok.String(), 0))
	for _, m := range pub.msgs {
		samples = append(samples, sample{"asynchronous " + m.Attributes[jobmsg.AttrOutcome], "outcome", m.Body})
	}
	samples = append(samples, sample{"claim-check pointer", "claim-check-pointer",
		claimcheck.Pointer{Bucket: "zeebe-bridge-payloads", Key: claimcheck.Key(claimcheck.PrefixJobs, job.Identifier(), job.Key, job.Deadline)}.Body()})

	// The seal vectors' messages are outcomes too.
	vb, err := os.ReadFile("../internal/jobtoken/testdata/seal-vectors.json")
	require.NoError(t, err)
	var vf struct {
		Vectors []struct{ Name, Message string }
	}
	require.NoError(t, json.Unmarshal(vb, &vf))
	for _, v := range vf.Vectors {
		samples = append(samples, sample{"seal vector " + v.Name, "outcome", []byte(v.Message)})
	}

	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			assert.NoError(t, validate(t, sch[s.schema], s.doc), string(s.doc))
		})
	}

	for _, tt := range []struct{ name, schema, doc string }{
		{"job without identifier", "job", strings.Replace(string(jm.Body), `"identifier":"book-hotel",`, "", 1)},
		{"job of another contract version", "job", strings.Replace(string(jm.Body), `"v":1`, `"v":2`, 1)},
		{"outcome without jobKey", "outcome", `{"v":1,"outcome":"complete"}`},
		{"unknown outcome", "outcome", `{"v":1,"jobKey":1,"outcome":"done"}`},
		{"BPMN error without a code", "outcome", `{"v":1,"jobKey":1,"outcome":"error"}`},
		{"heartbeat that is not asynchronous", "outcome", `{"v":1,"jobKey":1,"outcome":"heartbeat","timeoutMs":1000}`},
		{"asynchronous without deadline", "outcome", `{"v":1,"jobKey":1,"outcome":"complete","async":true}`},
		{"token without seal", "outcome", `{"v":1,"jobKey":1,"outcome":"complete","token":` + string(mustJSON(t, job.Token)) + `}`},
		{"unknown seal version", "outcome", `{"v":1,"jobKey":1,"outcome":"complete","token":` + string(mustJSON(t, job.Token)) + `,"mac":"` + strings.Repeat("A", 43) + `","sealVersion":3}`},
		{"variables that are not an object", "outcome", `{"v":1,"jobKey":1,"outcome":"complete","variables":[1]}`},
		{"pointer of another class", "claim-check-pointer", `["x",{"s3BucketName":"b","s3Key":"jobs/f/1-2.json"}]`},
		{"pointer outside the bridge's prefixes", "claim-check-pointer", `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"secrets/x.json"}]`},
		{"completion token without activation", "completion-token", `{"k":1,"i":"f","r":3}`},
	} {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			assert.Error(t, validate(t, sch[tt.schema], []byte(tt.doc)))
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
