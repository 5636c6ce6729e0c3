package bench

import (
	"fmt"
	"image/color"
	"runtime"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Pair is one size, measured on the bridge with its scheduled Lambda poller,
// on the bridge with the long-lived job-push poller (Push, when measured)
// and on the direct worker.
type Pair struct {
	Size                 Size
	Bridge, Push, Direct Run
}

// bridges are the bridge runs of a pair that were measured.
func (p Pair) bridges() []Run {
	runs := []Run{p.Bridge}
	if len(p.Push.Jobs) > 0 {
		runs = append(runs, p.Push)
	}
	return runs
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// Markdown renders the pairs as the report `make bench` writes and prints.
func Markdown(pairs []Pair, machine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Bridge vs. direct worker, %s\n\n", machine)
	b.WriteString("| N | instances | run | jobs/s | ratio to direct | p50 / p95 / p99 |\n|---|---|---|---|---|---|\n")
	for _, p := range pairs {
		di := p.Direct
		for _, r := range append(p.bridges(), di) {
			fmt.Fprintf(&b, "| %d | %d | %s | %.1f | %.3f | %s / %s / %s |\n", p.Size.Concurrency, p.Size.Instances, r.Name,
				r.Throughput(), r.Throughput()/di.Throughput(),
				ms(r.Percentile(50, Created, Completed)), ms(r.Percentile(95, Created, Completed)), ms(r.Percentile(99, Created, Completed)))
		}
	}
	b.WriteString("\nWhere a bridge job's time goes (p50 of each hop):\n\n| N | run | created → activated | → published (poller) | created → published | → outcome published (function) | → applied (fulfiller) |\n|---|---|---|---|---|---|---|\n")
	for _, p := range pairs {
		for _, r := range p.bridges() {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", p.Size.Concurrency, r.Name, ms(r.Percentile(50, Created, Activated)), ms(r.Percentile(50, Activated, Published)),
				ms(r.Percentile(50, Created, Published)), ms(r.Percentile(50, Published, Outcome)), ms(r.Percentile(50, Outcome, Completed)))
		}
	}
	b.WriteString("\nRequests and CPU per bridge job (requests from LocalStack's request log, which does not show its own event source mappings' SQS polls; CPU of the processes alive at the start and the end of the run):\n\n")
	var ops []string
	seen := map[string]bool{}
	for _, p := range pairs {
		for op := range p.Bridge.Requests {
			if !seen[op] {
				seen[op] = true
				ops = append(ops, op)
			}
		}
	}
	sort.Strings(ops)
	comps := []string{"poller", "function", "fulfiller", "engine", "localstack"}
	b.WriteString("| N |")
	for _, op := range ops {
		fmt.Fprintf(&b, " %s |", op)
	}
	for _, c := range comps {
		fmt.Fprintf(&b, " CPU %s |", c)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(ops)+len(comps)) + "\n")
	for _, p := range pairs {
		n := float64(len(p.Bridge.Jobs))
		fmt.Fprintf(&b, "| %d |", p.Size.Concurrency)
		for _, op := range ops {
			fmt.Fprintf(&b, " %.2f |", float64(p.Bridge.Requests[op])/n)
		}
		for _, c := range comps {
			fmt.Fprintf(&b, " %.2f ms |", float64(p.Bridge.CPU[c])/float64(time.Millisecond)/n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Machine describes where the numbers come from.
func Machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, %s, measured %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"))
}

// Chart writes a PNG of the latency distributions (created → completed), one
// line per run: the share of jobs done within each latency.
func Chart(path string, pairs []Pair) error {
	p := plot.New()
	p.Title.Text = "Job latency, created to completed"
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "share of jobs"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	palette := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}}
	i := 0
	for _, pair := range pairs {
		for _, r := range append(pair.bridges(), pair.Direct) {
			lat := r.Latencies()
			if len(lat) == 0 {
				continue
			}
			pts := make(plotter.XYs, len(lat))
			for k, d := range lat {
				pts[k].X = max(float64(d)/float64(time.Millisecond), 0.1)
				pts[k].Y = float64(k+1) / float64(len(lat))
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			line.Color = palette[i%len(palette)]
			line.Width = vg.Points(1.5)
			if r.Name == "direct" {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(line)
			p.Legend.Add(fmt.Sprintf("%s N=%d", r.Name, pair.Size.Concurrency), line)
			i++
		}
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}
