package operator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/operator"
)

func TestReadOutputs(t *testing.T) {
	value := `{"outcomes_queue_url":"http://q/zeebe_jobs2complete","outcomes_dlq_url":"http://q/zeebe_jobs2complete_dlq",
		"functions":{"echo":{"queue_url":"http://q/zeebe_echo","dlq_url":"http://q/zeebe_echo_dlq"}}}`
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content, err string
	}{
		{"all outputs, as terraform output -json prints them", `{"zeebe_bridge":{"sensitive":false,"type":["object",{}],"value":` + value + `},"other":{"value":1}}`, ""},
		{"the output's value alone", value, ""},
		{"another root's outputs", `{"jobs_topic_arn":{"value":"arn"}}`, "lacks outcomes_queue_url"},
		{"not JSON", `nope`, "zeebe_bridge"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, "outputs.json")
			require.NoError(t, os.WriteFile(f, []byte(tt.content), 0o600))
			out, err := operator.ReadOutputs(context.Background(), "", f)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "http://q/zeebe_echo_dlq", out.Functions["echo"].DLQURL)
			assert.Equal(t, "http://q/zeebe_jobs2complete", out.OutcomesQueueURL)
		})
	}
	_, err := operator.ReadOutputs(context.Background(), "", "")
	assert.ErrorContains(t, err, "--tf-dir")
	_, err = operator.ReadOutputs(context.Background(), "", filepath.Join(dir, "missing.json"))
	assert.ErrorContains(t, err, "read the Terraform outputs")
}

// TestMaxTokenLifetime: rotate-key's bound comes from its flag, else the
// bridge's output, else the default; an output from a root that predates
// max_token_lifetime_seconds still reads.
func TestMaxTokenLifetime(t *testing.T) {
	withBound := `{"outcomes_queue_url":"u","outcomes_dlq_url":"d","max_token_lifetime_seconds":86400}`
	without := `{"outcomes_queue_url":"u","outcomes_dlq_url":"d"}`
	dir := t.TempDir()
	for _, tt := range []struct {
		name    string
		outputs string
		flag    time.Duration
		want    time.Duration
	}{
		{"the flag wins", withBound, 3 * time.Hour, 3 * time.Hour},
		{"the bridge's output", withBound, 0, 24 * time.Hour},
		{"an older root's output: the default", without, 0, 7 * 24 * time.Hour},
		{"an older root's output and the flag", without, 30 * time.Minute, 30 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, "outputs.json")
			require.NoError(t, os.WriteFile(f, []byte(tt.outputs), 0o600))
			out, err := operator.ReadOutputs(context.Background(), "", f)
			require.NoError(t, err)
			op := operator.Operator{Out: out}
			assert.Equal(t, tt.want, op.MaxTokenLifetime(tt.flag))
		})
	}
	assert.Equal(t, jobtoken.DefaultMaxTokenLifetime, 7*24*time.Hour, "modules/bridge's max_token_lifetime_seconds default is the same week")
}
