//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/operator"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// TestAttachLayerToAnExistingPythonFunction: a Python function deployed by
// another tool (here a resource beside the module, as SAM or CDK would
// deploy it) with modules/zeebe-lambda asked to attach the bridge's layer
// (create_function = false, attach_runtime_proxy). `zeebe-bridge
// attach-layer` gives it the layer and the environment from the module's
// output, a second run changes nothing, and then a job message on its queue
// runs the unmodified handler and its outcome, sealed with the job's token,
// reaches the outcomes topic.
func TestAttachLayerToAnExistingPythonFunction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	awsCfg, err := tfstack.AWSConfig(ctx)
	require.NoError(t, err)

	name := fmt.Sprintf("existing-py-%d", time.Now().UnixNano())
	root := tfstack.Root{Dir: filepath.Join("localstack", "terraform", "existing-function"), Name: "existing-function-py", Log: tfLog(t),
		Vars: map[string]any{"localstack_endpoint": tfstack.Endpoint(), "function_name": name, "filename": distZip(t, "noop-py"),
			"runtime": "python3.12", "handler": "app.handler", "runtime_proxy_layer_filename": distZip(t, "zeebe-runtime-proxy")}}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		assert.NoError(t, root.Destroy(dctx), "terraform destroy")
	})
	out, err := root.Apply(ctx)
	require.NoError(t, err, "terraform apply of modules/zeebe-lambda with attach_runtime_proxy to an existing Python function")
	var att operator.Attachment
	var queueURL, outcomesURL string
	require.NoError(t, json.Unmarshal(out["runtime_proxy_attachment"], &att))
	require.NoError(t, json.Unmarshal(out["queue_url"], &queueURL))
	require.NoError(t, json.Unmarshal(out["outcomes_queue_url"], &outcomesURL))
	require.NotEmpty(t, att.LayerARN, "the module's runtime_proxy_attachment names the layer")

	fns := lambda.NewFromConfig(awsCfg)
	before, err := fns.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Empty(t, before.Layers, "the function starts without the layer")

	op := &operator.Operator{Out: operator.Outputs{Functions: map[string]operator.FunctionQueue{name: {QueueURL: queueURL, RuntimeProxy: &att}}},
		Clients: operator.NewClients(awsCfg, "")}
	res, err := op.AttachLayer(ctx, name, false)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, []string{att.LayerARN}, res.Layers)
	assert.Equal(t, att.Environment, res.Set, "every variable of the attachment was set")
	again, err := op.AttachLayer(ctx, name, false)
	require.NoError(t, err)
	assert.False(t, again.Changed, "a second attach-layer changes nothing")

	after, err := fns.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Len(t, after.Layers, 1)
	assert.Equal(t, att.LayerARN, aws.ToString(after.Layers[0].Arn))
	for k, v := range att.Environment {
		assert.Equal(t, v, after.Environment.Variables[k], "the function's %s", k)
	}
	assert.Equal(t, "/opt/zeebe-runtime-proxy", after.Environment.Variables[operator.ExecWrapperVar])

	// A job, as the poller would publish it, signed with a keyring of the test's own.
	key := jobtoken.Key{ID: "t1", Secret: "an-attach-layer-test-secret-of-32-bytes-or-more"}
	job := jobmsg.Job{Key: time.Now().UnixNano(), ProcessInstanceKey: 1, Deadline: time.Now().Add(2 * time.Minute).UnixMilli(),
		CustomHeaders: map[string]string{jobmsg.HeaderIdentifier: name}, Variables: json.RawMessage(`{"tripId":"attach"}`)}
	job.Token = jobtoken.Sign(key, job.Key, job.Deadline, name)
	msg, err := jobmsg.EncodeJob(job)
	require.NoError(t, err)
	q := sqs.NewFromConfig(awsCfg)
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(string(msg.Body))})
	require.NoError(t, err)

	var got *jobmsg.Outcome
	for deadline := time.Now().Add(90 * time.Second); got == nil && time.Now().Before(deadline); {
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(outcomesURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
		require.NoError(t, err)
		for _, m := range msgs.Messages {
			o, err := jobmsg.DecodeOutcome([]byte(aws.ToString(m.Body)))
			require.NoError(t, err, "the outcomes topic carried something that is not an outcome: %s", aws.ToString(m.Body))
			if o.JobKey == job.Key {
				got = &o
			}
		}
	}
	require.NotNil(t, got, "no outcome of job %d within 90 s: the function did not run behind the layer (its log group /aws/lambda/%s)", job.Key, name)
	assert.Equal(t, jobmsg.Complete, got.Outcome, "noop-py returns {}: the job completes (%s)", got.ErrorMessage)
	assert.NoError(t, jobtoken.Check(jobtoken.Keyring{Current: key}, *got, time.Now().UnixMilli()), "the layer sealed the outcome with the job's token")
}
