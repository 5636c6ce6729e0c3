package completion

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/snspub"
)

// FromEnv builds a Client that publishes through SNS, configured by the AWS
// SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL, credentials) and
// ZEEBE_FULFILLER_SNS_ARN, and with PAYLOAD_BUCKET (PAYLOAD_THRESHOLD) an S3
// store for outcomes above SNS's limit. Its role needs sns:Publish on that
// topic, and s3:PutObject on the bucket's outcomes/ prefix with a bucket.
func FromEnv(ctx context.Context, getenv envconfig.Getenv) (*Client, error) {
	topic, err := getenv.OutcomeTopic()
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration (AWS_REGION, AWS_ENDPOINT_URL, credentials): %w", err)
	}
	c := &Client{Publisher: snspub.New(sns.NewFromConfig(awsCfg)), TopicARN: topic}
	payloads, err := claimcheck.FromEnv(getenv, awsCfg)
	if err != nil {
		return nil, err
	}
	if payloads != nil {
		c.Payloads = payloads
	}
	return c, nil
}
