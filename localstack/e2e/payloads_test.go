//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// assertNoPayloadsLeft: the job's offloaded job message and outcome were
// deleted once served (lambdakit and the fulfiller delete them).
func assertNoPayloadsLeft(ctx context.Context, t *testing.T, cfg aws.Config, stack *tfstack.Stack, fn string, jobKey int64) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		left = nil
		for _, prefix := range []string{"jobs/", "outcomes/"} {
			out, err := s3Client(cfg).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(stack.PayloadBucket),
				Prefix: aws.String(fmt.Sprintf("%s%s/%d-", prefix, fn, jobKey))})
			require.NoError(t, err)
			for _, o := range out.Contents {
				left = append(left, aws.ToString(o.Key))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	assert.Empty(t, left, "payloads of job %d left in s3://%s", jobKey, stack.PayloadBucket)
}

// payloadBucketIsPrivateAndExpires reads what Terraform deployed: the
// bucket's lifecycle rule, and the roles' policies, evaluated for requests
// of one function on its own and on another function's payloads.
func payloadBucketIsPrivateAndExpires(ctx context.Context, t *testing.T, cfg aws.Config, stack *tfstack.Stack) {
	lc, err := s3Client(cfg).GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(stack.PayloadBucket)})
	require.NoError(t, err)
	prefixes := map[string]int32{}
	for _, r := range lc.Rules {
		if r.Status == "Enabled" && r.Filter != nil && r.Expiration != nil {
			prefixes[aws.ToString(r.Filter.Prefix)] = aws.ToInt32(r.Expiration.Days)
		}
	}
	assert.Equal(t, map[string]int32{"jobs/": 2, "outcomes/": 2, "leases/": 2, "claims/": 2, "activations/": 2, "returns/": 2}, prefixes, "what is not deleted after use expires")

	bucket := "arn:aws:s3:::" + stack.PayloadBucket
	policy := func(role string) []iamStatement {
		out, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("zeebe-bridge-" + role)})
		require.NoError(t, err, role)
		return parsePolicy(t, aws.ToString(out.PolicyDocument))
	}
	tests := []struct {
		role, action, resource string
		allowed                bool
	}{
		{"echo", "s3:GetObject", bucket + "/jobs/echo/1-2.json", true},
		{"echo", "s3:DeleteObject", bucket + "/jobs/echo/1-2.json", true},
		{"echo", "s3:PutObject", bucket + "/outcomes/echo/1-2.json", true},
		{"echo", "s3:GetObject", bucket + "/jobs/book-hotel/1-2.json", false},
		{"echo", "s3:GetObject", bucket + "/jobs/echo-mib/1-2.json", false},
		{"echo", "s3:PutObject", bucket + "/outcomes/book-hotel/1-2.json", false},
		{"echo", "s3:GetObject", bucket + "/outcomes/echo/1-2.json", false},
		{"echo", "s3:PutObject", bucket + "/jobs/echo/1-2.json", false},
		{"book-hotel", "s3:GetObject", bucket + "/jobs/echo/1-2.json", false},
		{stack.PollerFunctionName, "s3:PutObject", bucket + "/jobs/echo/1-2.json", true},
		{stack.PollerFunctionName, "s3:GetObject", bucket + "/outcomes/echo/1-2.json", false},
		{stack.FulfillerFunctionName, "s3:GetObject", bucket + "/outcomes/echo/1-2.json", true},
		{stack.FulfillerFunctionName, "s3:GetObject", bucket + "/jobs/echo/1-2.json", false},
		{stack.ReturnerFunctionName, "s3:GetObject", bucket + "/jobs/echo/1-2.json", true},
		{stack.ReturnerFunctionName, "s3:PutObject", bucket + "/jobs/echo/1-2.json", false},
		{stack.PollerFunctionName, "s3:PutObject", bucket + "/activations/1", true},
		{stack.PollerFunctionName, "s3:PutObject", bucket + "/claims/1/2", false},
		{stack.FulfillerFunctionName, "s3:PutObject", bucket + "/claims/1/2", true},
		{stack.FulfillerFunctionName, "s3:GetObject", bucket + "/activations/1", true},
		{stack.FulfillerFunctionName, "s3:PutObject", bucket + "/activations/1", false},
		{stack.ReturnerFunctionName, "s3:GetObject", bucket + "/activations/1", true},
		{stack.ReturnerFunctionName, "s3:PutObject", bucket + "/claims/1/2", true},
		{stack.ReturnerFunctionName, "s3:PutObject", bucket + "/returns/1", true},
		{"echo", "s3:PutObject", bucket + "/returns/1", false},
		{"echo", "s3:PutObject", bucket + "/claims/1/2", false},
		{"echo", "s3:GetObject", bucket + "/activations/1", false},
		{stack.ReturnerFunctionName, "secretsmanager:GetSecretValue", stack.JobTokenSecretARN, false},
		{stack.PollerFunctionName, "secretsmanager:GetSecretValue", stack.JobTokenSecretARN, true},
		{stack.FulfillerFunctionName, "secretsmanager:GetSecretValue", stack.JobTokenSecretARN, true},
		{"echo", "secretsmanager:GetSecretValue", stack.JobTokenSecretARN, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.allowed, allows(policy(tt.role), tt.action, tt.resource), "%s %s on %s", tt.role, tt.action, tt.resource)
	}
}

type iamStatement struct {
	Effect   string
	Action   []string
	Resource []string
}

// parsePolicy reads an IAM policy document (IAM returns it URL-encoded),
// with Action and Resource as a string or a list.
func parsePolicy(t *testing.T, doc string) []iamStatement {
	t.Helper()
	if strings.HasPrefix(doc, "%") {
		var err error
		doc, err = url.QueryUnescape(doc)
		require.NoError(t, err)
	}
	var p struct {
		Statement []struct {
			Effect   string
			Action   json.RawMessage
			Resource json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &p), doc)
	list := func(raw json.RawMessage) []string {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			return []string{one}
		}
		var many []string
		require.NoError(t, json.Unmarshal(raw, &many))
		return many
	}
	var out []iamStatement
	for _, s := range p.Statement {
		out = append(out, iamStatement{Effect: s.Effect, Action: list(s.Action), Resource: list(s.Resource)})
	}
	return out
}

// allows evaluates identity policy statements as IAM does for one request:
// an explicit Deny wins, else some Allow must match action and resource
// (with * and ? wildcards; no conditions are used by the bridge's roles).
func allows(stmts []iamStatement, action, resource string) bool {
	match := func(patterns []string, v string) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(v, "/", "\x00")); ok {
				return true
			}
		}
		return false
	}
	allowed := false
	for _, s := range stmts {
		if !match(s.Action, action) || !match(s.Resource, resource) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}
