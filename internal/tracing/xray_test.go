package tracing_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/tracing"
)

// The bridge's W3C context wins; X-Ray's trace header is honoured where
// there is none, and only when sampled.
func TestExtractRecordHonoursXRay(t *testing.T) {
	const (
		xrayOn  = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
		xrayOff = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
		w3c     = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	)
	//lint:ignore SA1029 the key aws-lambda-go itself uses for the invocation's header
	invocation := context.WithValue(context.Background(), "x-amzn-trace-id", "Root=1-11111111-222222222222222222222222;Parent=3333333333333333;Sampled=1")
	tests := []struct {
		name      string
		ctx       context.Context
		attrs     map[string]string
		record    string
		wantTrace string
		wantSpan  string
	}{
		{"W3C from the message wins", invocation, map[string]string{"traceparent": w3c}, xrayOn, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"},
		{"the record's X-Ray header", invocation, nil, xrayOn, "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"},
		{"the invocation's X-Ray header", invocation, nil, "", "11111111222222222222222222222222", "3333333333333333"},
		{"an unsampled header is no parent", context.Background(), nil, xrayOff, "", ""},
		{"a malformed header is no parent", context.Background(), nil, "Root=1-xyz;Parent=1;Sampled=1", "", ""},
		{"nothing at all", context.Background(), nil, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.SpanContextFromContext(tracing.ExtractRecord(tt.ctx, tt.attrs, tt.record))
			if tt.wantTrace == "" {
				assert.False(t, sc.IsValid())
				return
			}
			assert.Equal(t, tt.wantTrace, sc.TraceID().String())
			assert.Equal(t, tt.wantSpan, sc.SpanID().String())
			assert.True(t, sc.IsRemote())
		})
	}
}
