package jetstream

import (
	"time"
)

// This file makes acknowledged acks durable. An ack sent with a reply
// subject (nats.go AckSync / DoubleAck) is answered only once the
// consumer's state that includes it is on disk: written and fsynced,
// with its directory, by the atomic replace (stream_meta.go
// writeFileAtomic). All the acks with replies handled in one pass of the
// consumer goroutine share one write; then their replies go out
// together. If the write fails the replies are not sent: the client
// times out and may ack again. Acks without a reply keep the periodic
// flush (consumerFlushEvery), and consumers that are not persisted
// (ephemerals, memory streams, mem_storage) answer at once.
//
// Creates and updates of persisted durables are answered after their
// config and their initial state are on disk, with the directory entries
// that lead to them (persistNew). The official server answers acks and
// creates before its consumer store is synced.

// replyAck answers an ack's reply subject now, or after the next persist
// when the consumer is persisted (c.mu held).
func (c *consumer) replyAck(reply string) {
	if c.dir == "" {
		c.pub.Publish(reply, "", nil, nil)
		return
	}
	c.ackReplies = append(c.ackReplies, reply)
}

// sendDurableAckReplies persists the state and then answers the waiting
// acks (c.mu held).
func (c *consumer) sendDurableAckReplies(now time.Time) {
	replies := c.ackReplies
	c.ackReplies = c.ackReplies[:0]
	defer clear(replies)
	if err := c.flushLocked(false); err != nil {
		c.m.e.log.Warn("JetStream ack replies withheld: consumer state not on disk",
			"stream", c.stream, "consumer", c.name, "acks", len(replies), "err", err)
		return
	}
	c.flushT = now
	for _, r := range replies {
		c.pub.Publish(r, "", nil, nil)
	}
}

// persistNew writes a new persisted consumer's initial state before the
// create is answered. writeFileAtomic makes the new directories
// (consumers/<name> and, for the stream's first consumer, consumers/)
// durable as it creates them (files.go mkdirDurable).
func (c *consumer) persistNew() error {
	if c.dir == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked(true)
}
