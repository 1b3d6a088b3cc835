// Package jetstream is Fern's JetStream engine for a single server:
// streams, and consumers attached to them through the Consumers interface
// (consumer_manager.go implements it; Start attaches it unless another
// was set).
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
//	<StoreDir>/streams/<name>/consumers/<c>/meta.json, state.json   durable consumers
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
// saying "not implemented in fern" (subject_transform,
// republish, per-message TTL, subject delete markers, counters,
// schedules; num_replicas > 1 is 10074 as on an official single server).
// allow_atomic and allow_batched are accepted (natscli's bench sets them)
// but the batch headers are refused. Retention workqueue removes a message
// once it is acknowledged; interest removes it once every consumer whose
// filter matches has acknowledged it, and does not keep a message no
// consumer wants (its sequence is used and acknowledged, as officially).
// Replies carry the official "type" strings and error numbers (errors.go).
//
// # Sources and mirrors
//
// A stream with a mirror or sources runs one goroutine per upstream
// (source.go has the design and the path of one message): it creates the
// upstream consumer as the official server does, checks every delivery's
// sequences, hands messages to the stream's ingest queue, and answers flow
// control only after the durability point. Positions are recovered from
// the stored messages (source_position.go). Engine.RetrySources is for
// the host to call when a route or leaf connection registers. A
// caught-up mirror with mirror_direct also answers its origin's direct
// gets (source_direct.go).
//
// As an upstream, sourcing consumers follow the 2.14+ rules
// (consumer_sourcing.go): ack policy flow_control on WorkQueue and
// Interest streams, acknowledged by the downstream's flow-control
// answers (consumer_flowack.go); CONSUMER.RESET is consumer_reset.go.
// AckSync replies and consumer create replies are sent once durable
// (consumer_durable_ack.go).
//
// # Consumers
//
// Each consumer has one goroutine (consumer_run.go) that applies acks,
// pull requests and flow-control replies, arriving through in-process
// subscriptions ($JS.API.CONSUMER.MSG.NEXT.<s>.<c>, $JS.ACK.<s>.<c>.>,
// $JS.FC.<s>.<c>.*), and delivers what the stream announced with
// OnStored, never before its PubAck. Deliveries go to the pull request's
// inbox or the deliver subject but show the stored subject
// (DeliverPublisher). Durable consumers on file streams persist their
// config and delivery state under streams/<s>/consumers/<c>/ (atomic
// replace, at most every 100 ms while it changes, and on Stop).
//
// Engine.SetConsumers attaches an implementation of Consumers: it then
// receives every $JS.API.CONSUMER.* request (except CONSUMER.MSG.NEXT,
// which consumers subscribe to themselves) on the API goroutine, answers
// with Engine.Respond, reports counts for STREAM.INFO and $JS.API.INFO,
// and hears of deleted streams. Without it, consumer requests get an
// error reply saying consumers are not implemented (only when
// SetConsumers(nil) detached the built-in manager).
//
// Engine.Stream(name) returns a *Stream, which offers Name, Config (the
// current *StreamConfig), Created, Store (its store.Store; the engine does
// not use store.OnRemove, the consumer side may) and OnStored, a callback
// for every message stored, called after its durability point (and before
// its PubAck) on the stream's ingest goroutine, in sequence order.
package jetstream
