package returner_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/claimcheck"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/internal/joblog"
	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/returner"
)

// fakePayloads holds offloaded job messages by key and records deletions.
type fakePayloads struct {
	objects map[string][]byte
	deleted []string
}

func (f *fakePayloads) Resolve(_ context.Context, body []byte) ([]byte, *claimcheck.Pointer, error) {
	p, ok := claimcheck.Parse(body)
	if !ok {
		return body, nil, nil
	}
	b, ok := f.objects[p.Key]
	if !ok {
		return nil, &p, claimcheck.ErrNotFound
	}
	return b, &p, nil
}

func (f *fakePayloads) Delete(_ context.Context, p claimcheck.Pointer) error {
	f.deleted = append(f.deleted, p.Key)
	return nil
}

// offloaded is rec with its job message moved to the fake store.
func offloaded(f *fakePayloads, rec events.SQSMessage, key string) events.SQSMessage {
	f.objects[key] = []byte(rec.Body)
	rec.Body = string(claimcheck.Pointer{Bucket: "payloads", Key: key}.Body())
	return rec
}

// TestReturnerDeletesThePayloadsItServed: once a job is handed back, or found
// past its deadline, nobody needs its offloaded message any more; one kept for
// a person stays.
func TestReturnerDeletesThePayloadsItServed(t *testing.T) {
	for _, tt := range []struct {
		name     string
		deadline time.Time
		want     returner.Verdict
		deleted  []string
	}{
		{name: "handed back", deadline: now.Add(time.Minute), want: returner.Returned, deleted: []string{"jobs/book-hotel/1-1.json"}},
		{name: "past its deadline", deadline: now.Add(-time.Minute), want: returner.Stale, deleted: []string{"jobs/book-hotel/1-1.json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakePayloads{objects: map[string][]byte{}}
			h := &returner.Handler{Publisher: &fakePublisher{}, OutcomeTopicARN: outcomes, Log: joblog.Discard(), Payloads: store, Now: func() time.Time { return now }}
			rec := offloaded(store, jobRecord(t, "m1", 1, 3, tt.deadline, "the function failed"), "jobs/book-hotel/1-1.json")
			assert.Equal(t, tt.want, h.Record(context.Background(), rec))
			assert.Equal(t, tt.deleted, store.deleted)
		})
	}
	t.Run("kept for a person", func(t *testing.T) {
		store := &fakePayloads{objects: map[string][]byte{"jobs/book-hotel/2-2.json": []byte("not a job message")}}
		h := &returner.Handler{Publisher: &fakePublisher{}, OutcomeTopicARN: outcomes, Log: joblog.Discard(), Payloads: store, Now: func() time.Time { return now }}
		rec := events.SQSMessage{MessageId: "m2", Body: string(claimcheck.Pointer{Bucket: "payloads", Key: "jobs/book-hotel/2-2.json"}.Body())}
		require.Equal(t, returner.Kept, h.Record(context.Background(), rec))
		assert.Empty(t, store.deleted)
	})
}
