package jetstream

// Host is what the engine needs from the server that embeds it: the
// server package implements it, and tests use a fake. Messages reach the
// engine through in-process subscriptions and leave it through
// publishers; both take the same path as a client's (interest, queue
// groups, routes, leafs, no-responders).
type Host interface {
	// Subscribe registers an in-process subscription on subject (with
	// queue, when not empty). h runs on the publishing connection's
	// goroutine for every matching message; the slices are valid only
	// during the call, and h must not block (copy and hand off).
	// In-process subscriptions are local to the server: they are not
	// announced to routes or leaf nodes.
	Subscribe(subject, queue string, h MsgHandler) (Subscription, error)
	// NewPublisher returns a publisher for one goroutine.
	NewPublisher() Publisher
	// HasInterest reports whether anything would receive a message on
	// subject.
	HasInterest(subject string) bool
}

// ExportingHost is implemented by hosts whose in-process subscriptions
// can also be visible beyond the server. An engine with a Domain uses it
// for everything other servers must reach: $JS.<domain>.API.>, the
// domain's direct get and MSG.NEXT subjects, acks, flow control and the
// streams' subjects, so that over routes and leaf connections the
// domain's JetStream is used as the official server's is
// (jetstream.NewWithDomain in nats.go, --js-domain in the CLI).
type ExportingHost interface {
	// SubscribeExported is Subscribe for a subscription that is announced
	// to routes and leaf nodes like a client's, and that also receives
	// the messages arriving from them.
	SubscribeExported(subject, queue string, h MsgHandler) (Subscription, error)
}

// MsgHandler receives a message: hdr is the raw header block
// ("NATS/1.0\r\n...\r\n\r\n") or nil, data the payload.
type MsgHandler func(subject, reply string, hdr, data []byte)

// Subscription is an in-process subscription.
type Subscription interface {
	// Unsubscribe removes it; later calls do nothing.
	Unsubscribe()
}

// Publisher sends messages as a local client would. A Publisher is not
// safe for concurrent use: each goroutine that publishes has its own.
type Publisher interface {
	// Publish delivers a message (hdr may be nil). It does not block on
	// receivers: their bytes are queued as for any publish.
	Publish(subject, reply string, hdr, data []byte)
}

// BatchPublisher is a Publisher that can coalesce: between Hold and
// Flush, messages are queued for their receivers as usual, but each
// receiving connection's writer is woken once, at Flush, instead of once
// per message. A goroutine that delivers many messages at once (a
// consumer's pass, a stream's batch of PubAcks) saves a wakeup, and
// usually a write system call, per message.
type BatchPublisher interface {
	Publisher
	Hold()
	Flush()
}

// holdPublisher calls Hold on p if it can batch, and returns the function
// that ends the batch.
func holdPublisher(p Publisher) func() {
	if b, ok := p.(BatchPublisher); ok {
		b.Hold()
		return b.Flush
	}
	return func() {}
}
