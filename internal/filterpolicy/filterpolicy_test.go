package filterpolicy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/filterpolicy"
)

// fakeSNS serves subscriptions with filter policies, two per page.
type fakeSNS struct {
	policies map[string]map[string]string // subscription ARN -> attributes
	order    []string
	lists    int
	err      error
}

func (f *fakeSNS) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	f.lists++
	if f.err != nil {
		return nil, f.err
	}
	start := 0
	if in.NextToken != nil {
		for i, a := range f.order {
			if a == *in.NextToken {
				start = i
			}
		}
	}
	out := &sns.ListSubscriptionsByTopicOutput{}
	for i := start; i < len(f.order) && i < start+2; i++ {
		out.Subscriptions = append(out.Subscriptions, snstypes.Subscription{SubscriptionArn: aws.String(f.order[i])})
	}
	if start+2 < len(f.order) {
		out.NextToken = aws.String(f.order[start+2])
	}
	return out, nil
}

func (f *fakeSNS) GetSubscriptionAttributes(_ context.Context, in *sns.GetSubscriptionAttributesInput, _ ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error) {
	return &sns.GetSubscriptionAttributesOutput{Attributes: f.policies[*in.SubscriptionArn]}, nil
}

func (f *fakeSNS) add(arn string, attrs map[string]string) {
	if f.policies == nil {
		f.policies = map[string]map[string]string{}
	}
	f.policies[arn] = attrs
	f.order = append(f.order, arn)
}

func filter(policy string) map[string]string { return map[string]string{"FilterPolicy": policy} }

func TestRoutable(t *testing.T) {
	tests := []struct {
		name string
		subs []map[string]string
		id   string
		want bool
	}{
		{"no subscription", nil, "book-hotel", false},
		{"exact match", []map[string]string{filter(`{"lambdaIdentifier":["book-hotel"]}`)}, "book-hotel", true},
		{"exact miss", []map[string]string{filter(`{"lambdaIdentifier":["book-hotel"]}`)}, "book-car", false},
		{"third page", []map[string]string{filter(`{"lambdaIdentifier":["a"]}`), filter(`{"lambdaIdentifier":["b"]}`), filter(`{"lambdaIdentifier":["c"]}`)}, "c", true},
		{"several values", []map[string]string{filter(`{"lambdaIdentifier":["a","b"]}`)}, "b", true},
		{"prefix", []map[string]string{filter(`{"lambdaIdentifier":[{"prefix":"book-"}]}`)}, "book-car", true},
		{"prefix miss", []map[string]string{filter(`{"lambdaIdentifier":[{"prefix":"book-"}]}`)}, "cancel-car", false},
		{"no filter takes everything", []map[string]string{{}}, "anything", true},
		{"filter on another attribute", []map[string]string{filter(`{"outcome":["complete"]}`)}, "anything", true},
		{"body scope is not evaluated", []map[string]string{{"FilterPolicy": `{"x":["y"]}`, "FilterPolicyScope": "MessageBody"}}, "anything", true},
		{"anything-but is not evaluated", []map[string]string{filter(`{"lambdaIdentifier":[{"anything-but":["x"]}]}`)}, "z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSNS{}
			for i, s := range tt.subs {
				f.add(string(rune('a'+i)), s)
			}
			ok, err := filterpolicy.New(f, "arn:topic", "lambdaIdentifier").Routable(context.Background(), tt.id)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
		})
	}
}

func TestCachingAndRefreshOnAMiss(t *testing.T) {
	f := &fakeSNS{}
	f.add("s1", filter(`{"lambdaIdentifier":["a"]}`))
	now := time.Unix(0, 0)
	tab := filterpolicy.New(f, "arn:topic", "lambdaIdentifier").WithTimes(time.Minute, 2*time.Second)
	tab = tab.WithClock(func() time.Time { return now })
	ctx := context.Background()

	ok, _ := tab.Routable(ctx, "a")
	assert.True(t, ok)
	ok, _ = tab.Routable(ctx, "a")
	assert.True(t, ok)
	assert.Equal(t, 1, f.lists, "a hit within the max age is served from the cache")

	ok, _ = tab.Routable(ctx, "b")
	assert.False(t, ok)
	assert.Equal(t, 1, f.lists, "a miss right after a listing does not list again")

	f.add("s2", filter(`{"lambdaIdentifier":["b"]}`)) // the function is deployed
	now = now.Add(3 * time.Second)
	ok, _ = tab.Routable(ctx, "b")
	assert.True(t, ok, "a miss after the refresh interval lists again and finds the new subscription")
	assert.Equal(t, 2, f.lists)

	now = now.Add(2 * time.Minute)
	ok, _ = tab.Routable(ctx, "a")
	assert.True(t, ok)
	assert.Equal(t, 3, f.lists, "an old listing is renewed")
}

func TestListingErrorsFailOpen(t *testing.T) {
	f := &fakeSNS{err: errors.New("AccessDenied")}
	ok, err := filterpolicy.New(f, "arn:topic", "lambdaIdentifier").Routable(context.Background(), "a")
	assert.True(t, ok, "without a listing the job is published as before")
	assert.ErrorContains(t, err, "AccessDenied")
}
