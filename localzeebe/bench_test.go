package localzeebe_test

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/localzeebetest"
)

const oneTask = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="bench" isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition type="bench"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="End"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="T"/>
    <bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>`

// BenchmarkActivateComplete measures the engine through the unmodified Go
// client over gRPC, against a backlog of b.N one-task instances: W workers
// each activate up to B jobs (as the Go client's job worker does, 32 by
// default) and complete them one by one. It reports jobs/s and latency
// percentiles: with one worker and B=1 the activate→complete round trip,
// with batches the completion's round trip.
func BenchmarkActivateComplete(b *testing.B) {
	// As the engine binary runs (cmd/localzeebe sets it unless GOGC is set).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	for _, c := range []struct{ workers, batch int }{{1, 1}, {4, 32}, {8, 32}} {
		workers, batch := c.workers, c.batch
		b.Run(fmt.Sprintf("workers=%d/batch=%d", workers, batch), func(b *testing.B) {
			eng := localzeebetest.Start(b)
			zb := localzeebetest.Client(b, eng.Addr())
			ctx := context.Background()
			_, err := zb.NewDeployResourceCommand().AddResource([]byte(oneTask), "bench.bpmn").Send(ctx)
			require.NoError(b, err)
			// The backlog is created concurrently, outside the timed part.
			var wg sync.WaitGroup
			var next atomic.Int64
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						cmd, err := zb.NewCreateInstanceCommand().BPMNProcessId("bench").LatestVersion().VariablesFromString(`{"n":1}`)
						if err == nil {
							_, err = cmd.Send(ctx)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()

			var done atomic.Int64
			lat := make([][]time.Duration, workers)
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for done.Load() < int64(b.N) {
						t0 := time.Now()
						jobs, err := zb.NewActivateJobsCommand().JobType("bench").MaxJobsToActivate(int32(batch)).Timeout(time.Minute).WorkerName("bench").Send(ctx)
						if err != nil {
							b.Error(err)
							return
						}
						for _, j := range jobs {
							if batch > 1 {
								t0 = time.Now() // with batches, the completion's own round trip
							}
							if _, err := zb.NewCompleteJobCommand().JobKey(j.Key).Send(ctx); err != nil {
								b.Error(err)
								return
							}
							lat[w] = append(lat[w], time.Since(t0))
							done.Add(1)
						}
						if len(jobs) == 0 {
							time.Sleep(time.Millisecond)
						}
					}
				}(w)
			}
			wg.Wait()
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			if len(all) == 0 {
				return
			}
			pct := func(p float64) float64 {
				return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "jobs/s")
			// CPU time (engine, gRPC on both sides, and the client together)
			// depends far less on what else the machine runs than wall time.
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-us/job")
			name := "roundtrip"
			if batch > 1 {
				name = "complete"
			}
			b.ReportMetric(pct(0.50), name+"-p50-ms")
			b.ReportMetric(pct(0.99), name+"-p99-ms")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
