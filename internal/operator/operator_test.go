package operator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
