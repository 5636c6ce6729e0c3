// Package tracing joins a job's hops (poller, function, fulfiller) into one
// trace: the W3C trace context travels in the SNS message attributes
// "traceparent" and "tracestate" of the job message and of its outcome, and
// each component starts an OpenTelemetry span for the job as a child of the
// context it received.
//
// Spans are exported through OTLP/HTTP when the standard OTEL_ variables
// name an endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); otherwise nothing is recorded. The
// exporter's headers may come from Secrets Manager
// (OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN), read once at start.
package tracing

import (
	"context"
	"fmt"
	"net/url"
	"path"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/envconfig"
)

// Scope is the instrumentation scope of the bridge's spans.
const Scope = "github.com/zeebe-lambda-bridge/zeebe-lambda-bridge"

// Attribute keys of a job's spans.
const (
	KeyJob             = attribute.Key("zeebe.job.key")
	KeyProcessInstance = attribute.Key("zeebe.process_instance.key")
	KeyElement         = attribute.Key("zeebe.element.id")
	KeyIdentifier      = attribute.Key("zeebe.lambda.identifier")
)

// JobAttributes are the attributes every span of a job carries.
func JobAttributes(jobKey, processInstanceKey int64, elementID, identifier string) []attribute.KeyValue {
	return []attribute.KeyValue{KeyJob.Int64(jobKey), KeyProcessInstance.Int64(processInstanceKey), KeyElement.String(elementID), KeyIdentifier.String(identifier)}
}

// W3C trace context only: two message attributes of SNS's ten.
var propagator = propagation.TraceContext{}

// Inject writes the span context of ctx into message attributes, creating
// the map when it is nil; without a valid span context it writes nothing.
func Inject(ctx context.Context, attrs map[string]string) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return attrs
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	propagator.Inject(ctx, propagation.MapCarrier(attrs))
	return attrs
}

// Extract returns ctx carrying the remote span context found in message
// attributes, if any.
func Extract(ctx context.Context, attrs map[string]string) context.Context {
	return propagator.Extract(ctx, propagation.MapCarrier(attrs))
}

// Provider is a TracerProvider that can be flushed before Lambda freezes the
// process.
type Provider interface {
	trace.TracerProvider
	ForceFlush(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

type noopProvider struct{ noop.TracerProvider }

func (noopProvider) ForceFlush(context.Context) error { return nil }
func (noopProvider) Shutdown(context.Context) error   { return nil }

// Noop records nothing.
func Noop() Provider { return noopProvider{} }

// FromEnv returns an OTLP/HTTP-exporting Provider when OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the exporter reads the other
// OTEL_EXPORTER_OTLP_ variables itself), else Noop. service names the
// component in the spans' resource (OTEL_SERVICE_NAME overrides it).
//
// With OTEL_EXPORTER_OTLP_HEADERS_SECRET_ARN set, the headers in that
// secret's string value are read through secrets, once, and sent with
// every export beside (and over) the plain OTEL_EXPORTER_OTLP_HEADERS; a
// secret that cannot be read or parsed is an ErrHeadersSecret error naming
// the variable. Every component that exports spans comes through here: the
// poller, the fulfiller and lambdakit (so every function and the runtime
// layer).
func FromEnv(ctx context.Context, getenv envconfig.Getenv, service string, secrets SecretsManagerAPI) (Provider, error) {
	if getenv(EnvEndpoint) == "" && getenv(EnvTracesEndpoint) == "" {
		return Noop(), nil
	}
	endpoint, err := endpointURL(getenv)
	if err != nil {
		return nil, err
	}
	headers, err := headersFromSecret(ctx, getenv, secrets)
	if err != nil {
		return nil, err
	}
	// The endpoint as getenv has it (the exporter reads the process
	// environment, which the mains' getenv is anyway).
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	if headers != nil {
		opts = append(opts, otlptracehttp.WithHeaders(headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter (OTEL_EXPORTER_OTLP_ENDPOINT): %w", err)
	}
	if name := getenv("OTEL_SERVICE_NAME"); name != "" {
		service = name
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource(service))), nil
}

// endpointURL is where spans go, as the exporter derives it: the traces
// endpoint as it is, or the general endpoint with /v1/traces appended.
func endpointURL(getenv envconfig.Getenv) (string, error) {
	name, v := EnvTracesEndpoint, getenv(EnvTracesEndpoint)
	if v == "" {
		name, v = EnvEndpoint, getenv(EnvEndpoint)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w %s=%q: want the collector's http(s) URL, e.g. http://collector:4318", envconfig.ErrInvalid, name, v)
	}
	if name == EnvEndpoint {
		u.Path = path.Join(u.Path, "/v1/traces")
	}
	return u.String(), nil
}

// Tracer is the bridge's tracer of p, or a no-op one for a nil p.
func Tracer(p trace.TracerProvider) trace.Tracer {
	if p == nil {
		return noop.NewTracerProvider().Tracer(Scope)
	}
	return p.Tracer(Scope)
}

// Flush exports what p holds, when it can (a Provider); Lambda may freeze
// the process as soon as the invocation returns.
func Flush(ctx context.Context, p trace.TracerProvider) {
	if f, ok := p.(interface{ ForceFlush(context.Context) error }); ok {
		_ = f.ForceFlush(ctx) // tracing must never fail a job
	}
}

// KeyOutcome is the outcome kind on the fulfiller's span.
const KeyOutcome = attribute.Key("zeebe.outcome")

// OutcomeAttributes are the attributes of the fulfiller's span: an outcome
// names its job and instance, not its element.
func OutcomeAttributes(jobKey, processInstanceKey int64, outcome string) []attribute.KeyValue {
	return []attribute.KeyValue{KeyJob.Int64(jobKey), KeyProcessInstance.Int64(processInstanceKey), KeyOutcome.String(outcome)}
}
