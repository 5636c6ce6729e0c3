package lambdakit

import (
	"context"
	"fmt"
	"time"

	"github.com/zeebe-lambda-bridge/zeebe-lambda-bridge/jobmsg"
)

// Outcomes of one invocation are published together: records whose handlers
// finish within outcomeLinger of the first are sent in one Publish call (one
// SNS PublishBatch of up to outcomeBatch messages) instead of one call each.
// The linger is short, so a slow handler in the batch never holds the others'
// outcomes back for long.
const (
	outcomeBatch  = 10
	outcomeLinger = 10 * time.Millisecond
)

// batcher collects the outcome messages of one invocation's records and
// publishes them in batches; each record waits for its own message's result.
type batcher struct {
	pub   jobmsg.Publisher
	topic string
	in    chan pending
	done  chan struct{}
}

type pending struct {
	ctx   context.Context
	msg   jobmsg.Message
	reply chan error
}

func newBatcher(pub jobmsg.Publisher, topic string) *batcher {
	b := &batcher{pub: pub, topic: topic, in: make(chan pending), done: make(chan struct{})}
	go b.run()
	return b
}

// publish sends one message with the next batch and returns its result.
func (b *batcher) publish(ctx context.Context, msg jobmsg.Message) error {
	reply := make(chan error, 1)
	b.in <- pending{ctx: ctx, msg: msg, reply: reply}
	return <-reply
}

// close ends the batcher once every record has had its answer.
func (b *batcher) close() {
	close(b.in)
	<-b.done
}

func (b *batcher) run() {
	defer close(b.done)
	for first := range b.in {
		batch := []pending{first}
		linger := time.NewTimer(outcomeLinger)
	collect:
		for len(batch) < outcomeBatch {
			select {
			case p, ok := <-b.in:
				if !ok {
					break collect
				}
				batch = append(batch, p)
			case <-linger.C:
				break collect
			}
		}
		linger.Stop()
		b.flush(batch)
	}
}

func (b *batcher) flush(batch []pending) {
	msgs := make([]jobmsg.Message, len(batch))
	for i, p := range batch {
		msgs[i] = p.msg
	}
	// Every record of an invocation shares its context.
	errs := b.pub.Publish(batch[0].ctx, b.topic, msgs)
	for i, p := range batch {
		if i < len(errs) {
			p.reply <- errs[i]
		} else {
			p.reply <- fmt.Errorf("publisher returned %d results for %d messages", len(errs), len(msgs))
		}
	}
}
