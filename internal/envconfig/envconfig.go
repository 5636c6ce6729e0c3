// Package envconfig reads bridge configuration from environment variables and
// reports a problem as one line that names the variable and what it wants.
package envconfig

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Error classes for configuration problems.
var (
	ErrMissing = errors.New("missing required environment variable")
	ErrInvalid = errors.New("invalid environment variable")
)

// Getenv looks a variable up; os.Getenv fits, and tests pass a map's lookup.
type Getenv func(string) string

// OutcomeTopicARN names the zeebe_jobs2complete topic, where lambdakit, the
// completion client and the returner publish outcomes.
const OutcomeTopicARN = "ZEEBE_FULFILLER_SNS_ARN"

// OutcomeTopic returns OutcomeTopicARN, which is required.
func (g Getenv) OutcomeTopic() (string, error) {
	return g.Required(OutcomeTopicARN, "the ARN of the zeebe_jobs2complete SNS topic")
}

// Map adapts a map to Getenv, for tests and examples.
func Map(m map[string]string) Getenv { return func(k string) string { return m[k] } }

// Required returns the variable's value or an ErrMissing error whose text
// names the variable and says what it should hold.
func (g Getenv) Required(name, what string) (string, error) {
	v := g(name)
	if v == "" {
		return "", fmt.Errorf("%w %s: set it to %s", ErrMissing, name, what)
	}
	return v, nil
}

// String returns the variable's value, or def when it is unset.
func (g Getenv) String(name, def string) string {
	if v := g(name); v != "" {
		return v
	}
	return def
}

// Duration parses a Go duration ("90s", "5m"), or returns def when unset.
func (g Getenv) Duration(name string, def time.Duration) (time.Duration, error) {
	v := g(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w %s=%q: want a positive duration such as 30s or 5m", ErrInvalid, name, v)
	}
	return d, nil
}

// Int parses a positive integer, or returns def when unset.
func (g Getenv) Int(name string, def int) (int, error) {
	v := g(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w %s=%q: want a positive integer", ErrInvalid, name, v)
	}
	return n, nil
}
