package fern

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fernmq/fern/internal/conf"
)

// ConfigError names the file, line, column, key and value of a bad setting.
type ConfigError struct {
	File      string
	Line, Col int
	// Key is the dotted path of the setting as written, e.g.
	// "leafnodes.remotes[0].url"; empty for syntax errors.
	Key string
	// Value is the offending value as written, if there is one.
	Value string
	Msg   string
	err   error // what the error wraps: ErrUnknownKey, ErrNotImplemented, a parse error
}

// Error formats e as "file:line:col: key: msg".
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Col)
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the error e wraps, if any (ErrUnknownKey for an unknown
// key, ErrNotImplemented for an official key Fern does not support yet).
func (e *ConfigError) Unwrap() error { return e.err }

// ErrUnknownKey is wrapped by the ConfigError of a key no server knows.
var ErrUnknownKey = errors.New("fern: unknown configuration key")

// ReadConfigFile reads a NATS server configuration file into Options and
// sets Options.ConfigFile. The file's $VAR references may use the process
// environment.
func ReadConfigFile(path string) (*Options, error) {
	root, err := conf.ParseFile(path)
	if err != nil {
		return nil, configParseError(err)
	}
	opts, err := decodeConfig(root)
	if err != nil {
		return nil, err
	}
	opts.ConfigFile = path
	return opts, nil
}

// ParseConfig parses configuration text into Options. name is used in error
// messages and as the base for relative includes. Zero fields of the result
// mean "default", as everywhere in Options.
//
// Settings are those of the official server (keys are case-insensitive,
// aliases included). Unknown keys are errors wrapping ErrUnknownKey; known
// official keys Fern does not implement yet wrap ErrNotImplemented. All bad
// settings are reported, joined, each as a *ConfigError.
func ParseConfig(name string, data []byte) (*Options, error) {
	return parseConfig(conf.Reader{Env: os.LookupEnv}, name, data)
}

// parseConfig is ParseConfig with the environment and include files coming
// from r (tests and fuzzing keep them away from the real ones).
func parseConfig(r conf.Reader, name string, data []byte) (*Options, error) {
	root, err := r.Parse(name, data)
	if err != nil {
		return nil, configParseError(err)
	}
	return decodeConfig(root)
}

// configParseError turns a parse failure into a *ConfigError (or, when the
// file itself cannot be read, a plain wrapped error).
func configParseError(err error) error {
	var pe *conf.Error
	if !errors.As(err, &pe) {
		return fmt.Errorf("fern: reading configuration: %w", err)
	}
	return &ConfigError{File: pe.Pos.File, Line: pe.Pos.Line, Col: pe.Pos.Col, Msg: pe.Msg, err: err}
}

// Official keys Fern does not implement, per block, space separated. Using
// one is an error (wrapping ErrNotImplemented) rather than silently ignored.
const (
	unsupportedTop = "client_advertise max_subscriptions max_subs max_sub_tokens max_subscription_tokens " +
		"write_timeout lame_duck_duration lame_duck_grace_period no_auth_user system_account system " +
		"no_system_account accounts mappings maps http http_port monitor_port https https_port " +
		"http_base_path logfile log_file logfile_size_limit log_size_limit pidfile pid_file " +
		"allow_non_tls default_js_domain operator operators resolver resolver_preload " +
		"mqtt gateway trace_verbose syslog remote_syslog ports_file_dir prof_port max_traced_msg_len " +
		"connect_error_reports reconnect_error_reports no_header_support disable_sublist_cache " +
		"no_sublist_cache max_closed_clients proxy_protocol"
	unsupportedAuth = "users permissions default_permissions default_permission auth_callout " +
		"auth_hook proxy_required nkeys"
	unsupportedCluster = "connect_backoff permissions pool_size accounts ping_interval ping_max " +
		"write_deadline write_timeout"
	unsupportedLeaf = "advertise leafnode_advertise no_advertise dial_timeout min_version " +
		"minimum_version isolate_leafnode_interest isolate write_deadline write_timeout"
	unsupportedLeafAuth = "account nkey users"
	unsupportedRemote   = "account local credentials creds nkey seed hub deny_imports " +
		"deny_import deny_exports deny_export ws_compression ws_compress websocket_compress " +
		"websocket_compression ws_no_masking websocket_no_masking no_randomize dont_randomize " +
		"first_info_timeout dial_timeout disabled proxy ignore_discovered_servers " +
		"isolate_leafnode_interest isolate request_isolation jetstream_cluster_migrate js_cluster_migrate"
	unsupportedJetStream = "key ek encryption_key prev_key prev_ek " +
		"prev_encryption_key cipher extension_hint limits unique_tag strict max_outstanding_catchup " +
		"request_queue_limit tpm max_catchup"
)

// configDecoder maps a parsed tree onto Options, collecting every error.
type configDecoder struct {
	opts Options
	errs []error
	// storeDirTop and storeDirJS record where store_dir was set, to reject
	// it being set both at top level and in jetstream {}.
	storeDirTop, storeDirJS bool
}

func decodeConfig(root *conf.Node) (*Options, error) {
	d := &configDecoder{}
	d.top(root.Map)
	switch len(d.errs) {
	case 0:
		return &d.opts, nil
	case 1:
		return nil, d.errs[0]
	}
	return nil, errors.Join(d.errs...)
}

func (d *configDecoder) top(entries []conf.Entry) {
	o := &d.opts
	for _, e := range entries {
		k, v := e.Key, e.Value
		switch strings.ToLower(k) {
		case "listen":
			d.listen(k, v, &o.Host, &o.Port)
		case "host", "net":
			d.str(k, v, &o.Host)
		case "port":
			d.port(k, v, &o.Port)
		case "server_name":
			d.name(k, v, &o.ServerName, "server name")
		case "max_payload":
			d.integer(k, v, 0, math.MaxInt32, &o.MaxPayload)
		case "max_connections", "max_conn":
			d.integer(k, v, 0, math.MaxInt32, &o.MaxConnections)
		case "max_control_line":
			d.integer(k, v, 0, math.MaxInt32, &o.MaxControlLine)
		case "max_pending":
			d.integer(k, v, 0, math.MaxInt64, &o.MaxPending)
		case "write_deadline":
			d.duration(k, v, &o.WriteDeadline)
		case "ping_interval":
			d.duration(k, v, &o.PingInterval)
		case "ping_max":
			d.integer(k, v, 0, math.MaxInt32, &o.PingMax)
		case "debug":
			d.boolean(k, v, &o.Debug)
		case "trace":
			d.boolean(k, v, &o.Trace)
		case "logtime":
			d.boolean(k, v, &o.Logtime)
		case "store_dir", "storedir":
			d.storeDir(k, v, &d.storeDirTop, d.storeDirJS)
		case "jetstream":
			d.jetstream(k, v)
		case "authorization":
			d.authorization(k, v)
		case "cluster":
			d.cluster(k, v)
		case "websocket", "ws":
			d.websocket(k, v)
		case "leafnodes", "leaf":
			d.leafnodes(k, v)
		case "tls":
			o.TLS = d.tlsBlock(k, v)
		default:
			d.unknown("", e, unsupportedTop)
		}
	}
}

func (d *configDecoder) authorization(path string, n *conf.Node) {
	a := &d.opts.Authorization
	for _, e := range d.entries(path, n) {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "user", "username":
			d.str(k, v, &a.User)
		case "password", "pass":
			d.str(k, v, &a.Password)
		case "token":
			d.str(k, v, &a.Token)
		case "timeout":
			d.seconds(k, v, &a.Timeout)
		case "allowed_leaf_cidrs":
			d.cidrs(k, v, &a.AllowedLeafCIDRs)
		default:
			d.unknown(path, e, unsupportedAuth)
		}
	}
}

func (d *configDecoder) cluster(path string, n *conf.Node) {
	c := &d.opts.Cluster
	for _, e := range d.entries(path, n) {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "name":
			d.name(k, v, &c.Name, "cluster name")
		case "listen":
			d.listen(k, v, &c.Host, &c.Port)
		case "host", "net":
			d.str(k, v, &c.Host)
		case "port":
			d.port(k, v, &c.Port)
		case "routes":
			d.urls(k, v, &c.Routes)
		case "advertise", "cluster_advertise":
			d.str(k, v, &c.Advertise)
		case "no_advertise":
			d.boolean(k, v, &c.NoAdvertise)
		case "connect_retries":
			d.integer(k, v, 0, 1<<31-1, &c.ConnectRetries)
		case "authorization":
			d.clusterAuth(k, v)
		case "compression":
			d.compression(k, v, clusterCompressionDefault, clusterCompressionOn, &c.Compression)
		case "tls":
			c.TLS = d.tlsBlock(k, v)
		default:
			d.unknown(path, e, unsupportedCluster)
		}
	}
}

// websocket reads websocket { listen, host, port, no_tls, tls }.
func (d *configDecoder) websocket(path string, n *conf.Node) {
	w := &d.opts.Websocket
	for _, e := range d.entries(path, n) {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "listen":
			d.listen(k, v, &w.Host, &w.Port)
		case "host", "net":
			d.str(k, v, &w.Host)
		case "port":
			d.port(k, v, &w.Port)
		case "no_tls":
			d.boolean(k, v, &w.NoTLS)
		case "tls":
			w.TLS = d.tlsBlock(k, v)
		default:
			d.unknown(path, e, "advertise compression compress same_origin allowed_origins "+
				"handshake_timeout authorization authentication no_auth_user jwt_cookie user_cookie "+
				"pass_cookie token_cookie headers ping_interval")
		}
	}
}

// clusterAuth reads cluster { authorization { user, password, timeout } }.
func (d *configDecoder) clusterAuth(path string, n *conf.Node) {
	c := &d.opts.Cluster
	for _, e := range d.entries(path, n) {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "user", "username":
			d.str(k, v, &c.User)
		case "password", "pass":
			d.str(k, v, &c.Password)
		case "timeout":
			d.seconds(k, v, &c.AuthTimeout)
		default:
			d.unknown(path, e, "token users nkeys permissions")
		}
	}
}

func (d *configDecoder) leafnodes(path string, n *conf.Node) {
	l := &d.opts.LeafNode
	for _, e := range d.entries(path, n) {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "listen":
			d.listen(k, v, &l.Host, &l.Port)
		case "host", "net":
			d.str(k, v, &l.Host)
		case "port":
			d.port(k, v, &l.Port)
		case "remotes":
			d.remotes(k, v)
		case "reconnect", "reconnect_delay", "reconnect_interval":
			d.duration(k, v, &l.ReconnectInterval)
		case "tls":
			l.TLS = d.tlsBlock(k, v)
		case "compression":
			d.compression(k, v, leafCompressionDefault, leafCompressionOn, &l.Compression)
		case "authorization":
			for _, ae := range d.entries(k, v) {
				switch strings.ToLower(ae.Key) {
				case "allowed_leaf_cidrs":
					d.cidrs(k+"."+ae.Key, ae.Value, &l.AllowedLeafCIDRs)
				case "user", "username":
					d.str(k+"."+ae.Key, ae.Value, &l.User)
				case "password", "pass":
					d.str(k+"."+ae.Key, ae.Value, &l.Password)
				case "timeout":
					d.seconds(k+"."+ae.Key, ae.Value, &l.AuthTimeout)
				default:
					d.unknown(k, ae, unsupportedLeafAuth)
				}
			}
		default:
			d.unknown(path, e, unsupportedLeaf)
		}
	}
}

func (d *configDecoder) remotes(path string, n *conf.Node) {
	if n.Kind != conf.Array {
		d.typeError(path, n, "array of remotes")
		return
	}
	for i, rn := range n.Array {
		rpath := fmt.Sprintf("%s[%d]", path, i)
		var r RemoteLeafOptions
		for _, e := range d.entries(rpath, rn) {
			switch strings.ToLower(e.Key) {
			case "url", "urls":
				d.urls(rpath+"."+e.Key, e.Value, &r.URLs)
			case "tls":
				r.TLS = d.tlsBlock(rpath+"."+e.Key, e.Value)
			case "compression":
				d.compression(rpath+"."+e.Key, e.Value, leafCompressionDefault, leafCompressionOn, &r.Compression)
			default:
				d.unknown(rpath, e, unsupportedRemote)
			}
		}
		d.opts.LeafNode.Remotes = append(d.opts.LeafNode.Remotes, r)
	}
}

func (d *configDecoder) jetstream(path string, n *conf.Node) {
	js := &d.opts.JetStream
	switch n.Kind {
	case conf.Bool:
		js.Enabled = n.Bool
		return
	case conf.String:
		switch strings.ToLower(n.Str) {
		case "enabled", "enable":
			js.Enabled = true
		case "disabled", "disable":
			js.Enabled = false
		default:
			d.fail(n.Pos, path, n.Text(), nil, fmt.Sprintf("expected true, false, \"enabled\" or \"disabled\", got %q", n.Str))
		}
		return
	case conf.Map:
	default:
		d.typeError(path, n, "boolean, \"enabled\", \"disabled\" or a map")
		return
	}
	js.Enabled = true
	for _, e := range n.Map {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "store_dir", "store", "storedir":
			d.storeDir(k, v, &d.storeDirJS, d.storeDirTop)
		case "max_memory_store", "max_mem_store", "max_mem":
			d.storageSize(k, v, &js.MaxMemoryStore)
		case "max_file_store", "max_file":
			d.storageSize(k, v, &js.MaxFileStore)
		case "enabled", "enable":
			d.boolean(k, v, &js.Enabled)
		case "domain":
			d.name(k, v, &js.Domain, "JetStream domain")
		case "max_buffered_msgs":
			d.integer(k, v, 0, math.MaxInt32, &js.MaxBufferedMsgs)
		case "max_buffered_size":
			d.storageSize(k, v, &js.MaxBufferedSize)
		case "sync", "sync_interval":
			if v.Kind == conf.String && strings.EqualFold(v.Str, "always") {
				js.SyncAlways = true
			} else {
				d.duration(k, v, &js.SyncInterval)
			}
		default:
			d.unknown(path, e, unsupportedJetStream)
		}
	}
}

// storeDir sets JetStream.StoreDir from top level or the jetstream block;
// setting it in both places is an error, as in the official server.
func (d *configDecoder) storeDir(path string, n *conf.Node, here *bool, elsewhere bool) {
	if elsewhere {
		d.fail(n.Pos, path, n.Text(), nil, "Duplicate 'store_dir' configuration")
		return
	}
	if d.str(path, n, &d.opts.JetStream.StoreDir) {
		*here = true
	}
}

// The typed readers below report a ConfigError and leave *dst alone when n
// is of the wrong type or out of range; they return whether they set it.

func (d *configDecoder) fail(pos conf.Pos, key, value string, wrapped error, msg string) {
	d.errs = append(d.errs, &ConfigError{File: pos.File, Line: pos.Line, Col: pos.Col, Key: key, Value: value, Msg: msg, err: wrapped})
}

func (d *configDecoder) typeError(path string, n *conf.Node, want string) {
	got := n.Kind.String()
	switch n.Kind {
	case conf.String:
		got += " " + strconv.Quote(n.Str)
	case conf.Map, conf.Array:
	default:
		got += " " + n.Text()
	}
	d.fail(n.Pos, path, scalarText(n), nil, fmt.Sprintf("expected %s, got %s", want, got))
}

// scalarText is the Value of a ConfigError: empty for maps and arrays.
func scalarText(n *conf.Node) string {
	if n.Kind == conf.Map || n.Kind == conf.Array {
		return ""
	}
	return n.Text()
}

// unknown reports a key the block does not know, unless the key exists only
// to be referenced as a $VAR.
func (d *configDecoder) unknown(prefix string, e conf.Entry, unsupported string) {
	if e.Referenced {
		return
	}
	path := e.Key
	if prefix != "" {
		path = prefix + "." + e.Key
	}
	if strings.Contains(" "+unsupported+" ", " "+strings.ToLower(e.Key)+" ") {
		d.fail(e.KeyPos, path, scalarText(e.Value), ErrNotImplemented, fmt.Sprintf("field %q is not supported by fern yet", e.Key))
		return
	}
	d.fail(e.KeyPos, path, scalarText(e.Value), ErrUnknownKey, fmt.Sprintf("unknown field %q", e.Key))
}

func (d *configDecoder) entries(path string, n *conf.Node) []conf.Entry {
	if n.Kind != conf.Map {
		d.typeError(path, n, "map")
		return nil
	}
	return n.Map
}

func (d *configDecoder) str(path string, n *conf.Node, dst *string) bool {
	if n.Kind != conf.String {
		d.typeError(path, n, "string")
		return false
	}
	*dst = n.Str
	return true
}

func (d *configDecoder) boolean(path string, n *conf.Node, dst *bool) {
	if n.Kind != conf.Bool {
		d.typeError(path, n, "boolean")
		return
	}
	*dst = n.Bool
}

// decodeInt reads an integer in [lo, hi] into dst.
func decodeInt[T int | int64](d *configDecoder, path string, n *conf.Node, lo, hi int64, dst *T) bool {
	if n.Kind != conf.Int {
		d.typeError(path, n, "integer")
		return false
	}
	if n.Int < lo || n.Int > hi {
		d.fail(n.Pos, path, n.Text(), nil, fmt.Sprintf("value %s is out of range [%d, %d]", n.Text(), lo, hi))
		return false
	}
	*dst = T(n.Int)
	return true
}

func (d *configDecoder) integer(path string, n *conf.Node, lo, hi int64, dst *int) {
	decodeInt(d, path, n, lo, hi, dst)
}

// port reads a port number; -1 asks for an ephemeral port.
func (d *configDecoder) port(path string, n *conf.Node, dst *int) {
	decodeInt(d, path, n, -1, 65535, dst)
}

// name reads a server or cluster name, which must not contain spaces.
func (d *configDecoder) name(path string, n *conf.Node, dst *string, what string) {
	var s string
	if !d.str(path, n, &s) {
		return
	}
	if strings.Contains(s, " ") {
		d.fail(n.Pos, path, s, nil, fmt.Sprintf("%s %q must not contain spaces", what, s))
		return
	}
	*dst = s
}

// listen reads a port or "host:port".
func (d *configDecoder) listen(path string, n *conf.Node, host *string, port *int) {
	switch n.Kind {
	case conf.Int:
		d.port(path, n, port)
		return
	case conf.String:
	default:
		d.typeError(path, n, `port or "host:port"`)
		return
	}
	h, p, err := net.SplitHostPort(n.Str)
	if err != nil {
		d.fail(n.Pos, path, n.Str, nil, fmt.Sprintf("invalid listen address %q: want port or host:port", n.Str))
		return
	}
	pn, err := strconv.Atoi(p)
	if err != nil || pn < -1 || pn > 65535 {
		d.fail(n.Pos, path, n.Str, nil, fmt.Sprintf("invalid port %q in listen address %q", p, n.Str))
		return
	}
	*host, *port = h, pn
}

// duration reads a Go duration string ("10s") or an integer number of
// seconds. An integer written with a size suffix ("2m" is 2,000,000, m for
// mega) is rejected: it is almost always a mistyped duration.
func (d *configDecoder) duration(path string, n *conf.Node, dst *time.Duration) {
	switch n.Kind {
	case conf.String:
		v, err := time.ParseDuration(n.Str)
		if err != nil {
			d.fail(n.Pos, path, n.Str, nil, fmt.Sprintf("invalid duration %q: want a duration like \"10s\" or \"2m\"", n.Str))
			return
		}
		if v < 0 {
			d.fail(n.Pos, path, n.Str, nil, fmt.Sprintf("duration %q must not be negative", n.Str))
			return
		}
		*dst = v
	case conf.Int:
		if strings.TrimLeft(n.Raw, "-0123456789") != "" {
			d.fail(n.Pos, path, n.Raw, nil, fmt.Sprintf("%s reads as the integer %d (a size suffix), not a duration; quote it: \"%s\"", n.Raw, n.Int, n.Raw))
			return
		}
		if n.Int < 0 || n.Int > math.MaxInt64/int64(time.Second) {
			d.fail(n.Pos, path, n.Text(), nil, fmt.Sprintf("%d seconds is out of range", n.Int))
			return
		}
		*dst = time.Duration(n.Int) * time.Second
	default:
		d.typeError(path, n, `duration string like "10s" or integer seconds`)
	}
}

// seconds reads a duration that may also be a (fractional) number of
// seconds, as authorization.timeout allows.
func (d *configDecoder) seconds(path string, n *conf.Node, dst *time.Duration) {
	if n.Kind != conf.Float {
		d.duration(path, n, dst)
		return
	}
	if n.Float < 0 || n.Float*float64(time.Second) >= math.MaxInt64 {
		d.fail(n.Pos, path, n.Text(), nil, fmt.Sprintf("%s seconds is out of range", n.Text()))
		return
	}
	*dst = time.Duration(n.Float * float64(time.Second))
}

// storageSize reads a JetStream limit: an integer (suffixes are decimal
// unless written kb, mb, ...) or a string such as "1G" whose K, M, G, T
// suffix is binary, as in the official server. -1 means unlimited.
func (d *configDecoder) storageSize(path string, n *conf.Node, dst *int64) {
	switch n.Kind {
	case conf.Int:
		decodeInt(d, path, n, -1, math.MaxInt64, dst)
	case conf.String:
		v, ok := parseStorageSize(n.Str)
		if !ok {
			d.fail(n.Pos, path, n.Str, nil, fmt.Sprintf("invalid size %q: want an integer, or a string like \"1G\" with suffix K, M, G or T", n.Str))
			return
		}
		*dst = v
	default:
		d.typeError(path, n, "size")
	}
}

func parseStorageSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	shift := strings.IndexByte("KMGT", strings.ToUpper(s[len(s)-1:])[0])
	if shift < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || v < 0 || v > math.MaxInt64>>(10*(shift+1)) {
		return 0, false
	}
	return v << (10 * (shift + 1)), true
}

// stringList reads a string or an array of strings, calling each for every
// element with its node.
func (d *configDecoder) stringList(path string, n *conf.Node, each func(*conf.Node)) {
	switch n.Kind {
	case conf.String:
		each(n)
	case conf.Array:
		for _, el := range n.Array {
			if el.Kind != conf.String {
				d.typeError(path, el, "string")
				continue
			}
			each(el)
		}
	default:
		d.typeError(path, n, "string or array of strings")
	}
}

// urls reads route or remote URLs; each must have a host.
func (d *configDecoder) urls(path string, n *conf.Node, dst *[]string) {
	d.stringList(path, n, func(el *conf.Node) {
		s := strings.TrimSpace(el.Str)
		u, err := url.Parse(s)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			d.fail(el.Pos, path, el.Str, nil, fmt.Sprintf("invalid URL %q: %v", el.Str, err))
			return
		}
		if u.Host == "" {
			d.fail(el.Pos, path, el.Str, nil, fmt.Sprintf("invalid URL %q: no host (want nats://host:port)", el.Str))
			return
		}
		*dst = append(*dst, s)
	})
}

// cidrs reads CIDR prefixes; a bare address is a /32 (IPv4) or /128 (IPv6).
func (d *configDecoder) cidrs(path string, n *conf.Node, dst *[]netip.Prefix) {
	d.stringList(path, n, func(el *conf.Node) {
		p, err := parseCIDR(strings.TrimSpace(el.Str))
		if err != nil {
			d.fail(el.Pos, path, el.Str, nil, fmt.Sprintf("invalid CIDR %q: %v", el.Str, err))
			return
		}
		*dst = append(*dst, p)
	})
}

func parseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			// Drop netip's echo of the input; the message quotes it already.
			msg := strings.TrimPrefix(err.Error(), "netip.ParsePrefix("+strconv.Quote(s)+"): ")
			msg = strings.TrimPrefix(msg, "ParseAddr("+strconv.Quote(s[:strings.IndexByte(s, '/')])+"): ")
			return netip.Prefix{}, errors.New(msg)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New(strings.TrimPrefix(err.Error(), "ParseAddr("+strconv.Quote(s)+"): "))
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("an address with a zone is not a CIDR")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
