package tracing

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/net/http/httpguts"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
)

// Variables of the exporter's endpoint and headers. The OTel exporter reads
// all but the last itself; EnvHeadersSecretARN is the bridge's: OTLP headers usually
// carry an API key, which does not belong in a function's configuration.
const (
	EnvEndpoint         = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint   = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvHeaders          = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvTracesHeaders    = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvHeadersSecretARN = "OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN"
)

// ErrHeadersSecret classifies a headers secret that could not be read or
// parsed: the process cannot export what it promised to, so it stops.
var ErrHeadersSecret = errors.New("OTLP headers secret unusable")

// SecretsManagerAPI is the part of the Secrets Manager client that reads
// the headers secret.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// headersFromSecret returns the exporter's headers when EnvHeadersSecretARN
// is set: those of OTEL_EXPORTER_OTLP_HEADERS and
// OTEL_EXPORTER_OTLP_TRACES_HEADERS (the more specific winning, as in the
// exporter), then the secret's, which win over both. It returns nil, nil
// when the variable is unset, leaving the exporter to its own reading.
// The secret's value is never part of an error.
func headersFromSecret(ctx context.Context, getenv envconfig.Getenv, secrets SecretsManagerAPI) (map[string]string, error) {
	arn := getenv(EnvHeadersSecretARN)
	if arn == "" {
		return nil, nil
	}
	fix := "grant the function's role secretsmanager:GetSecretValue on it (module variable otel_headers_secret_arn does) and store the headers as its string value, key=value,key=value"
	if secrets == nil {
		return nil, fmt.Errorf("%w: %s=%s: no Secrets Manager client to read it with", ErrHeadersSecret, EnvHeadersSecretARN, arn)
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("%w: read %s=%s: %w; %s", ErrHeadersSecret, EnvHeadersSecretARN, arn, err, fix)
	}
	if out.SecretString == nil || strings.TrimSpace(*out.SecretString) == "" {
		return nil, fmt.Errorf("%w: %s=%s has no string value; %s", ErrHeadersSecret, EnvHeadersSecretARN, arn, fix)
	}
	fromSecret, err := parseHeaders(*out.SecretString)
	if err != nil {
		return nil, fmt.Errorf("%w: the value of %s=%s: %w", ErrHeadersSecret, EnvHeadersSecretARN, arn, err)
	}
	// WithHeaders replaces what the exporter read, so the plain ones are
	// read here too, and a malformed one is said, not dropped.
	headers, err := parseHeaders(getenv(EnvHeaders))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", envconfig.ErrInvalid, EnvHeaders, err)
	}
	traces, err := parseHeaders(getenv(EnvTracesHeaders))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", envconfig.ErrInvalid, EnvTracesHeaders, err)
	}
	maps.Copy(headers, traces)
	maps.Copy(headers, fromSecret)
	return headers, nil
}

// parseHeaders reads the OTEL_EXPORTER_OTLP_HEADERS format: comma-separated
// key=value pairs, values percent-encoded. Unlike the exporter, which skips
// a malformed pair, it refuses it, naming its position only: the value may
// be a credential.
func parseHeaders(s string) (map[string]string, error) {
	headers := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return headers, nil
	}
	for i, pair := range strings.Split(strings.TrimSpace(s), ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || !httpguts.ValidHeaderFieldName(k) {
			return nil, fmt.Errorf("pair %d is not key=value with a header name as key (want key=value,key=value)", i+1)
		}
		v, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("pair %d (%s): the value is not percent-encoded correctly", i+1, k)
		}
		v = strings.TrimSpace(v)
		if !httpguts.ValidHeaderFieldValue(v) {
			return nil, fmt.Errorf("pair %d (%s): the value holds characters a header cannot carry", i+1, k)
		}
		headers[k] = v
	}
	return headers, nil
}
