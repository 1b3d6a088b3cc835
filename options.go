package fern

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/fernmq/fern/auth"
	"github.com/fernmq/fern/store"
	"log/slog"
	"net/netip"
	"time"
)

// Defaults for Options. A zero field in Options means "use the default";
// NewServer fills them into its own copy and never touches the caller's struct.
const (
	DefaultHost           = "127.0.0.1"
	DefaultPort           = 4222
	DefaultMaxPayload     = 1 << 20 // 1 MiB, as the official server
	DefaultMaxControlLine = 4096
	DefaultMaxPending     = 64 << 20 // 64 MiB of unsent bytes per client
	DefaultMaxConnections = 65536
	DefaultWriteDeadline  = 10 * time.Second
	DefaultPingInterval   = 2 * time.Minute
	DefaultPingMax        = 2
	DefaultAuthTimeout    = 2 * time.Second
	// DefaultFirstPingDelay is how long after CONNECT the server sends its
	// first PING to a client (the official server uses about 2 s).
	DefaultFirstPingDelay = 2 * time.Second
)

// Options configures a Server. It is a plain struct: fill what you need and
// leave the rest zero for the documented default. NewServer copies it.
type Options struct {
	// ServerName is announced in INFO as server_name. Default: the server ID.
	ServerName string
	// Host is the address the client listener binds. Default "127.0.0.1"
	// (the library is safe by default; cmd/fern passes what the user asks).
	Host string
	// Port is the client port. Default 4222; -1 picks an ephemeral port.
	Port int

	// MaxPayload is the largest message payload accepted, announced in INFO.
	// Default 1 MiB.
	MaxPayload int
	// MaxControlLine is the longest protocol line accepted. Default 4096.
	MaxControlLine int
	// MaxPending is how many unsent bytes a client may have queued before it
	// is disconnected as a slow consumer. Default 64 MiB.
	MaxPending int
	// MaxConnections limits concurrent client connections. Default 65536.
	MaxConnections int
	// WriteDeadline bounds one write (of at most 128 KiB) to a
	// connection: one that accepts nothing for that long is closed (a
	// slow consumer). Default 10s.
	WriteDeadline time.Duration
	// FlowControl is how publishers are slowed down for connections that
	// fall behind (client_flow.go).
	FlowControl FlowControlOptions
	// PingInterval is how often the server pings an idle client. Default 2m.
	PingInterval time.Duration
	// PingMax is how many PINGs may go unanswered before the connection is
	// closed as stale. Default 2.
	PingMax int
	// FirstPingDelay is when the first server PING is sent after CONNECT.
	// Default 2s (capped at PingInterval).
	FirstPingDelay time.Duration

	// Debug and Trace raise the log level (cmd/fern uses them; an embedder
	// passes its own Logger).
	Debug, Trace, Logtime bool
	// Logger receives the server's logs. Default: discard.
	Logger *slog.Logger

	// TLS, if set, makes the client port require TLS: INFO says
	// tls_required and the handshake follows it.
	TLS *TLSOptions

	// Authorization holds client credentials and leaf admission rules.
	Authorization Authorization
	// Cluster configures routes to the other servers of a full mesh.
	Cluster ClusterOptions
	// LeafNode configures leaf node connections: the hub's listener and
	// the remotes this server dials as a leaf.
	LeafNode LeafNodeOptions
	// Websocket accepts clients and leaf nodes over WebSocket.
	Websocket WebsocketOptions
	// JetStream turns on streams, consumers and key-value (jetstream/).
	JetStream JetStreamOptions

	// LeafAdmission, if set, decides which source addresses may connect
	// as leaf nodes, replacing the allowed_leaf_cidrs lists.
	LeafAdmission auth.Admission

	// ConfigFile is the file the options were read from, if any.
	ConfigFile string

	// Listen, if set, binds every listener (client, cluster, leafnodes,
	// websocket) instead of net.Listen; address is host:port with port 0
	// for an ephemeral one. An embedder's hook (a custom transport), and
	// how tests run whole topologies on internal/faultnet's in-memory
	// network. The listener's Addr should be a *net.TCPAddr (ports are
	// announced from it). Default: net.Listen.
	Listen func(network, address string) (net.Listener, error)
	// Dial, if set, opens route connections (and leaf connections when
	// LeafNode.Dial is nil) instead of a TCP dial; ctx carries the dial
	// timeout. Default: a TCP dial with a 1 s timeout.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// FlowControlOptions sets how producers wait for receivers that fall
// behind (client_flow.go has the policy).
type FlowControlOptions struct {
	// StallPending is the queued bytes above which a connection's
	// producers wait for it at the end of their read pass. Default 1 MiB.
	StallPending int
	// StallWait is how long a producer waits for a connection that makes
	// no progress before going on without it. Default 100ms.
	StallWait time.Duration
	// LinkMaxPending bounds a route's or leaf link's queue: above it its
	// producers wait even when it makes no progress (it is then closed by
	// WriteDeadline). Links are never closed for pending bytes. Default
	// 64 MiB.
	LinkMaxPending int
}

// Authorization is the `authorization {}` block.
type Authorization struct {
	User     string
	Password string
	Token    string
	// Timeout is how long a client has to send CONNECT when auth is
	// required. Default 2s.
	Timeout time.Duration
	// AllowedLeafCIDRs lists the source ranges a leaf connection may come
	// from. Empty means every address is admitted.
	AllowedLeafCIDRs []netip.Prefix
}

// ClusterOptions is the `cluster {}` block: routes to the other servers of
// a full-mesh cluster.
type ClusterOptions struct {
	// Name is the cluster name. Empty: a generated name that servers agree
	// on when they connect (the official "dynamic" name).
	Name string
	// Host and Port are the route listener (-1: ephemeral port).
	Host string
	Port int
	// Routes are the URLs (nats-route://[user:pass@]host:port) this server
	// dials; they are retried forever. Servers learned by gossip are dialled
	// ConnectRetries+1 times.
	Routes []string
	// Advertise is the host:port other servers should dial to reach this
	// one (default: the listener's address as the peer sees it).
	Advertise string
	// NoAdvertise keeps this server's client URLs out of the connect_urls
	// that clients are given.
	NoAdvertise bool
	// ConnectRetries bounds dial attempts to servers learned by gossip.
	ConnectRetries int
	// User and Password, if set, are required from servers that connect
	// (cluster { authorization { user, password } }).
	User     string
	Password string
	// AuthTimeout bounds how long a connecting server has to send CONNECT.
	// Default 2s.
	AuthTimeout time.Duration
	// RetryInterval is the first delay before redialling a route; it
	// doubles per failure up to 30 times its value. Default 1s.
	RetryInterval time.Duration
	// TLS, if set, makes every route TLS from its first byte (as
	// officially): each server presents CertFile/KeyFile to the others,
	// client certificates are required, and CAFile verifies both ways.
	TLS *TLSOptions
	// Compression is the route S2 compression mode, negotiated with each
	// peer as the official server does. Default "accept": compress only
	// when the peer asks for it.
	Compression CompressionOptions
}

// Set reports whether the cluster block asks for a cluster listener or routes.
func (c ClusterOptions) Set() bool { return c.Port != 0 || len(c.Routes) > 0 }

// LeafNodeOptions is the `leafnodes {}` block (alias `leaf {}`).
type LeafNodeOptions struct {
	Host    string
	Port    int
	Remotes []RemoteLeafOptions
	// ReconnectInterval is the delay between dial attempts (plus jitter).
	// Default 1s.
	ReconnectInterval time.Duration
	// MaxReconnectInterval caps the wait after hubs refused the link
	// several times in a row (it doubles with each refusal). Default: 30
	// times ReconnectInterval.
	MaxReconnectInterval time.Duration
	// LoopDelay is how long a leaf waits before redialling after a loop
	// was detected (its own loop-detection interest came back from the
	// hub). Default 30s, as officially. A stale interest on the hub's
	// cluster (a route that has not noticed the leaf's previous link
	// died) also looks like a loop, so tests shrink it.
	LoopDelay time.Duration
	// AllowedLeafCIDRs is leafnodes { authorization { allowed_leaf_cidrs } }.
	AllowedLeafCIDRs []netip.Prefix
	// User and Password, if set, are what leafs must send in CONNECT
	// (leafnodes { authorization { user, password } }); otherwise leafs
	// authenticate like clients (Options.Authorization).
	User     string
	Password string
	// AuthTimeout bounds how long a leaf has to send CONNECT. Default:
	// Authorization.Timeout.
	AuthTimeout time.Duration
	// Dial, if set, opens the connections to remotes (an embedder's hook:
	// a custom transport, or a fixed source address). Default: Options.Dial,
	// else a TCP dial with a 1 s timeout.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// TLS, if set, makes the leafnodes listener require TLS.
	TLS *TLSOptions
	// Compression is the S2 mode offered to leafs on the leafnodes
	// listener. Default "s2_auto" (as officially): the level follows the
	// round-trip time, uncompressed framing up to 10 ms.
	Compression CompressionOptions
}

// Set reports whether the leaf block asks for a listener or remotes.
func (l LeafNodeOptions) Set() bool { return l.Port != 0 || len(l.Remotes) > 0 }

// RemoteLeafOptions is one entry of leafnodes.remotes.
type RemoteLeafOptions struct {
	// URLs are tried in order (nats://, tls://, ws://, wss://), with
	// optional user:password@ credentials for the hub.
	URLs []string
	// TLS configures the TLS client side. It is used when the hub asks
	// for TLS (INFO tls_required) or the URL is tls:// or wss://; without
	// it the system roots verify the hub.
	TLS *TLSOptions
	// Compression is the S2 mode asked of the hub. Default "s2_auto".
	Compression CompressionOptions
}

// TLSOptions is a `tls {}` block.
type TLSOptions struct {
	// CertFile and KeyFile are this side's PEM certificate and key
	// (required on a listener; on a dialling side, a client certificate).
	CertFile string
	KeyFile  string
	// CAFile holds the PEM roots that verify the other side. Default: the
	// system roots.
	CAFile string
	// Verify (listeners) requires and verifies client certificates.
	Verify bool
	// Insecure (dialling side) skips verifying the server's certificate.
	Insecure bool
	// Timeout bounds the handshake. Default 2s.
	Timeout time.Duration
	// Config, if set, is used instead of the file fields (embedders).
	Config *tls.Config
}

// CompressionOptions is a `compression` setting: a mode and, for
// "s2_auto", the round-trip thresholds that pick the level.
type CompressionOptions struct {
	// Mode is one of "off", "accept", "s2_auto", "s2_uncompressed",
	// "s2_fast", "s2_better", "s2_best" (aliases as officially: on,
	// enabled, true, disabled, false, auto, fast, better, best). Empty
	// means the block's default.
	Mode string
	// RTTThresholds (s2_auto): up to 4 ascending values; a round trip up
	// to the first picks uncompressed, then fast, better, best. Default
	// 10ms, 50ms, 100ms, 250ms.
	RTTThresholds []time.Duration
}

// WebsocketOptions is the `websocket {}` block: clients (nats.go with
// ws://) and leaf nodes (a request path ending in /leafnode) over
// WebSocket, with the same semantics as TCP.
type WebsocketOptions struct {
	Host string
	Port int // -1: ephemeral
	// NoTLS serves WebSocket in the clear. Like the official server, Fern
	// refuses a websocket block with neither TLS nor no_tls.
	NoTLS bool
	// TLS makes the listener serve wss:// (TLS first, then the upgrade).
	TLS *TLSOptions
}

// JetStreamOptions is the `jetstream {}` block.
type JetStreamOptions struct {
	Enabled bool
	// StoreDir holds the streams (default: a "fern-jetstream" directory
	// under the system temp dir, as officially).
	StoreDir       string
	MaxMemoryStore int64
	MaxFileStore   int64
	// Durability of acknowledged publishes (sync / sync_interval). By
	// default a PubAck is sent only once the message is fsynced, with the
	// fsyncs of concurrent publishes batched into one (group commit).
	// SyncAlways fsyncs each message before its PubAck ("always").
	// SyncInterval > 0 acknowledges after the write and fsyncs every
	// interval (the official default, 2 minutes: acknowledged data can be
	// lost in an OS crash, not in a process crash).
	SyncAlways   bool
	SyncInterval time.Duration
	// MaxBufferedMsgs and MaxBufferedSize bound each stream's ingest queue
	// (max_buffered_msgs, max_buffered_size; default 100,000 messages and
	// 128 MiB): a publish beyond them is answered 429 Too Many Requests.
	MaxBufferedMsgs int
	MaxBufferedSize int64
	// Domain names this JetStream for other servers (domain): its API is
	// also served on $JS.<Domain>.API.>, and that API, the streams'
	// subjects, acks and the other subjects its consumers use are
	// announced over routes and leaf connections, so clients elsewhere
	// reach it with nats.go's jetstream.NewWithDomain or the CLI's
	// --js-domain. Without a domain JetStream serves this server's own
	// clients only. A leaf and its hub need different domains.
	Domain string
	// FS is the filesystem StoreDir lives on (default store.OSFS, the
	// real disk). Not configurable from a config file: an embedder or a
	// test passes a store.CrashFS to run JetStream in memory and
	// simulate power losses (internal/faultnet).
	FS store.FS
}

// ErrNotImplemented is wrapped by errors for configured features Fern does
// not have yet.
var ErrNotImplemented = fmt.Errorf("fern: not implemented yet")
