package iampolicy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/iampolicy"
)

const (
	topic  = "arn:aws:sns:eu-west-1:123456789012:zeebe_jobs"
	poller = "arn:aws:iam::123456789012:role/zeebe-poller"
	admin  = "arn:aws:iam::123456789012:role/admin"
)

// A topic policy in the shape the bridge deploys: denials with exceptions.
const topicPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"OnlyThePollerPublishes","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sns:Publish","Resource":"` + topic + `",
  "Condition":{"ArnNotEquals":{"aws:PrincipalArn":["` + poller + `"]}}},
 {"Sid":"OnlyQueues","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sns:Subscribe","Resource":"` + topic + `",
  "Condition":{"StringNotLike":{"sns:Endpoint":"arn:aws:sqs:eu-west-1:123456789012:zeebe_*"}}},
 {"Sid":"Tagged","Effect":"Deny","Principal":{"AWS":"*"},"Action":"sns:GetTopicAttributes","Resource":"` + topic + `",
  "Condition":{"StringNotEquals":{"aws:PrincipalTag/zeebe-bridge":"zeebe-bridge"},"ArnNotEquals":{"aws:PrincipalArn":"` + admin + `"}}}
]}`

const everything = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`

func TestEvaluate(t *testing.T) {
	res, err := iampolicy.Parse(topicPolicy)
	require.NoError(t, err)
	all, err := iampolicy.Parse(everything)
	require.NoError(t, err)
	publish := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sns:Publish"],"Resource":["` + topic + `"]}]}`
	pub, err := iampolicy.Parse(publish)
	require.NoError(t, err)
	tests := []struct {
		name     string
		req      iampolicy.Request
		identity []iampolicy.Policy
		want     iampolicy.Decision
	}{
		{"the poller publishes with its identity policy", iampolicy.Request{PrincipalARN: poller, Action: "sns:Publish", Resource: topic}, []iampolicy.Policy{pub}, iampolicy.Allow},
		{"actions are case-insensitive", iampolicy.Request{PrincipalARN: poller, Action: "SNS:publish", Resource: topic}, []iampolicy.Policy{pub}, iampolicy.Allow},
		{"an administrator may not publish", iampolicy.Request{PrincipalARN: admin, Action: "sns:Publish", Resource: topic}, []iampolicy.Policy{all}, iampolicy.ExplicitDeny},
		{"no identity policy: implicit deny", iampolicy.Request{PrincipalARN: poller, Action: "sns:Publish", Resource: topic}, nil, iampolicy.ImplicitDeny},
		{"a queue of the bridge subscribes", iampolicy.Request{PrincipalARN: admin, Action: "sns:Subscribe", Resource: topic,
			Context: map[string][]string{"sns:Endpoint": {"arn:aws:sqs:eu-west-1:123456789012:zeebe_book-hotel"}}}, []iampolicy.Policy{all}, iampolicy.Allow},
		{"an https endpoint does not", iampolicy.Request{PrincipalARN: admin, Action: "sns:Subscribe", Resource: topic,
			Context: map[string][]string{"sns:Endpoint": {"https://example.com/"}}}, []iampolicy.Policy{all}, iampolicy.ExplicitDeny},
		{"a missing key makes a negated operator true", iampolicy.Request{PrincipalARN: admin, Action: "sns:Subscribe", Resource: topic}, []iampolicy.Policy{all}, iampolicy.ExplicitDeny},
		{"conditions are ANDed: the tag alone is an exception", iampolicy.Request{PrincipalARN: "arn:aws:iam::123456789012:role/fn",
			PrincipalTags: map[string]string{"zeebe-bridge": "zeebe-bridge"}, Action: "sns:GetTopicAttributes", Resource: topic}, []iampolicy.Policy{all}, iampolicy.Allow},
		{"and the trusted ARN alone too", iampolicy.Request{PrincipalARN: admin, Action: "sns:GetTopicAttributes", Resource: topic}, []iampolicy.Policy{all}, iampolicy.Allow},
		{"another bridge's tag is not", iampolicy.Request{PrincipalARN: "arn:aws:iam::123456789012:role/fn",
			PrincipalTags: map[string]string{"zeebe-bridge": "b-zeebe-bridge"}, Action: "sns:GetTopicAttributes", Resource: topic}, []iampolicy.Policy{all}, iampolicy.ExplicitDeny},
		{"a tag key is case-sensitive", iampolicy.Request{PrincipalARN: "arn:aws:iam::123456789012:role/fn",
			PrincipalTags: map[string]string{"Zeebe-Bridge": "zeebe-bridge"}, Action: "sns:GetTopicAttributes", Resource: topic}, []iampolicy.Policy{all}, iampolicy.ExplicitDeny},
		{"another resource is not covered", iampolicy.Request{PrincipalARN: admin, Action: "sns:Publish", Resource: topic + "2complete"}, []iampolicy.Policy{all}, iampolicy.Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := iampolicy.Evaluate(tt.req, tt.identity, []iampolicy.Policy{res})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResourcePolicyAllowsAService(t *testing.T) {
	queue := "arn:aws:sqs:eu-west-1:123456789012:zeebe_book-hotel"
	p, err := iampolicy.Parse(`{"Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + queue + `",
		"Condition":{"ArnEquals":{"aws:SourceArn":"` + topic + `"}}}]}`)
	require.NoError(t, err)
	for _, tt := range []struct {
		source string
		want   iampolicy.Decision
	}{{topic, iampolicy.Allow}, {topic + "2complete", iampolicy.ImplicitDeny}} {
		got, err := iampolicy.Evaluate(iampolicy.Request{Service: "sns.amazonaws.com", Action: "sqs:SendMessage", Resource: queue,
			Context: map[string][]string{"aws:SourceArn": {tt.source}}}, nil, []iampolicy.Policy{p})
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.source)
	}
}

func TestBoolAndIfExists(t *testing.T) {
	bucket := "arn:aws:s3:::payloads/jobs/x"
	p, err := iampolicy.Parse(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::payloads/*","Condition":{"Bool":{"aws:SecureTransport":false}}},
		{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:prefix":"secret/"}}}]}`)
	require.NoError(t, err)
	all, err := iampolicy.Parse(everything)
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		ctx  map[string][]string
		act  string
		want iampolicy.Decision
	}{
		{"plain HTTP is refused", map[string][]string{"aws:SecureTransport": {"false"}}, "s3:PutObject", iampolicy.ExplicitDeny},
		{"TLS passes", map[string][]string{"aws:SecureTransport": {"true"}}, "s3:PutObject", iampolicy.Allow},
		{"IfExists with the key absent is true", map[string][]string{"aws:SecureTransport": {"true"}}, "s3:GetObject", iampolicy.ExplicitDeny},
		{"IfExists with another value is false", map[string][]string{"aws:SecureTransport": {"true"}, "s3:prefix": {"jobs/"}}, "s3:GetObject", iampolicy.Allow},
	} {
		got, err := iampolicy.Evaluate(iampolicy.Request{PrincipalARN: admin, Action: tt.act, Resource: bucket, Context: tt.ctx}, []iampolicy.Policy{all}, []iampolicy.Policy{p})
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.name)
	}
}

func TestUnsupportedIsAnError(t *testing.T) {
	p, err := iampolicy.Parse(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}]}`)
	require.NoError(t, err)
	_, err = iampolicy.Evaluate(iampolicy.Request{PrincipalARN: admin, Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}, nil, []iampolicy.Policy{p})
	require.ErrorIs(t, err, iampolicy.ErrUnsupported)
	_, err = iampolicy.Parse(`{"Statement":[{"Effect":"Deny","Principal":{"Federated":"x"},"Action":"*","Resource":"*"}]}`)
	require.ErrorIs(t, err, iampolicy.ErrUnsupported)
}

func TestLike(t *testing.T) {
	for _, tt := range []struct {
		pattern, v string
		want       bool
	}{
		{"arn:aws:sqs:eu-west-1:1:zeebe_*_dlq", "arn:aws:sqs:eu-west-1:1:zeebe_book-hotel_dlq", true},
		{"arn:aws:sqs:eu-west-1:1:zeebe_*_dlq", "arn:aws:sqs:eu-west-1:1:b-zeebe_book-hotel_dlq", false},
		{"arn:aws:sqs:eu-west-1:1:zeebe_*_dlq", "arn:aws:sqs:eu-west-1:1:zeebe_book-hotel", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"a*b*c", "aXbYbZc", true},
	} {
		assert.Equal(t, tt.want, iampolicy.Like(tt.pattern, tt.v), "%s ~ %s", tt.pattern, tt.v)
	}
}
