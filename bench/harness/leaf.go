package harness

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats-server/v2/server"
)

// Leaf topologies: a LeafServer is one server (Fern or official) that may
// be a cluster member, a hub (a leafnodes listener) and a leaf (one remote
// listing its hubs' URLs), in any combination. Fern and official servers
// can be mixed; the interop tests do, the leaf benchmarks do not.

// LeafSpec describes one server of a leaf topology.
type LeafSpec struct {
	// Kind is KindFern or KindOfficial.
	Kind string
	// Name is the server name. A standalone official leaf uses it as its
	// cluster name, so it must differ from its hub's cluster name.
	Name string
	// Cluster, if not empty, makes the server a cluster member with this
	// cluster name and a route listener on an ephemeral port.
	Cluster string
	// Routes are the nats-route:// URLs the server dials (Cluster set).
	Routes []string
	// LeafListen opens a leafnodes listener on an ephemeral port: the
	// server can be a hub.
	LeafListen bool
	// LeafPort, with LeafListen, is the leafnodes listener's port instead
	// of an ephemeral one (a new hub where a stopped one listened).
	LeafPort int
	// Hubs, if not empty, makes the server a leaf with one remote listing
	// these URLs, dialled in order (the official leaf does not shuffle
	// them).
	Hubs []string
	// ReconnectInterval is the leaf's redial delay; 0 is the default (1 s
	// for both implementations).
	ReconnectInterval time.Duration
	// NoCompression turns leaf compression off, on the leafnodes listener
	// and on the remote, for either implementation (both default to
	// s2_auto, which frames the stream as S2 even when, on loopback, it
	// does not compress), so that a relay can read the protocol. It wins
	// over Compression.
	NoCompression bool
	// Compression, if not empty, is the S2 mode ("off", "accept",
	// "s2_auto", "s2_uncompressed", "s2_fast", "s2_better", "s2_best") of
	// both the leafnodes listener and the remote; empty keeps each
	// implementation's default (s2_auto).
	Compression string
	// TLS, if set, makes the leafnodes listener require TLS and verify
	// client certificates, and makes the remote dial its hubs with TLS.
	TLS *TLSFiles
	// IgnoreDiscovered keeps an official leaf on its configured hub URLs:
	// by default it also dials the leafnode_urls its hub announces (so a
	// leaf that dialled through a relay would redial the hub directly).
	// Fern uses only the configured URLs.
	IgnoreDiscovered bool
	// Logger, if set, receives the server's logs, with the official
	// server's debug and trace lines (a debugging aid).
	Logger *slog.Logger
	// JetStream, if set, turns JetStream on (see LeafJetStream).
	JetStream *LeafJetStream
}

// LeafJetStream is the JetStream of a leaf topology's server: the
// official server.Options{JetStream, StoreDir, JetStreamDomain}, Fern's
// fern.JetStreamOptions{Enabled, StoreDir, Domain}.
type LeafJetStream struct {
	// StoreDir holds the streams; required (a test's temporary directory).
	StoreDir string
	// Domain, if not empty, is the JetStream domain, which other servers
	// of the topology reach as $JS.<Domain>.API.
	Domain string
}

// leafListenPort is the leafnodes listener's port: LeafPort, or -1 for
// an ephemeral one.
func (sp *LeafSpec) leafListenPort() int {
	if sp.LeafPort > 0 {
		return sp.LeafPort
	}
	return -1
}

// LeafServer is a running server of a leaf topology.
type LeafServer struct {
	spec     LeafSpec
	fern     *fern.Server
	official *server.Server
}

// StartLeafServer starts a server from spec and waits until it accepts
// connections on every listener.
func StartLeafServer(spec LeafSpec) (*LeafServer, error) {
	ls := &LeafServer{spec: spec}
	var err error
	switch spec.Kind {
	case KindFern:
		err = ls.startFern()
	case KindOfficial:
		err = ls.startOfficial()
	default:
		err = fmt.Errorf("%w: %q", ErrUnknownKind, spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	return ls, nil
}

func (ls *LeafServer) startFern() error {
	sp := &ls.spec
	o := &fern.Options{
		ServerName: sp.Name,
		Host:       "127.0.0.1",
		Port:       -1,
		Logger:     sp.Logger,
		LeafNode:   fern.LeafNodeOptions{ReconnectInterval: sp.ReconnectInterval},
	}
	if sp.Cluster != "" {
		o.Cluster = fern.ClusterOptions{Name: sp.Cluster, Host: "127.0.0.1", Port: -1,
			Routes: sp.Routes, RetryInterval: leafRouteRetry}
	}
	if sp.LeafListen {
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", sp.leafListenPort()
	}
	if js := sp.JetStream; js != nil {
		o.JetStream = fern.JetStreamOptions{Enabled: true, StoreDir: js.StoreDir, Domain: js.Domain}
	}
	o.LeafNode.Compression = fern.CompressionOptions{Mode: sp.compressionMode()}
	if sp.LeafListen && sp.TLS != nil {
		o.LeafNode.TLS = &fern.TLSOptions{CertFile: sp.TLS.Cert, KeyFile: sp.TLS.Key, CAFile: sp.TLS.CA,
			Verify: true, Timeout: leafTLSTimeout}
	}
	if len(sp.Hubs) > 0 {
		r := fern.RemoteLeafOptions{URLs: sp.Hubs, Compression: fern.CompressionOptions{Mode: sp.compressionMode()}}
		if sp.TLS != nil {
			r.TLS = &fern.TLSOptions{CertFile: sp.TLS.ClientCert, KeyFile: sp.TLS.ClientKey, CAFile: sp.TLS.CA,
				Timeout: leafTLSTimeout}
		}
		o.LeafNode.Remotes = []fern.RemoteLeafOptions{r}
	}
	s, err := runFern(o, fmt.Sprintf("fern %s", sp.Name))
	if err != nil {
		return err
	}
	ls.fern = s
	return nil
}

// leafRouteRetry is the Fern cluster members' first route redial delay.
const leafRouteRetry = 50 * time.Millisecond

// leafTLSTimeout bounds the leaf TLS handshakes, on either implementation.
const leafTLSTimeout = 2 * time.Second

// TLSFiles are the PEM files of a leaf TLS setup (LeafSpec.TLS).
type TLSFiles struct {
	// CA verifies the other side: the hub's certificate on the remote, the
	// leaf's client certificate on the leafnodes listener.
	CA string
	// Cert and Key are the leafnodes listener's certificate and key.
	Cert, Key string
	// ClientCert and ClientKey are the remote's client certificate and
	// key; empty dials without one, which a verifying hub refuses.
	ClientCert, ClientKey string
}

// compressionMode is the leaf compression mode for both the listener and
// the remote: "off" with NoCompression, else Compression ("" keeps the
// implementation's default).
func (sp *LeafSpec) compressionMode() string {
	if sp.NoCompression {
		return "off"
	}
	return sp.Compression
}

func (ls *LeafServer) startOfficial() error {
	sp := &ls.spec
	o := &server.Options{
		ServerName: sp.Name,
		Host:       "127.0.0.1",
		Port:       -1,
		NoLog:      true,
		NoSigs:     true,
		LeafNode:   server.LeafNodeOpts{ReconnectInterval: sp.ReconnectInterval},
	}
	if sp.Cluster != "" {
		o.Cluster = server.ClusterOpts{Name: sp.Cluster, Host: "127.0.0.1", Port: -1}
		o.Routes = server.RoutesFromStr(strings.Join(sp.Routes, ","))
	}
	if sp.LeafListen {
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", sp.leafListenPort()
	}
	if js := sp.JetStream; js != nil {
		o.JetStream, o.StoreDir, o.JetStreamDomain = true, js.StoreDir, js.Domain
	}
	o.LeafNode.Compression.Mode = sp.compressionMode()
	if sp.LeafListen && sp.TLS != nil {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: sp.TLS.Cert, KeyFile: sp.TLS.Key,
			CaFile: sp.TLS.CA, Verify: true, Timeout: leafTLSTimeout.Seconds()})
		if err != nil {
			return fmt.Errorf("harness: start official %s: leafnodes tls: %w", sp.Name, err)
		}
		o.LeafNode.TLSConfig, o.LeafNode.TLSTimeout = tc, leafTLSTimeout.Seconds()
	}
	if len(sp.Hubs) > 0 {
		urls := make([]*url.URL, 0, len(sp.Hubs))
		for _, h := range sp.Hubs {
			u, err := url.Parse(h)
			if err != nil {
				return fmt.Errorf("harness: start official %s: hub url: %w", sp.Name, err)
			}
			urls = append(urls, u)
		}
		remote := &server.RemoteLeafOpts{URLs: urls, NoRandomize: true, IgnoreDiscoveredServers: sp.IgnoreDiscovered}
		remote.Compression.Mode = sp.compressionMode()
		if sp.TLS != nil {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: sp.TLS.ClientCert,
				KeyFile: sp.TLS.ClientKey, CaFile: sp.TLS.CA, Timeout: leafTLSTimeout.Seconds()})
			if err != nil {
				return fmt.Errorf("harness: start official %s: remote tls: %w", sp.Name, err)
			}
			// ca_file verifies the hub: the official configuration parser
			// makes the pool the roots of a remote's config, as here.
			tc.RootCAs = tc.ClientCAs
			remote.TLS, remote.TLSConfig, remote.TLSTimeout = true, tc, leafTLSTimeout.Seconds()
		}
		o.LeafNode.Remotes = []*server.RemoteLeafOpts{remote}
	}
	s, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("harness: start official %s: %w", sp.Name, err)
	}
	if sp.Logger != nil {
		s.SetLogger(officialLogger{sp.Logger.With("server", sp.Name)}, true, true)
	}
	go s.Start()
	if !s.ReadyForConnections(startTimeout) || (sp.JetStream != nil && !s.JetStreamEnabled()) {
		s.Shutdown()
		s.WaitForShutdown()
		return fmt.Errorf("harness: start official %s: %w", sp.Name, ErrNotReady)
	}
	ls.official = s
	return nil
}

// Stop shuts the server down and waits for it. Stopping twice is harmless.
func (ls *LeafServer) Stop() {
	switch {
	case ls.fern != nil:
		stopFern(ls.fern)
		ls.fern = nil
	case ls.official != nil:
		ls.official.Shutdown()
		ls.official.WaitForShutdown()
		ls.official = nil
	}
}

// Kind is KindFern or KindOfficial.
func (ls *LeafServer) Kind() string { return ls.spec.Kind }

// Name is the server name.
func (ls *LeafServer) Name() string { return ls.spec.Name }

// ClientURL is the nats:// URL clients connect to.
func (ls *LeafServer) ClientURL() string {
	if ls.fern != nil {
		return ls.fern.ClientURL()
	}
	return ls.official.ClientURL()
}

// LeafURL is the nats:// URL of the leafnodes listener that leafs dial, or
// "" when the server has none.
func (ls *LeafServer) LeafURL() string {
	if !ls.spec.LeafListen {
		return ""
	}
	if ls.fern != nil {
		return "nats://" + ls.fern.LeafAddr().String()
	}
	vz, err := ls.official.Varz(nil)
	if err != nil || vz.LeafNode.Port == 0 {
		return ""
	}
	return "nats://127.0.0.1:" + strconv.Itoa(vz.LeafNode.Port)
}

// RouteURL is the nats-route:// URL other cluster members dial, or "" when
// the server is not a cluster member.
func (ls *LeafServer) RouteURL() string {
	if ls.spec.Cluster == "" {
		return ""
	}
	if ls.fern != nil {
		return "nats-route://" + ls.fern.ClusterAddr().String()
	}
	return "nats-route://" + ls.official.ClusterAddr().String()
}

// NumRoutes is the number of servers this one has a route to.
func (ls *LeafServer) NumRoutes() int {
	if ls.fern != nil {
		return ls.fern.NumRoutes()
	}
	return ls.official.NumRemotes()
}

// NumLeafs is the number of leaf connections, accepted and dialled.
func (ls *LeafServer) NumLeafs() int {
	if ls.fern != nil {
		return ls.fern.NumLeafs()
	}
	return ls.official.NumLeafNodes()
}

// HasInterest reports whether the server knows a subscription matching
// subject: a local client's, or one learned from a route or a leaf
// connection.
func (ls *LeafServer) HasInterest(subject string) bool {
	if ls.fern != nil {
		return ls.fern.HasInterest(subject)
	}
	return ls.official.GlobalAccount().SubscriptionInterest(subject)
}

// LeafCompression lists the compression mode each leaf connection of an
// official server settled on (the level it writes with: "off", "not
// supported", "s2_uncompressed", "s2_fast", ...). Fern does not expose
// it: ok is then false.
func (ls *LeafServer) LeafCompression() (modes []string, ok bool) {
	if ls.official == nil {
		return nil, false
	}
	lz, err := ls.official.Leafz(nil)
	if err != nil {
		return nil, false
	}
	for _, l := range lz.Leafs {
		modes = append(modes, l.Compression)
	}
	return modes, true
}

// FernServer is the running Fern server, or nil.
func (ls *LeafServer) FernServer() *fern.Server { return ls.fern }

// OfficialServer is the running official server, or nil.
func (ls *LeafServer) OfficialServer() *server.Server { return ls.official }
