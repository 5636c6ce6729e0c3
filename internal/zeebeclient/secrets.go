package zeebeclient

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
)

// SecretsManagerAPI is the part of the Secrets Manager client used here.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManagerGetter reads secrets from AWS Secrets Manager.
type SecretsManagerGetter struct{ API SecretsManagerAPI }

// GetSecret returns the secret's string value.
func (g SecretsManagerGetter) GetSecret(ctx context.Context, arn string) (string, error) {
	out, err := g.API.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("get secret value: %w", err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("secret %s has no string value", arn)
	}
	return *out.SecretString, nil
}

// NewFromAWS builds a client from the environment, reading the client secret
// from Secrets Manager when ZEEBE_CLIENT_SECRET_ARN asks for it.
func NewFromAWS(ctx context.Context, getenv envconfig.Getenv, awsCfg aws.Config, opts ...Option) (*Client, error) {
	return New(ctx, getenv, append([]Option{WithSecrets(SecretsManagerGetter{API: secretsmanager.NewFromConfig(awsCfg)})}, opts...)...)
}
