package tracing

import (
	"context"
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// lambdaTraceKey is the context key under which aws-lambda-go puts the
// invocation's X-Ray trace header (it also sets _X_AMZN_TRACE_ID).
const lambdaTraceKey = "x-amzn-trace-id"

// AttrSQSTraceHeader is the SQS system attribute that carries the X-Ray
// trace header of a message sent with active tracing.
const AttrSQSTraceHeader = "AWSTraceHeader"

// ExtractRecord returns ctx with the parent of a job's span: the W3C trace
// context of the message attributes when the bridge put one there, else the
// X-Ray trace of the SQS record (its AWSTraceHeader), else that of the
// Lambda invocation. X-Ray's is taken only when it is sampled (active
// tracing): Lambda sets an unsampled header on every invocation, and a
// parent-based sampler would drop the bridge's spans under it.
func ExtractRecord(ctx context.Context, attrs map[string]string, recordXRay string) context.Context {
	if c := Extract(ctx, attrs); trace.SpanContextFromContext(c).IsValid() {
		return c
	}
	if c, ok := fromXRay(ctx, recordXRay); ok {
		return c
	}
	return FromInvocation(ctx)
}

// FromInvocation returns ctx with the Lambda invocation's X-Ray trace as
// remote parent, when Lambda set a sampled one and ctx has no span context.
func FromInvocation(ctx context.Context) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	h, _ := ctx.Value(lambdaTraceKey).(string)
	if c, ok := fromXRay(ctx, h); ok {
		return c
	}
	return ctx
}

// fromXRay reads an X-Ray trace header,
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1":
// the root's epoch and unique parts are the W3C trace id, the parent is the
// span id. It reports false for a header that is absent, malformed or not
// sampled. (The OpenTelemetry contrib X-Ray propagator for Go is deprecated;
// the format is this small.)
func fromXRay(ctx context.Context, header string) (context.Context, bool) {
	var root, parent string
	sampled := false
	for _, part := range strings.Split(header, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		case "Sampled":
			sampled = v == "1"
		}
	}
	fields := strings.Split(root, "-")
	if !sampled || len(fields) != 3 || fields[0] != "1" || len(fields[1]) != 8 || len(fields[2]) != 24 {
		return ctx, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	if b, err := hex.DecodeString(fields[1] + fields[2]); err != nil || len(b) != 16 {
		return ctx, false
	} else {
		copy(tid[:], b)
	}
	if b, err := hex.DecodeString(parent); err != nil || len(b) != 8 {
		return ctx, false
	} else {
		copy(sid[:], b)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true})
	if !sc.IsValid() {
		return ctx, false
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc), true
}
