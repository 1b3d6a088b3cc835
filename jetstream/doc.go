// Package jetstream is Fern's JetStream engine for a single server:
// streams (this side) and, attached through the Consumers interface,
// consumers.
//
// # Embedding
//
// The engine talks to the server only through Host (host.go): it
// receives messages through in-process subscriptions and answers through
// Publishers, so API requests, publishes to stream subjects and replies
// take the same path as any client's. New(Config, Host) checks the
// configuration; Start loads the persisted streams and subscribes to
// $JS.API.> (and $JS.<domain>.API.> with a domain) and to every stream's
// subjects; Stop unsubscribes, stores what is queued and closes the
// stores.
//
// # Goroutines
//
// A Host handler never blocks: it copies the message onto a queue
// (stream_queue.go). One API goroutine answers $JS.API requests in order,
// so stream create, update and delete are serialized; one more serves
// direct gets; each stream has an ingest goroutine that stores its
// messages in batches and acknowledges them after the durability point
// (Config.Sync: group commit by default, one fsync per batch). The checks
// a publish goes through, and their order, are in stream_ingest.go.
//
// # Files on disk
//
//	<StoreDir>/streams/<name>/meta.json   config and creation time (atomic replace)
//	<StoreDir>/streams/<name>/msgs/       the store.FileStore
//
// Memory streams are not persisted and do not survive a restart, as with
// the official single server. The dedupe window (Nats-Msg-Id) is rebuilt
// on Start from the messages stored within duplicate_window.
//
// # API compatibility
//
// Request bodies are decoded strictly (an unknown field is error 10025),
// and the types know every field of the official server (json_*.go), so
// nats.go, natscli and the benches can send what they send. Features Fern
// lacks are accepted in JSON but refused when set, with a 10052 error
// saying "not implemented in fern" (mirror, sources, subject_transform,
// republish, per-message TTL, subject delete markers, counters,
// schedules; num_replicas > 1 is 10074 as on an official single server).
// allow_atomic and allow_batched are accepted (natscli's bench sets them)
// but the batch headers are refused. Retention interest and workqueue are
// accepted; until the consumer side removes acknowledged messages they
// keep every message, like limits. Replies carry the official "type"
// strings and error numbers (errors.go).
//
// # For the consumer side
//
// Engine.SetConsumers attaches an implementation of Consumers: it then
// receives every $JS.API.CONSUMER.* request (except CONSUMER.MSG.NEXT,
// which consumers subscribe to themselves) on the API goroutine, answers
// with Engine.Respond, reports counts for STREAM.INFO and $JS.API.INFO,
// and hears of deleted streams. Without it, consumer requests get an
// error reply saying consumers are not implemented.
//
// Engine.Stream(name) returns a *Stream, which offers Name, Config (the
// current *StreamConfig), Created, Store (its store.Store; the engine does
// not use store.OnRemove, the consumer side may) and OnStored, a callback
// for every message stored, called after its durability point (and before
// its PubAck) on the stream's ingest goroutine, in sequence order.
package jetstream
