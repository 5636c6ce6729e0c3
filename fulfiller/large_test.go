package fulfiller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/camunda/zeebe/clients/go/v8/pkg/commands"
	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/fulfiller"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/activation/activationtest"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/jobtoken"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/zeebeclient"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// clientZeebe completes jobs as zeebeclient does up to the wire: it checks
// that the variables are an object, hands them to the Zeebe client's
// VariablesFromObject (which compacts them into the request) and marshals
// the request as gRPC does, holding it until it returns. It counts the
// commands in flight; with wait set, each waits until that many are in
// flight.
type clientZeebe struct {
	fakeZeebe
	mu       sync.Mutex
	cond     *sync.Cond
	inFlight int
	most     int
	wait     int
}

func newClientZeebe(wait int) *clientZeebe {
	z := &clientZeebe{wait: wait}
	z.cond = sync.NewCond(&z.mu)
	return z
}

func (z *clientZeebe) CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error {
	if !json.Valid(vars) {
		return fmt.Errorf("variables: %w", zeebeclient.ErrNotAnObject)
	}
	cmd, err := commands.NewCompleteJobCommand(nil, nil).JobKey(key).VariablesFromObject(vars)
	if err != nil {
		return err
	}
	wire, err := proto.Marshal(&pb.CompleteJobRequest{JobKey: key, Variables: string(vars)})
	if err != nil {
		return err
	}
	z.mu.Lock()
	z.inFlight++
	z.most = max(z.most, z.inFlight)
	z.cond.Broadcast()
	for z.inFlight < z.wait && ctx.Err() == nil {
		z.cond.Wait()
	}
	z.wait = 0 // once reached, the rest go through
	z.inFlight--
	z.mu.Unlock()
	runtime.KeepAlive(cmd)
	runtime.KeepAlive(wire)
	return z.add(call{Op: "complete", Key: key})
}

var largeKey = jobtoken.Key{ID: "k1", Secret: strings.Repeat("s", 32)}

// largeBatch returns a batch of n outcomes, each offloaded to S3 with
// variables of size bytes, and the handler that reads them.
func largeBatch(t testing.TB, n, size int, zb fulfiller.Zeebe) (*fulfiller.Handler, events.SQSEvent) {
	store := &claimcheck.Store{API: &activationtest.S3{}, Bucket: "payloads", Threshold: 1024}
	h := fulfiller.New(zb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.Payloads = store
	h.Verifier = jobtoken.Verifier{Keys: jobtoken.Static(jobtoken.Keyring{Current: largeKey})}
	vars := variables(size)
	deadline := time.Now().Add(time.Hour).UnixMilli()
	var ev events.SQSEvent
	for i := range n {
		key := int64(2251799813685249 + i)
		job := jobmsg.Job{Key: key, Deadline: deadline, CustomHeaders: map[string]string{"identifier": "big"}}
		job.Token = jobtoken.Sign(largeKey, key, deadline, "big")
		o, err := jobtoken.Attach(job, jobmsg.Outcome{V: 1, Outcome: jobmsg.Complete, Variables: vars})
		require.NoError(t, err)
		m, offloaded, err := claimcheck.EncodeOutcome(context.Background(), store, "big", key, deadline, o)
		require.NoError(t, err)
		require.Equal(t, size > 1024, offloaded)
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: string(m.Body), EventSource: "aws:sqs"})
	}
	return h, ev
}

// variables is a document of about size bytes: records of short strings,
// numbers of each kind, nested objects and arrays, as a function returns.
func variables(size int) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"records":[`)
	for i := 0; b.Len() < size-300; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"sku":"SKU-%06d","name":"Zoë's item \"%d\" <b>","price":%d.%02d,"qty":%d,"tags":["a","b%d"],"dims":{"w":%d,"h":%d.5}}`,
			i, i, i, i%1000, i%100, i%7, i%10, i%50, i%30)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestLargeOutcomesAtOnce: LargeAtOnce bounds how many offloaded outcomes
// a batch applies at once; outcomes small enough to travel in the message
// are not held back.
func TestLargeOutcomesAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name        string
		largeAtOnce int
		size        int // of each outcome's variables
		most        int // commands in flight at once
	}{
		{"no bound: the whole batch", 0, 2048, 10},
		{"two at once", 2, 2048, 2},
		{"one at once", 1, 2048, 1},
		{"small outcomes are not bounded", 1, 512, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			zb := newClientZeebe(tt.most)
			h, ev := largeBatch(t, 10, tt.size, zb)
			h.LargeAtOnce = tt.largeAtOnce
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			resp, err := h.Handle(ctx, ev)
			require.NoError(t, err)
			assert.Empty(t, resp.BatchItemFailures)
			assert.Len(t, zb.calls, 10, "every outcome applied")
			assert.Equal(t, tt.most, zb.most)
		})
	}
}

func TestLargeAtOnceFor(t *testing.T) {
	for _, tt := range []struct{ memoryMB, want int }{
		{0, 0}, {128, 2}, {256, 5}, {512, 10}, {10240, 10},
	} {
		assert.Equal(t, tt.want, fulfiller.LargeAtOnceFor(tt.memoryMB), "%d MB", tt.memoryMB)
	}
}

// peakHeap runs f and returns the most heap its objects took above what
// they took before, sampled as f runs: live data and garbage not yet
// collected both, as the function's memory holds them. gcPercent is GOGC
// meanwhile: 100 is Go's default; 5 collects so often that the peak is
// nearly all live data, as under a memory limit close to it.
func peakHeap(gcPercent int, f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		for {
			top = max(top, read())
			select {
			case <-stop:
				peak <- top
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	f()
	close(stop)
	return max(<-peak, base) - base
}

// BenchmarkLargeOutcomes measures the heap the fulfiller takes for a batch
// of 4 MiB outcomes offloaded to S3, read, checked (seal version 1) and
// handed to the Zeebe client (up to the wire): one alone, ten at once, and
// ten as a 128 MB function bounds them (docs/design.md, "Trust and size");
// peak-MiB under Go's default GOGC, live-MiB nearly without garbage:
//
//	go test ./fulfiller -run '^$' -bench LargeOutcomes -benchtime 3x
func BenchmarkLargeOutcomes(b *testing.B) {
	for _, bb := range []struct {
		name           string
		n, largeAtOnce int
	}{
		{"one", 1, 0},
		{"ten at once", 10, 0},
		{"ten, 128 MB bound", 10, fulfiller.LargeAtOnceFor(128)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			var peak, live uint64
			for b.Loop() {
				for _, gc := range []struct {
					percent int
					top     *uint64
				}{{100, &peak}, {5, &live}} {
					b.StopTimer()
					zb := newClientZeebe(0)
					h, ev := largeBatch(b, bb.n, 4<<20, zb)
					h.LargeAtOnce = bb.largeAtOnce
					b.StartTimer()
					var resp events.SQSEventResponse
					p := peakHeap(gc.percent, func() { resp, _ = h.Handle(context.Background(), ev) })
					require.Empty(b, resp.BatchItemFailures)
					*gc.top = max(*gc.top, p)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(live)/(1<<20), "live-MiB")
		})
	}
}
