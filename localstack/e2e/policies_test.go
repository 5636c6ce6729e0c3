//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/iampolicy"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/tfstack"
)

// principal is a role as IAM evaluates it: its ARN, its tags and its own
// (identity) policies.
type principal struct {
	arn      string
	tags     map[string]string
	identity []iampolicy.Policy
}

// roleOf reads a deployed function's role, its tags and its inline policies
// from LocalStack's IAM.
func roleOf(ctx context.Context, t *testing.T, awsCfg aws.Config, function string) principal {
	t.Helper()
	fn, err := lambda.NewFromConfig(awsCfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	require.NoError(t, err)
	p := principal{arn: aws.ToString(fn.Role), tags: map[string]string{}}
	name := p.arn[strings.LastIndex(p.arn, "/")+1:]
	c := iam.NewFromConfig(awsCfg)
	tags, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
	require.NoError(t, err)
	for _, tag := range tags.Tags {
		p.tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	require.NoError(t, err)
	for _, pn := range names.PolicyNames {
		rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		require.NoError(t, err)
		doc, err := url.QueryUnescape(aws.ToString(rp.PolicyDocument)) // IAM returns it URL-encoded
		require.NoError(t, err)
		pol, err := iampolicy.Parse(doc)
		require.NoError(t, err, doc)
		p.identity = append(p.identity, pol)
	}
	return p
}

// resourcePoliciesHold evaluates the resource policies the bridge deployed
// (read back from LocalStack, which stores them but does not enforce them)
// together with each role's own policies: nobody outside the bridge may
// subscribe to or publish on the jobs topic, publish outcomes, read the
// keyring or the payloads, whatever their own policies allow, and each of
// the bridge's roles may do what it needs and no more. otherBridgeFunction
// is a function of another bridge in the same account.
func resourcePoliciesHold(ctx context.Context, t *testing.T, awsCfg aws.Config, stack *tfstack.Stack, otherBridgeFunction string) {
	topicPolicy := func(arn string) iampolicy.Policy {
		out, err := sns.NewFromConfig(awsCfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
		require.NoError(t, err)
		p, err := iampolicy.Parse(out.Attributes["Policy"])
		require.NoError(t, err, out.Attributes["Policy"])
		return p
	}
	sec, err := secretsmanager.NewFromConfig(awsCfg).GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(stack.JobTokenSecretARN)})
	require.NoError(t, err)
	secretPolicy, err := iampolicy.Parse(aws.ToString(sec.ResourcePolicy))
	require.NoError(t, err)
	bp, err := s3.NewFromConfig(awsCfg).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(stack.PayloadBucket)})
	require.NoError(t, err)
	bucketPolicy, err := iampolicy.Parse(aws.ToString(bp.Policy))
	require.NoError(t, err)

	jobs, outcomes, secret := stack.JobsTopicARN, stack.OutcomesTopicARN, stack.JobTokenSecretARN
	policies := map[string]iampolicy.Policy{jobs: topicPolicy(jobs), outcomes: topicPolicy(outcomes), secret: secretPolicy}
	bucket := "arn:aws:s3:::" + stack.PayloadBucket
	object := func(key string) string { return bucket + "/" + key }
	account := strings.Split(jobs, ":")[4]
	region := strings.Split(jobs, ":")[3]
	queue := func(name string) string { return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, name) }

	everything, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	require.NoError(t, err)
	poller := roleOf(ctx, t, awsCfg, stack.PollerFunctionName)
	fulfiller := roleOf(ctx, t, awsCfg, stack.FulfillerFunctionName)
	returner := roleOf(ctx, t, awsCfg, stack.ReturnerFunctionName)
	noop := roleOf(ctx, t, awsCfg, stack.Functions["noop"].FunctionName)
	other := roleOf(ctx, t, awsCfg, otherBridgeFunction)
	otherAdmin := principal{arn: other.arn, tags: other.tags, identity: []iampolicy.Policy{everything}}
	outsider := principal{arn: fmt.Sprintf("arn:aws:iam::%s:role/administrator", account), identity: []iampolicy.Policy{everything}}
	require.Equal(t, "zeebe-bridge", noop.tags["zeebe-bridge"], "the module tagged the function's role")
	require.Equal(t, "b-zeebe-bridge", other.tags["zeebe-bridge"])

	tls := map[string][]string{"aws:SecureTransport": {"true"}}
	with := func(k, v string) map[string][]string {
		return map[string][]string{"aws:SecureTransport": {"true"}, k: {v}}
	}
	const allow, implicit, deny = iampolicy.Allow, iampolicy.ImplicitDeny, iampolicy.ExplicitDeny
	tests := []struct {
		who      string
		p        principal
		action   string
		resource string
		ctx      map[string][]string
		want     iampolicy.Decision
	}{
		// What each of the bridge's roles needs.
		{"poller", poller, "sns:Publish", jobs, tls, allow},
		{"poller", poller, "secretsmanager:GetSecretValue", secret, tls, allow},
		{"poller", poller, "s3:PutObject", object("jobs/noop/1"), tls, allow},
		{"poller", poller, "s3:PutObject", object("activations/1"), tls, allow},
		{"fulfiller", fulfiller, "secretsmanager:GetSecretValue", secret, tls, allow},
		{"fulfiller", fulfiller, "s3:GetObject", object("outcomes/noop/1"), tls, allow},
		{"fulfiller", fulfiller, "s3:PutObject", object("claims/1"), tls, allow},
		{"fulfiller", fulfiller, "s3:PutObject", object("leases/1"), tls, allow},
		{"returner", returner, "sns:Publish", outcomes, tls, allow},
		{"returner", returner, "s3:GetObject", object("jobs/noop/1"), tls, allow},
		{"returner", returner, "s3:PutObject", object("returns/1"), tls, allow},
		{"returner", returner, "sqs:ReceiveMessage", queue("zeebe_noop_dlq"), tls, allow},
		{"noop", noop, "sns:Publish", outcomes, tls, allow},
		{"noop", noop, "s3:GetObject", object("jobs/noop/1"), tls, allow},
		{"noop", noop, "s3:PutObject", object("outcomes/noop/1"), tls, allow},
		// And no more.
		{"poller", poller, "sns:Publish", outcomes, tls, implicit},
		{"fulfiller", fulfiller, "sns:Publish", jobs, tls, deny},
		{"returner", returner, "secretsmanager:GetSecretValue", secret, tls, deny},
		{"returner", returner, "sqs:ReceiveMessage", queue("b-zeebe_noop_dlq"), tls, implicit},
		{"noop", noop, "sns:Publish", jobs, tls, deny},
		{"noop", noop, "secretsmanager:GetSecretValue", secret, tls, deny},
		{"noop", noop, "s3:GetObject", object("jobs/echo/1"), tls, implicit},
		{"poller over plain HTTP", poller, "s3:PutObject", object("jobs/noop/1"), map[string][]string{"aws:SecureTransport": {"false"}}, deny},
		// Another bridge's function, even with every permission of its own.
		// Its own policy names only its own topic, and its tag is the
		// other bridge's: the outcomes topic denies it outright.
		{"b-noop", other, "sns:Publish", outcomes, tls, deny},
		{"b-noop with every permission", otherAdmin, "sns:Publish", outcomes, tls, deny},
		{"b-noop with every permission", otherAdmin, "s3:GetObject", object("jobs/noop/1"), tls, deny},
		// An administrator of the account outside the bridge.
		{"administrator", outsider, "sns:Publish", jobs, tls, deny},
		{"administrator", outsider, "sns:Subscribe", jobs, with("sns:Endpoint", "https://example.com/jobs"), deny},
		{"administrator", outsider, "sns:Subscribe", jobs, with("sns:Endpoint", queue("my-queue")), deny},
		{"administrator", outsider, "sns:Publish", outcomes, tls, deny},
		{"administrator", outsider, "sns:Subscribe", outcomes, with("sns:Endpoint", queue("my-queue")), deny},
		{"administrator", outsider, "secretsmanager:GetSecretValue", secret, tls, deny},
		{"administrator", outsider, "s3:GetObject", object("jobs/noop/1"), tls, deny},
		{"administrator", outsider, "s3:PutObject", object("outcomes/noop/1"), tls, deny},
		// What Terraform does when it adds a function: subscribe its queue.
		{"administrator", outsider, "sns:Subscribe", jobs, with("sns:Endpoint", queue("zeebe_new-function")), allow},
	}
	for _, tt := range tests {
		var res []iampolicy.Policy
		if p, ok := policies[tt.resource]; ok {
			res = []iampolicy.Policy{p}
		} else if strings.HasPrefix(tt.resource, bucket+"/") {
			res = []iampolicy.Policy{bucketPolicy}
		}
		if tt.action == "sns:Subscribe" {
			tt.ctx["sns:Protocol"] = []string{"sqs"}
			if strings.HasPrefix(tt.ctx["sns:Endpoint"][0], "https:") {
				tt.ctx["sns:Protocol"] = []string{"https"}
			}
		}
		got, err := iampolicy.Evaluate(iampolicy.Request{PrincipalARN: tt.p.arn, PrincipalTags: tt.p.tags, Action: tt.action, Resource: tt.resource, Context: tt.ctx},
			tt.p.identity, res)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "%s: %s on %s", tt.who, tt.action, tt.resource)
	}
}
