// Package emf turns a component's log line into CloudWatch metrics with the
// embedded metric format (EMF): a JSON log line that carries an "_aws"
// member naming some of its fields as metrics. CloudWatch Logs extracts them
// as it ingests the line, so the bridge publishes metrics without a single
// PutMetricData call, and each metric stays on the log line of its job.
//
// The format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Namespace is the CloudWatch namespace of every bridge metric.
const Namespace = "ZeebeLambdaBridge"

// Dimension is the one dimension of every bridge metric: the component
// ("poller", "fulfiller", or the function's name for lambdakit).
const Dimension = "Component"

// Unit is a CloudWatch unit.
type Unit string

// Units the bridge uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one value on a log line.
type Metric struct {
	Name  string
	Value float64
	Unit  Unit
}

// N is a count metric.
func N(name string, v int) Metric { return Metric{Name: name, Value: float64(v), Unit: Count} }

// Ms is a duration metric in milliseconds.
func Ms(name string, d time.Duration) Metric {
	return Metric{Name: name, Value: float64(d) / float64(time.Millisecond), Unit: Milliseconds}
}

type directive struct {
	Timestamp         int64             `json:"Timestamp"`
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
}

type metricDirective struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []metricName `json:"Metrics"`
}

type metricName struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit,omitempty"`
}

// Attrs returns the key-value pairs that make a log/slog JSON line an EMF
// line for component at time now: the "_aws" directive, the dimension and
// one top-level field per metric. Append them to the line's other attributes:
//
//	log.Info("job published", emf.Attrs("poller", time.Now(), emf.N("JobsPublished", 1))...)
func Attrs(component string, now time.Time, metrics ...Metric) []any {
	d := directive{Timestamp: now.UnixMilli(), CloudWatchMetrics: []metricDirective{{
		Namespace: Namespace, Dimensions: [][]string{{Dimension}},
	}}}
	kv := make([]any, 0, 4+2*len(metrics))
	for _, m := range metrics {
		d.CloudWatchMetrics[0].Metrics = append(d.CloudWatchMetrics[0].Metrics, metricName{Name: m.Name, Unit: m.Unit})
	}
	kv = append(kv, "_aws", d, Dimension, component)
	for _, m := range metrics {
		kv = append(kv, m.Name, m.Value)
	}
	return kv
}

// ErrNotEMF is returned by Parse for a line that is not an EMF line.
var ErrNotEMF = errors.New("not an EMF line")

// Parse checks a log line against the EMF specification's rules that
// CloudWatch enforces (a millisecond timestamp, a namespace, dimension sets
// whose fields are strings on the line, metrics whose fields are numbers on
// the line, at most 100 metrics and 30 dimensions per directive) and returns
// its metric values. A JSON line without "_aws" is ErrNotEMF.
func Parse(line []byte) (values map[string]float64, err error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEMF, err)
	}
	raw, ok := fields["_aws"]
	if !ok {
		return nil, ErrNotEMF
	}
	var d directive
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("_aws: %w", err)
	}
	if d.Timestamp <= 0 {
		return nil, errors.New("_aws.Timestamp: missing or not positive epoch milliseconds")
	}
	if len(d.CloudWatchMetrics) == 0 {
		return nil, errors.New("_aws.CloudWatchMetrics: empty")
	}
	values = map[string]float64{}
	for _, md := range d.CloudWatchMetrics {
		if md.Namespace == "" {
			return nil, errors.New("_aws.CloudWatchMetrics: a directive without a Namespace")
		}
		if len(md.Metrics) == 0 || len(md.Metrics) > 100 {
			return nil, fmt.Errorf("_aws.CloudWatchMetrics: %d metrics in a directive, want 1 to 100", len(md.Metrics))
		}
		for _, set := range md.Dimensions {
			if len(set) > 30 {
				return nil, fmt.Errorf("dimension set of %d, at most 30", len(set))
			}
			for _, dim := range set {
				var s string
				if err := json.Unmarshal(fields[dim], &s); err != nil {
					return nil, fmt.Errorf("dimension %q: not a string field of the line", dim)
				}
			}
		}
		for _, m := range md.Metrics {
			var v float64
			if err := json.Unmarshal(fields[m.Name], &v); err != nil {
				return nil, fmt.Errorf("metric %q: not a number field of the line", m.Name)
			}
			values[m.Name] = v
		}
	}
	return values, nil
}

// Totals sums the metrics of every EMF line in log text (one JSON object a
// line), skipping lines that are not EMF and failing on one that claims to
// be but breaks the format.
func Totals(log []byte) (map[string]float64, error) {
	sum := map[string]float64{}
	for i, line := range bytes.Split(log, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		values, err := Parse(line)
		if errors.Is(err, ErrNotEMF) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		for k, v := range values {
			sum[k] += v
		}
	}
	return sum, nil
}
