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
// on the bridge with the long-lived job-push poller (Push, when measured),
// on the peer (Peer, when measured: a job worker that calls the function
// synchronously with lambda:Invoke, the design of Camunda's Lambda connector)
// and on the direct worker.
type Pair struct {
	Size                       Size
	Bridge, Push, Peer, Direct Run
}

// bridges are the bridge runs of a pair that were measured.
func (p Pair) bridges() []Run {
	runs := []Run{p.Bridge}
	if len(p.Push.Jobs) > 0 {
		runs = append(runs, p.Push)
	}
	return runs
}

// runs are all the measured runs of a pair, the direct worker last.
func (p Pair) runs() []Run {
	runs := p.bridges()
	if len(p.Peer.Jobs) > 0 {
		runs = append(runs, p.Peer)
	}
	return append(runs, p.Direct)
}

// ratio is a/b, or "–" when there is no b to divide by.
func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3g", a/b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// Markdown renders the pairs as the report `make bench` writes and prints.
func Markdown(pairs []Pair, machine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Bridge and peer vs. direct worker, %s\n\n", machine)
	// Every figure beside its ratio to the direct worker of the same size in
	// the same run: the machine's load moves the absolute numbers, the
	// ratios much less.
	b.WriteString("| N | instances | run | jobs/s | × direct | p50 | × direct | p95 | × direct | p99 | × direct |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range pairs {
		di := p.Direct
		for _, r := range p.runs() {
			fmt.Fprintf(&b, "| %d | %d | %s | %.1f | %s |", p.Size.Concurrency, p.Size.Instances, r.Name, r.Throughput(), ratio(r.Throughput(), di.Throughput()))
			for _, q := range []float64{50, 95, 99} {
				d, base := r.Percentile(q, Created, Completed), di.Percentile(q, Created, Completed)
				fmt.Fprintf(&b, " %s | %s |", ms(d), ratio(float64(d), float64(base)))
			}
			b.WriteString("\n")
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
// line per run: the share of jobs done within each latency. extra are runs
// beside the pairs (the runtimes').
func Chart(path string, pairs []Pair, extra ...Run) error {
	p := plot.New()
	p.Title.Text = "Job latency, created to completed"
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "share of jobs"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	var all []Run
	for _, pair := range pairs {
		all = append(all, pair.runs()...)
	}
	i := 0
	for _, r := range append(all, extra...) {
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
		line.Color, line.Dashes = Style(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		// Load sets each run's size.
		p.Legend.Add(fmt.Sprintf("%s N=%d", r.Name, r.Size.Concurrency), line)
		i++
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// The chart's colours (Tableau 20, dark tones first) and dash patterns
// (solid first). Their lengths are coprime, so Style gives each of the
// first 140 series its own pair, and each of the first 20 its own colour
// (and neighbours different patterns).
var (
	palette = []color.RGBA{
		{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
		{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
		{174, 199, 232, 255}, {255, 187, 120, 255}, {152, 223, 138, 255}, {255, 152, 150, 255}, {197, 176, 213, 255},
		{196, 156, 148, 255}, {247, 182, 210, 255}, {199, 199, 199, 255}, {219, 219, 141, 255}, {158, 218, 229, 255},
	}
	dashes = [][]vg.Length{
		nil,
		{vg.Points(6), vg.Points(3)},
		{vg.Points(2), vg.Points(2)},
		{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
		{vg.Points(12), vg.Points(4)},
		{vg.Points(4), vg.Points(2), vg.Points(1), vg.Points(2), vg.Points(1), vg.Points(2)},
		{vg.Points(1), vg.Points(4)},
	}
)

// Style is the colour and dash pattern of the chart's i-th series.
func Style(i int) (color.RGBA, []vg.Length) {
	return palette[i%len(palette)], dashes[i%len(dashes)]
}
