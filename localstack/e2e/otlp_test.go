//go:build e2e

package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/zeebetest"
)

// collector is the OTLP/HTTP trace receiver the deployed functions export
// to (OTEL_EXPORTER_OTLP_ENDPOINT): what a user's collector would see.
type collector struct {
	mu    sync.Mutex
	spans []span
	url   string
	// headers counts the exports by the value of otlpHeaderName they
	// carried ("" for none).
	headers map[string]int
}

// The header every export carries: in a Secrets Manager secret the
// functions read at start (otel_headers_secret_arn), as an API key would be.
const (
	otlpHeaderName  = "X-Zeebe-Bridge-Test"
	otlpHeaderValue = "from-secrets-manager"
)

// span is what the tests read of an exported span.
type span struct {
	Name, TraceID, SpanID, Parent, Service string
	Attrs                                  map[string]string
}

// otlp is the package's collector; nil when E2E_TRACING=off (make bench
// measures the bridge as it runs without tracing).
var otlp *collector

func startCollector() (*collector, error) {
	if os.Getenv("E2E_TRACING") == "off" {
		return nil, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &collector{url: "http://" + l.Addr().String(), headers: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", c.receive)
	go func() { _ = http.Serve(l, mux) }()
	return c, nil
}

func (c *collector) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.headers[r.Header.Get(otlpHeaderName)]++
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				sp := span{Name: s.Name, TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
					Parent: hex.EncodeToString(s.ParentSpanId), Service: service, Attrs: map[string]string{}}
				for _, a := range s.Attributes {
					v := a.GetValue()
					if v.GetStringValue() != "" {
						sp.Attrs[a.Key] = v.GetStringValue()
					} else {
						sp.Attrs[a.Key] = fmt.Sprint(v.GetIntValue())
					}
				}
				c.spans = append(c.spans, sp)
			}
		}
	}
	b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

// exportsByHeader is how many exports carried each value of otlpHeaderName.
func (c *collector) exportsByHeader() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.headers {
		out[k] = v
	}
	return out
}

// ofJob returns the spans that carry the job key.
func (c *collector) ofJob(jobKey int64) map[string]span {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]span{}
	for _, s := range c.spans {
		if s.Attrs["zeebe.job.key"] == fmt.Sprint(jobKey) {
			out[s.Name] = s
		}
	}
	return out
}

// TestOneTraceThroughTheStack: a job's poller, function and fulfiller spans,
// exported by the deployed Lambdas through OTLP, form one trace, each the
// parent of the next, each with the job key.
func TestOneTraceThroughTheStack(t *testing.T) {
	t.Parallel()
	if otlp == nil {
		t.Skip("E2E_TRACING=off")
	}
	zb := zeebetest.Client(t)
	records := zeebetest.Records(t)
	ctx := context.Background()
	stack := deployed(t)
	require.Contains(t, stack.Functions, "echo")

	id := zeebetest.UniqueID("traced")
	zeebetest.Deploy(t, zb.Zeebe(), id+".bpmn", zeebetest.SingleTaskProcess(id, "Task_Echo", map[string]string{"identifier": "echo"}, 3))
	pik := zeebetest.Start(t, zb.Zeebe(), id, map[string]any{"traced": true})
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	end, err := records.WaitEnd(wctx, pik)
	require.NoError(t, err)
	require.True(t, end.Completed)
	recs, err := records.Instance(pik)
	require.NoError(t, err)
	var jobKey int64
	for _, r := range recs {
		if r.Is("JOB", "COMPLETED") {
			jobKey = r.Key
		}
	}
	require.NotZero(t, jobKey)

	var spans map[string]span
	require.Eventually(t, func() bool {
		spans = otlp.ofJob(jobKey)
		return len(spans) == 3
	}, time.Minute, 500*time.Millisecond, "the poller, function and fulfiller spans of job %d reach the collector", jobKey)
	poller, fn, fulfiller := spans["poller publish"], spans["lambdakit handle"], spans["fulfiller apply"]
	assert.Equal(t, poller.TraceID, fn.TraceID, "one trace")
	assert.Equal(t, poller.TraceID, fulfiller.TraceID, "one trace")
	assert.Equal(t, poller.SpanID, fn.Parent, "the function's span is the poller's child")
	assert.Equal(t, fn.SpanID, fulfiller.Parent, "the fulfiller's span is the function's child")
	assert.Equal(t, fmt.Sprint(pik), fn.Attrs["zeebe.process_instance.key"])
	assert.Equal(t, "Task_Echo", fn.Attrs["zeebe.element.id"])
	assert.Equal(t, "echo", fn.Attrs["zeebe.lambda.identifier"])
	assert.Equal(t, "complete", fulfiller.Attrs["zeebe.outcome"])
	assert.Equal(t, "zeebe-poller", poller.Service)
	assert.Equal(t, "echo", fn.Service)
	assert.Equal(t, "zeebe-fulfiller", fulfiller.Service)

	// Every export, from every kind of function, carried the header kept in
	// Secrets Manager: none came without it or with another value.
	byHeader := otlp.exportsByHeader()
	assert.Equal(t, []string{otlpHeaderValue}, slices.Collect(maps.Keys(byHeader)), "exports by %s: %v", otlpHeaderName, byHeader)
}
