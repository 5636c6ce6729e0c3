// Package bench measures the bridge on the local stack side by side with its
// baseline, a plain Go job worker on the same engine: the same process
// instances, the same concurrency, in the same run. The end-to-end package
// drives it (TestBench; `make bench` runs the long version).
//
// Times come from the engine's records (job created, completed, and the
// activation, which is the job's deadline less the job timeout) and from the
// components' own JSON log lines, which carry the time they were written
// (the poller's "job published", lambdakit's "outcome published"). Request
// counts come from LocalStack's request log; CPU from /proc.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zbc "github.com/camunda/zeebe/clients/go/v8/pkg/zbc"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/localzeebe/recordlog"
)

// Size is one configuration: Concurrency instances in flight at a time,
// Instances in all.
type Size struct {
	Concurrency, Instances int
}

func (s Size) String() string { return fmt.Sprintf("N=%d (%d instances)", s.Concurrency, s.Instances) }

// ParseSizes reads "1x20,20x200" (concurrency x instances).
func ParseSizes(s string) ([]Size, error) {
	var out []Size
	for _, part := range strings.Split(s, ",") {
		n, m, ok := strings.Cut(strings.TrimSpace(part), "x")
		c, err1 := strconv.Atoi(n)
		i, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || c < 1 || i < c {
			return nil, fmt.Errorf("size %q: want <concurrency>x<instances>, instances at least the concurrency", part)
		}
		out = append(out, Size{Concurrency: c, Instances: i})
	}
	return out, nil
}

// Job is what one job went through.
type Job struct {
	Key, Instance int64
	Created       time.Time
	Activated     time.Time // deadline - job timeout
	Published     time.Time // the poller's "job published" (bridge only)
	Outcome       time.Time // lambdakit's "outcome published" (bridge only)
	Completed     time.Time
	Completions   int // JOB COMPLETED records: 1, or the job was applied twice
	Runs          int // function runs (bridge only)
}

// Run is one configuration measured.
type Run struct {
	Name           string // "bridge", "peer", "direct", ...
	Size           Size
	Started, Ended time.Time
	Jobs           []Job
	Incomplete     []int64 // instances that did not complete
	CPU            map[string]time.Duration
	Requests       map[string]int
}

// Load keeps size.Concurrency instances of processID in flight, starting the
// next as one completes, until size.Instances have completed, and reads what
// their jobs went through from the record log. jobTimeout is the timeout the
// job was activated with (to tell the activation from the deadline).
func Load(ctx context.Context, zb zbc.Client, records *recordlog.Log, name, processID string, size Size, jobTimeout time.Duration) (Run, error) {
	run := Run{Name: name, Size: size, Started: time.Now()}
	var next atomic.Int64
	var mu sync.Mutex
	var piks []int64
	var firstErr error
	var wg sync.WaitGroup
	for range size.Concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(size.Instances) {
				// The engine answers when the instance has completed, so the
				// next one starts at once (polling the record log would add
				// its interval to every instance).
				rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
				resp, err := zb.NewCreateInstanceCommand().BPMNProcessId(processID).LatestVersion().WithResult().Send(rctx)
				cancel()
				if err == nil {
					mu.Lock()
					piks = append(piks, resp.GetProcessInstanceKey())
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	run.Ended = time.Now()
	// The records of the last completions may still be on their way to the log.
	for _, pik := range piks {
		if _, err := records.WaitEnd(ctx, pik); err != nil {
			return run, err
		}
	}
	for _, pik := range piks {
		recs, err := records.Instance(pik)
		if err != nil {
			return run, err
		}
		end := recordlog.Ending{}
		j := Job{Instance: pik}
		for _, r := range recs {
			switch {
			case r.Is("JOB", "CREATED"):
				j.Key, j.Created = r.Key, r.Time()
			case r.Is("JOB", "COMPLETED"):
				j.Completions++
				j.Completed = r.Time()
				j.Activated = time.UnixMilli(r.Value.Deadline).Add(-jobTimeout)
			case r.Is("PROCESS_INSTANCE", "ELEMENT_COMPLETED") && r.Value.BPMNElementType == "PROCESS":
				end.Completed = true
			}
		}
		if !end.Completed || j.Completions == 0 {
			run.Incomplete = append(run.Incomplete, pik)
			continue
		}
		run.Jobs = append(run.Jobs, j)
	}
	return run, firstErr
}

// Throughput is completed jobs per second over the run.
func (r Run) Throughput() float64 {
	return float64(len(r.Jobs)) / r.Ended.Sub(r.Started).Seconds()
}

// Percentile of the durations from the time from picks to the time to picks,
// over the jobs that have both.
func (r Run) Percentile(p float64, from, to func(Job) time.Time) time.Duration {
	var ds []time.Duration
	for _, j := range r.Jobs {
		a, b := from(j), to(j)
		if !a.IsZero() && !b.IsZero() {
			ds = append(ds, b.Sub(a))
		}
	}
	return percentile(ds, p)
}

// Latencies are the created → completed times of the run's jobs.
func (r Run) Latencies() []time.Duration {
	var ds []time.Duration
	for _, j := range r.Jobs {
		ds = append(ds, j.Completed.Sub(j.Created))
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	i := int(math.Ceil(p/100*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// Hop accessors for Percentile.
var (
	Created   = func(j Job) time.Time { return j.Created }
	Activated = func(j Job) time.Time { return j.Activated }
	Published = func(j Job) time.Time { return j.Published }
	Outcome   = func(j Job) time.Time { return j.Outcome }
	Completed = func(j Job) time.Time { return j.Completed }
)

// CountRequests counts LocalStack's request log lines ("AWS sns.PublishBatch
// => 200") by operation, between from and to. LocalStack logs the requests
// of clients, not its own event source mappings' SQS polls.
func CountRequests(path string, from, to time.Time) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read LocalStack's log: %w", err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 23 {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02T15:04:05.000", line[:23], time.UTC)
		if err != nil || at.Before(from) || at.After(to) {
			continue
		}
		switch {
		case strings.Contains(line, ": AWS "):
			op := line[strings.Index(line, ": AWS ")+6:]
			if i := strings.Index(op, " "); i > 0 {
				out[op[:i]]++
			}
		case strings.Contains(line, "/invocations/") && strings.Contains(line, "/response =>"):
			out["lambda invocations"]++
		}
	}
	return out, sc.Err()
}

// CPUTime is the user and system CPU time a process has used so far.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ")".
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
