// Package filterpolicy tells which Lambda identifiers the zeebe_jobs topic can
// deliver to. SNS silently drops a message that matches no subscription's
// filter policy, so a job for a function that is not deployed would vanish,
// time out and be activated again forever. The poller asks a Table first and
// turns such a job into an incident that names the identifier.
package filterpolicy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNS is the part of the SNS client a Table uses.
type SNS interface {
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, opts ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	GetSubscriptionAttributes(ctx context.Context, in *sns.GetSubscriptionAttributesInput, opts ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error)
}

// Defaults.
const (
	// DefaultMaxAge is how long a listing is trusted for identifiers it routes.
	DefaultMaxAge = time.Minute
	// DefaultMissRefresh is how soon a miss may list the subscriptions again:
	// a function deployed a moment ago is found within this time, and a
	// burst of jobs for a missing function costs one listing, not one each.
	DefaultMissRefresh = 2 * time.Second
)

// Table caches the routes of one topic. It is safe for concurrent use.
type Table struct {
	api         SNS
	topicARN    string
	attribute   string
	maxAge      time.Duration
	missRefresh time.Duration
	now         func() time.Time

	mu       sync.Mutex
	listed   time.Time
	snapshot routing
}

// routing is one listing: exact identifiers, prefixes, and whether some
// subscription takes everything (no filter on the attribute, or one this
// package cannot evaluate: then every job is published, as before).
type routing struct {
	exact    map[string]bool
	prefixes []string
	all      bool
}

func (r routing) routes(id string) bool {
	if r.all || r.exact[id] {
		return true
	}
	for _, p := range r.prefixes {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// New returns a Table for the topic, filtering on the message attribute attr
// (lambdaIdentifier).
func New(api SNS, topicARN, attr string) *Table {
	return &Table{api: api, topicARN: topicARN, attribute: attr, maxAge: DefaultMaxAge,
		missRefresh: DefaultMissRefresh, now: time.Now}
}

// WithTimes sets how long a listing is trusted and how soon a miss may list again.
func (t *Table) WithTimes(maxAge, missRefresh time.Duration) *Table {
	t.maxAge, t.missRefresh = maxAge, missRefresh
	return t
}

// Routable reports whether a message with the identifier reaches at least one
// subscription. An error (SNS unreachable, no permission to list) comes with
// true: the caller publishes as it would without the check.
func (t *Table) Routable(ctx context.Context, id string) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	age := t.now().Sub(t.listed)
	if !t.listed.IsZero() && age < t.maxAge && t.snapshot.routes(id) {
		return true, nil
	}
	if !t.listed.IsZero() && age < t.missRefresh {
		return t.snapshot.routes(id), nil
	}
	r, err := t.list(ctx)
	if err != nil {
		return true, fmt.Errorf("list the subscriptions of %s: %w", t.topicARN, err)
	}
	t.snapshot, t.listed = r, t.now()
	return r.routes(id), nil
}

func (t *Table) list(ctx context.Context) (routing, error) {
	r := routing{exact: map[string]bool{}}
	var token *string
	for {
		out, err := t.api.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(t.topicARN), NextToken: token})
		if err != nil {
			return routing{}, err
		}
		for _, s := range out.Subscriptions {
			arn := aws.ToString(s.SubscriptionArn)
			if arn == "" || arn == "PendingConfirmation" || arn == "Deleted" {
				continue
			}
			attrs, err := t.api.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn)})
			if err != nil {
				return routing{}, err
			}
			addPolicy(&r, attrs.Attributes["FilterPolicy"], attrs.Attributes["FilterPolicyScope"], t.attribute)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return r, nil
		}
		token = out.NextToken
	}
}

// addPolicy adds what one subscription's filter policy lets through.
func addPolicy(r *routing, policy, scope, attr string) {
	if strings.TrimSpace(policy) == "" || scope == "MessageBody" {
		r.all = true
		return
	}
	var p map[string]json.RawMessage
	if json.Unmarshal([]byte(policy), &p) != nil {
		r.all = true
		return
	}
	cond, ok := p[attr]
	if !ok {
		// A policy on other attributes only: it may pass any identifier.
		r.all = true
		return
	}
	var values []json.RawMessage
	if json.Unmarshal(cond, &values) != nil {
		r.all = true
		return
	}
	for _, v := range values {
		var s string
		if json.Unmarshal(v, &s) == nil {
			r.exact[s] = true
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) == nil {
			if raw, ok := m["prefix"]; ok && len(m) == 1 {
				var prefix string
				if json.Unmarshal(raw, &prefix) == nil {
					r.prefixes = append(r.prefixes, prefix)
					continue
				}
			}
		}
		// anything-but, numeric, exists, ...: not evaluated here; let it through.
		r.all = true
	}
}

// WithClock sets the table's clock (tests move it).
func (t *Table) WithClock(now func() time.Time) *Table {
	t.now = now
	return t
}
