package bench_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localstack/bench"
)

func TestParseSizes(t *testing.T) {
	got, err := bench.ParseSizes("1x20, 20x200")
	require.NoError(t, err)
	assert.Equal(t, []bench.Size{{Concurrency: 1, Instances: 20}, {Concurrency: 20, Instances: 200}}, got)
	for _, bad := range []string{"", "20", "0x5", "10x5", "ax3"} {
		_, err := bench.ParseSizes(bad)
		assert.Error(t, err, bad)
	}
}

func TestPercentilesAndThroughput(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	run := bench.Run{Started: t0, Ended: t0.Add(10 * time.Second)}
	for i := 1; i <= 100; i++ {
		run.Jobs = append(run.Jobs, bench.Job{Created: t0, Completed: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	assert.Equal(t, 50*time.Millisecond, run.Percentile(50, bench.Created, bench.Completed))
	assert.Equal(t, 99*time.Millisecond, run.Percentile(99, bench.Created, bench.Completed))
	assert.Equal(t, time.Duration(0), run.Percentile(50, bench.Created, bench.Published), "no published times: nothing to say")
	assert.InDelta(t, 10.0, run.Throughput(), 0.001)
	assert.Len(t, run.Latencies(), 100)
}

func TestCountRequests(t *testing.T) {
	log := `2026-12-03T06:39:46.676  INFO --- [et.reactor-5] localstack.request.aws     : AWS sqs.StartMessageMoveTask => 200
2026-12-03T06:39:47.060  INFO --- [t.reactor-21] localstack.request.aws     : AWS sns.PublishBatch => 200
2026-12-03T06:39:47.128  INFO --- [t.reactor-37] localstack.request.http    : POST /_localstack_lambda/652785f5/invocations/32775c22/response => 202
2026-12-03T06:39:48.000  INFO --- [t.reactor-21] localstack.request.aws     : AWS sns.PublishBatch => 200
2026-12-03T06:40:00.000  INFO --- [t.reactor-21] localstack.request.aws     : AWS sns.PublishBatch => 200
`
	path := filepath.Join(t.TempDir(), "localstack.log")
	require.NoError(t, os.WriteFile(path, []byte(log), 0o600))
	from := time.Date(2026, 12, 3, 6, 39, 47, 0, time.UTC)
	got, err := bench.CountRequests(path, from, from.Add(2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"sns.PublishBatch": 2, "lambda invocations": 1}, got)
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	spin := time.Now()
	for time.Since(spin) < 50*time.Millisecond {
	}
	d, err := bench.CPUTime(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, d)
}

func TestReport(t *testing.T) {
	t0 := time.Now()
	run := func(name string) bench.Run {
		r := bench.Run{Name: name, Started: t0, Ended: t0.Add(time.Second), CPU: map[string]time.Duration{"poller": time.Millisecond}, Requests: map[string]int{"sns.PublishBatch": 1}}
		for i := range 10 {
			r.Jobs = append(r.Jobs, bench.Job{Created: t0, Activated: t0.Add(time.Millisecond), Published: t0.Add(2 * time.Millisecond),
				Outcome: t0.Add(time.Duration(10+i) * time.Millisecond), Completed: t0.Add(time.Duration(20+i) * time.Millisecond)})
		}
		return r
	}
	// The direct worker twice as fast, with half the latency.
	direct := run("direct")
	direct.Ended = t0.Add(500 * time.Millisecond)
	for i := range direct.Jobs {
		direct.Jobs[i].Completed = t0.Add(direct.Jobs[i].Completed.Sub(t0) / 2)
	}
	pairs := []bench.Pair{
		{Size: bench.Size{Concurrency: 1, Instances: 10}, Bridge: run("bridge"), Push: run("bridge, job push"), Peer: run("peer"), Direct: direct},
		{Size: bench.Size{Concurrency: 2, Instances: 10}, Bridge: run("bridge"), Direct: direct},
	}
	md := bench.Markdown(pairs, "test machine")
	assert.Contains(t, md, "| 1 | 10 | bridge | 10.0 | 0.5 | 24 ms | 2 | 29 ms | 2 | 29 ms | 2 |")
	assert.Contains(t, md, "| 1 | 10 | bridge, job push | 10.0 | 0.5 |")
	assert.Contains(t, md, "| 1 | 10 | peer | 10.0 | 0.5 | 24 ms | 2 |", "the peer beside the bridge")
	assert.Contains(t, md, "| 1 | 10 | direct | 20.0 | 1 | 12 ms | 1 | 14 ms | 1 | 14 ms | 1 |")
	assert.NotContains(t, md, "| 2 | 10 | peer", "no peer run measured at N=2")
	assert.Contains(t, md, "| 1 | bridge, job push | 1 ms | 1 ms | 2 ms | 12 ms | 10 ms |", "the hops of the push run")
	assert.NotContains(t, md, "| 2 | 10 | bridge, job push", "no push run measured at N=2")
	assert.Contains(t, md, "sns.PublishBatch")
	assert.True(t, strings.Contains(md, "0.10 ms"), md)
	png := filepath.Join(t.TempDir(), "latency.png")
	require.NoError(t, bench.Chart(png, pairs))
	b, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(b[:4]))
}

func TestStyleIsOwnPerSeries(t *testing.T) {
	seen := map[string]int{}
	for i := range 140 {
		c, d := bench.Style(i)
		key := fmt.Sprint(c, d)
		prev, dup := seen[key]
		require.False(t, dup, "series %d has the colour and dash of series %d", i, prev)
		seen[key] = i
	}
	colours := map[string]bool{}
	for i := range 20 {
		c, _ := bench.Style(i)
		colours[fmt.Sprint(c)] = true
	}
	assert.Len(t, colours, 20, "the first 20 series each have a colour of their own")
}

func TestParseFunctionLines(t *testing.T) {
	lines := []string{
		`{"time":"2026-12-06T05:30:00Z","level":"INFO","msg":"runtime answered","jobKey":11,"processInstanceKey":10,"runtimeMs":1.5}`,
		`{"time":"2026-12-06T05:30:00Z","level":"INFO","msg":"outcome published","jobKey":11,"processInstanceKey":10,"durationMs":3,"HandlerMs":3.25}`,
		`{"time":"2026-12-06T05:30:00Z","level":"INFO","msg":"outcome published","jobKey":12,"HandlerMs":0.5}`,
		`{"time":"2026-12-06T05:30:00Z","level":"INFO","msg":"outcome published","jobKey":12,"HandlerMs":0.75}`,
		`{"time":"2026-12-06T05:30:00Z","level":"INFO","msg":"job received","jobKey":13}`,
		`START RequestId: 1 Version: $LATEST`,
	}
	assert.Equal(t, map[int64]bench.FunctionTimes{
		11: {Outcomes: 1, HandlerMs: 3.25, Answers: 1, RuntimeMs: 1.5},
		12: {Outcomes: 2, HandlerMs: 0.75},
	}, bench.ParseFunctionLines(lines))
}

func TestRuntimesReport(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 5, 30, 0, 0, time.UTC)
	size := bench.Size{Concurrency: 2, Instances: 4}
	// Each runtime's jobs take base+i ms end to end; the function's times are
	// handler h+i, runtime r+i (r < 0: none, as for Go).
	mk := func(name string, base int, h, r float64) bench.RuntimeRun {
		rr := bench.RuntimeRun{Runtime: name, Run: bench.Run{Name: "bridge, " + name, Size: size, Started: t0, Ended: t0.Add(time.Second)}, Times: map[int64]bench.FunctionTimes{}}
		for i := range 4 {
			key := int64(100 + i)
			rr.Run.Jobs = append(rr.Run.Jobs, bench.Job{Key: key, Created: t0, Completed: t0.Add(time.Duration(base+i) * time.Millisecond)})
			ft := bench.FunctionTimes{Outcomes: 1, HandlerMs: h + float64(i)}
			if r >= 0 {
				ft.Answers, ft.RuntimeMs = 1, r+float64(i)
			}
			rr.Times[key] = ft
		}
		return rr
	}
	runs := []bench.RuntimeRun{mk("Go (lambdakit)", 100, 0.5, -1), mk("Python", 110, 4, 1), mk("Node.js", 130, 9, 2)}
	md := bench.RuntimesMarkdown(runs)
	assert.Contains(t, md, "N=2 (4 instances)")
	assert.Contains(t, md, "| Go (lambdakit) | 4.0 | 1 | 101 ms | +0 ms | 103 ms | +0 ms | 1.50 ms | – | – |")
	assert.Contains(t, md, "| Python | 4.0 | 1 | 111 ms | +10 ms | 113 ms | +10 ms | 5.00 ms | 2.00 ms | 3.00 ms (≤ 5 ms: met) |")
	assert.Contains(t, md, "| Node.js | 4.0 | 1 | 131 ms | +30 ms | 133 ms | +30 ms | 10.00 ms | 3.00 ms | 7.00 ms (≤ 5 ms: not met) |")
	assert.Empty(t, bench.RuntimesMarkdown(nil))
	png := filepath.Join(t.TempDir(), "latency.png")
	require.NoError(t, bench.Chart(png, nil, runs[0].Run, runs[1].Run))
}
