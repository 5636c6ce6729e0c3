//go:build integration

package terraform_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanAnswersEveryCheck: terraform/checkov/scan (make scan) passes a
// directory whose checks all pass or are suppressed with a reason, in one
// line, and fails one with a failed check or a suppression without a reason,
// naming each. It runs checkov from its venv (installed on first use; make
// test runs make scan first), hence the integration tag.
func TestScanAnswersEveryCheck(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("checkov", "scan"))
	require.NoError(t, err)
	tests := []struct {
		name string
		tf   string
		ok   bool
		out  []string // the lines of standard output, with DIR for the directory scanned
	}{
		{
			name: "all passed",
			tf: `resource "aws_sqs_queue" "q" {
  name                    = "q"
  sqs_managed_sse_enabled = true
}
`,
			ok:  true,
			out: []string{"checkov 3.3.30 on DIR: 3 checks passed, 0 suppressed with a reason, none unanswered"},
		},
		{
			name: "suppressed with a reason",
			tf: `resource "aws_cloudwatch_log_group" "g" {
  #checkov:skip=CKV_AWS_158:the test's reason
  name              = "g"
  retention_in_days = 400
}
`,
			ok:  true,
			out: []string{"checkov 3.3.30 on DIR: 2 checks passed, 1 suppressed with a reason, none unanswered"},
		},
		{
			name: "failed, and suppressed without a reason",
			tf: `resource "aws_sqs_queue" "q" {
  #checkov:skip=CKV_AWS_27
  name = "q"
}
resource "aws_cloudwatch_log_group" "h" {
  name              = "h"
  retention_in_days = 30
}
`,
			ok: false,
			out: []string{
				"checkov: 3 unanswered check(s) in DIR; fix each, offer it as a variable, or suppress it in the resource with #checkov:skip=<id>:<one-line reason>",
				"DIR/main.tf:1 CKV_AWS_27 aws_sqs_queue.q (Ensure all data stored in the SQS queue is encrypted): suppressed without a reason",
				"DIR/main.tf:5 CKV_AWS_158 aws_cloudwatch_log_group.h (Ensure that CloudWatch Log Group is encrypted by KMS): failed",
				"DIR/main.tf:5 CKV_AWS_338 aws_cloudwatch_log_group.h (Ensure CloudWatch log groups retains logs for at least 1 year): failed",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tt.tf), 0o644))
			var stdout, stderr strings.Builder
			cmd := exec.CommandContext(t.Context(), script, dir)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if tt.ok {
				require.NoError(t, err, stderr.String())
			} else {
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit, stderr.String())
				assert.Equal(t, 1, exit.ExitCode())
			}
			want := strings.ReplaceAll(strings.Join(tt.out, "\n"), "DIR", dir)
			assert.Equal(t, want, strings.TrimRight(stdout.String(), "\n"))
		})
	}
}
