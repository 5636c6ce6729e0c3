// Package provision creates the bridge's messaging topology on LocalStack
// (or any AWS endpoint): the zeebe_jobs and zeebe_jobs2complete topics, the
// fulfiller's queue with its DLQ, and per function a queue zeebe_<fn>
// subscribed to zeebe_jobs with a filter on lambdaIdentifier and a redrive to
// zeebe_<fn>_dlq after one receive. Every call is idempotent: running it again
// converges the resources to the settings in package topology.
package provision

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/topology"
)

// DefaultEndpoint is where localstack/stack starts LocalStack.
const DefaultEndpoint = "http://127.0.0.1:4566"

// LocalConfig loads the AWS SDK default configuration for LocalStack: the
// endpoint from AWS_ENDPOINT_URL (default DefaultEndpoint), the region from
// AWS_REGION (default us-east-1) and LocalStack's dummy credentials unless
// real ones are configured.
func LocalConfig(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryMaxAttempts(5)}
	if getenv("AWS_ENDPOINT_URL") == "" {
		opts = append(opts, config.WithBaseEndpoint(DefaultEndpoint))
	}
	if getenv("AWS_REGION") == "" && getenv("AWS_DEFAULT_REGION") == "" {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if getenv("AWS_ACCESS_KEY_ID") == "" && getenv("AWS_PROFILE") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config for LocalStack: %w", err)
	}
	return cfg, nil
}

// Function is a Lambda to make Zeebe-ready.
type Function struct {
	Name    string
	Timeout time.Duration
}

// Queue is a provisioned SQS queue.
type Queue struct {
	Name string
	URL  string
	ARN  string
}

// FunctionResources are the resources that route jobs to one function.
type FunctionResources struct {
	Queue           Queue
	DLQ             Queue
	SubscriptionARN string
}

// Topology is what Apply provisioned.
type Topology struct {
	JobsTopicARN     string
	OutcomesTopicARN string
	OutcomesQueue    Queue
	OutcomesDLQ      Queue
	Functions        map[string]FunctionResources
}

// Provisioner creates resources with the given clients.
type Provisioner struct {
	SNS *sns.Client
	SQS *sqs.Client
}

// New returns a Provisioner for cfg.
func New(cfg aws.Config) *Provisioner {
	return &Provisioner{SNS: sns.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg)}
}

// Apply provisions the topics, the fulfiller queue and one queue per function.
func (p *Provisioner) Apply(ctx context.Context, fns []Function) (*Topology, error) {
	t := &Topology{Functions: map[string]FunctionResources{}}
	var err error
	if t.JobsTopicARN, err = p.topic(ctx, topology.JobsTopic); err != nil {
		return nil, err
	}
	if t.OutcomesTopicARN, err = p.topic(ctx, topology.OutcomesTopic); err != nil {
		return nil, err
	}
	t.OutcomesQueue, t.OutcomesDLQ, err = p.queueWithDLQ(ctx, topology.OutcomesQueue, topology.OutcomesDLQ,
		topology.OutcomesVisibilityTimeout(), topology.OutcomesMaxReceiveCount, t.OutcomesTopicARN)
	if err != nil {
		return nil, err
	}
	if _, err := p.subscribe(ctx, t.OutcomesTopicARN, t.OutcomesQueue.ARN, ""); err != nil {
		return nil, err
	}
	for _, fn := range fns {
		r, err := p.Function(ctx, t.JobsTopicARN, fn)
		if err != nil {
			return nil, err
		}
		t.Functions[fn.Name] = r
	}
	return t, nil
}

// Function provisions the queue, DLQ and filtered subscription of one function.
func (p *Provisioner) Function(ctx context.Context, jobsTopicARN string, fn Function) (FunctionResources, error) {
	if err := topology.ValidateFunction(fn.Name, fn.Timeout); err != nil {
		return FunctionResources{}, err
	}
	q, dlq, err := p.queueWithDLQ(ctx, topology.FunctionQueue(fn.Name), topology.FunctionDLQ(fn.Name),
		topology.VisibilityTimeout(fn.Timeout), topology.FunctionMaxReceiveCount, jobsTopicARN)
	if err != nil {
		return FunctionResources{}, err
	}
	sub, err := p.subscribe(ctx, jobsTopicARN, q.ARN, topology.FilterPolicy(fn.Name))
	if err != nil {
		return FunctionResources{}, err
	}
	return FunctionResources{Queue: q, DLQ: dlq, SubscriptionARN: sub}, nil
}

func (p *Provisioner) topic(ctx context.Context, name string) (string, error) {
	out, err := p.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create SNS topic %s: %w", name, err)
	}
	return aws.ToString(out.TopicArn), nil
}

func (p *Provisioner) queueWithDLQ(ctx context.Context, name, dlqName string, visibility time.Duration, maxReceive int, topicARN string) (Queue, Queue, error) {
	dlq, err := p.queue(ctx, dlqName, map[string]string{
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): seconds(topology.DLQRetention),
	})
	if err != nil {
		return Queue{}, Queue{}, err
	}
	q, err := p.queue(ctx, name, map[string]string{
		string(sqstypes.QueueAttributeNameVisibilityTimeout):      seconds(visibility),
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): seconds(topology.MessageRetention),
		string(sqstypes.QueueAttributeNameRedrivePolicy):          topology.RedrivePolicy(dlq.ARN, maxReceive),
	})
	if err != nil {
		return Queue{}, Queue{}, err
	}
	// The policy needs the queue's own ARN, so it is set after creation.
	_, err = p.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(q.URL),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): topology.QueuePolicy(q.ARN, topicARN)},
	})
	if err != nil {
		return Queue{}, Queue{}, fmt.Errorf("set policy of SQS queue %s: %w", name, err)
	}
	return q, dlq, nil
}

// queue creates the queue, or converges an existing one to attrs.
func (p *Provisioner) queue(ctx context.Context, name string, attrs map[string]string) (Queue, error) {
	out, err := p.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		// CreateQueue refuses different attributes on an existing queue: look it up and update it.
		got, gerr := p.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if gerr != nil {
			return Queue{}, fmt.Errorf("create SQS queue %s: %w", name, err)
		}
		if _, serr := p.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: got.QueueUrl, Attributes: attrs}); serr != nil {
			return Queue{}, fmt.Errorf("update SQS queue %s: %w", name, serr)
		}
		out = &sqs.CreateQueueOutput{QueueUrl: got.QueueUrl}
	}
	url := aws.ToString(out.QueueUrl)
	a, err := p.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return Queue{}, fmt.Errorf("read ARN of SQS queue %s: %w", name, err)
	}
	return Queue{Name: name, URL: url, ARN: a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]}, nil
}

// subscribe subscribes the queue to the topic with raw delivery and, when
// filter is set, a filter policy on the message attributes. SNS returns the
// existing subscription when the same one is requested again.
func (p *Provisioner) subscribe(ctx context.Context, topicARN, queueARN, filter string) (string, error) {
	attrs := map[string]string{"RawMessageDelivery": strconv.FormatBool(topology.RawMessageDelivery)}
	if filter != "" {
		attrs["FilterPolicy"] = filter
		attrs["FilterPolicyScope"] = topology.FilterPolicyScope
	}
	out, err := p.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:              aws.String(topicARN),
		Protocol:              aws.String("sqs"),
		Endpoint:              aws.String(queueARN),
		Attributes:            attrs,
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		return "", fmt.Errorf("subscribe %s to %s: %w", queueARN, topicARN, err)
	}
	return aws.ToString(out.SubscriptionArn), nil
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

func getenv(k string) string { return os.Getenv(k) }
