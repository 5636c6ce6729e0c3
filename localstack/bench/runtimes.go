package bench

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// RuntimeRun is the bridge measured with one function, the same no-op in
// one runtime: Go on lambdakit, or Python or Node.js behind the bridge's
// layer (cmd/zeebe-runtime-proxy).
type RuntimeRun struct {
	Runtime string // "Go (lambdakit)", "Python", "Node.js"
	Run     Run
	// Times are the function's own times per job, from its log lines.
	Times map[int64]FunctionTimes
}

// FunctionTimes are what a function's log lines say about one job.
type FunctionTimes struct {
	// Outcomes counts its "outcome published" lines: 1, or it ran twice.
	Outcomes int
	// HandlerMs is lambdakit's handler time on "outcome published": for a
	// script function, the layer and the runtime together.
	HandlerMs float64
	// Answers counts the layer's "runtime answered" lines; RuntimeMs is the
	// runtime's own time on it (none for Go).
	Answers   int
	RuntimeMs float64
}

// ParseFunctionLines reads the JSON log lines of a function's log group
// into times per job key; other lines are left out.
func ParseFunctionLines(lines []string) map[int64]FunctionTimes {
	out := map[int64]FunctionTimes{}
	for _, l := range lines {
		var e struct {
			Msg       string   `json:"msg"`
			JobKey    int64    `json:"jobKey"`
			HandlerMs *float64 `json:"HandlerMs"`
			RuntimeMs *float64 `json:"runtimeMs"`
		}
		if json.Unmarshal([]byte(l), &e) != nil || e.JobKey == 0 {
			continue
		}
		ft := out[e.JobKey]
		switch {
		case e.Msg == "outcome published" && e.HandlerMs != nil:
			ft.Outcomes++
			ft.HandlerMs = *e.HandlerMs
		case e.Msg == "runtime answered" && e.RuntimeMs != nil:
			ft.Answers++
			ft.RuntimeMs = *e.RuntimeMs
		default:
			continue
		}
		out[e.JobKey] = ft
	}
	return out
}

// percentileOf the values picked from the run's jobs that have times.
func (r RuntimeRun) percentileOf(p float64, pick func(FunctionTimes) (float64, bool)) (float64, bool) {
	var ds []time.Duration
	for _, j := range r.Run.Jobs {
		ft, ok := r.Times[j.Key]
		if !ok {
			continue
		}
		if v, ok := pick(ft); ok {
			ds = append(ds, time.Duration(v*float64(time.Millisecond)))
		}
	}
	if len(ds) == 0 {
		return 0, false
	}
	return float64(percentile(ds, p)) / float64(time.Millisecond), true
}

// HandlerP50 is the p50 of lambdakit's handler time.
func (r RuntimeRun) HandlerP50() (float64, bool) {
	return r.percentileOf(50, func(ft FunctionTimes) (float64, bool) { return ft.HandlerMs, ft.Outcomes > 0 })
}

// RuntimeP50 is the p50 of the runtime's own time (script functions only).
func (r RuntimeRun) RuntimeP50() (float64, bool) {
	return r.percentileOf(50, func(ft FunctionTimes) (float64, bool) { return ft.RuntimeMs, ft.Answers > 0 })
}

// LayerP50 is the p50 of the layer's own work per job: lambdakit's handler
// time less the runtime's (script functions only).
func (r RuntimeRun) LayerP50() (float64, bool) {
	return r.percentileOf(50, func(ft FunctionTimes) (float64, bool) {
		return ft.HandlerMs - ft.RuntimeMs, ft.Outcomes > 0 && ft.Answers > 0
	})
}

// LayerGoal is the most the layer may add per job at p50 (issue 19).
const LayerGoal = 5.0 // ms

func msOr(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", v)
}

// RuntimesMarkdown renders the runtime runs, the first one (Go) the
// baseline: latency beside its difference to Go's, and the function's time
// split into the layer's work and the runtime's.
func RuntimesMarkdown(runs []RuntimeRun) string {
	if len(runs) == 0 {
		return ""
	}
	var b strings.Builder
	base := runs[0].Run
	fmt.Fprintf(&b, "\n## The no-op in each runtime through the bridge, %s\n\n", base.Size)
	b.WriteString("Latency is job created → completed; the function's time is lambdakit's HandlerMs (\"outcome published\"), the runtime's is the layer's runtimeMs (\"runtime answered\": GET /next to the answer), the layer's own work the difference per job (goal ≤ 5 ms p50).\n\n")
	b.WriteString("| runtime | jobs/s | × Go | p50 | − Go | p95 | − Go | function p50 | runtime p50 | layer p50 |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		p50, p95 := r.Run.Percentile(50, Created, Completed), r.Run.Percentile(95, Created, Completed)
		h, hok := r.HandlerP50()
		rt, rok := r.RuntimeP50()
		layer, lok := r.LayerP50()
		ls := msOr(layer, lok)
		if lok {
			ls += map[bool]string{true: " (≤ 5 ms: met)", false: " (≤ 5 ms: not met)"}[layer <= LayerGoal]
		}
		fmt.Fprintf(&b, "| %s | %.1f | %s | %s | %+d ms | %s | %+d ms | %s | %s | %s |\n", r.Runtime, r.Run.Throughput(), ratio(r.Run.Throughput(), base.Throughput()),
			ms(p50), (p50 - base.Percentile(50, Created, Completed)).Milliseconds(), ms(p95), (p95 - base.Percentile(95, Created, Completed)).Milliseconds(),
			msOr(h, hok), msOr(rt, rok), ls)
	}
	return b.String()
}
