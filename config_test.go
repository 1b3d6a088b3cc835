package fern

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fernmq/fern/internal/conf"
)

var optsCmp = cmp.Options{
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// TestReadConfigSeeds reads the two scenario files verbatim.
func TestReadConfigSeeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want Options
	}{
		{"testdata/conf/seed-leaf.conf", Options{
			Host: "0.0.0.0", Port: 4222,
			JetStream: JetStreamOptions{Enabled: true, StoreDir: "./store"},
			LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{
				{URLs: []string{"nats://nats-1:4222"}},
				{URLs: []string{"nats://nats-2:4222"}},
				{URLs: []string{"nats://nats-3:4222"}},
			}},
			ConfigFile: "testdata/conf/seed-leaf.conf",
		}},
		{"testdata/conf/seed-core.conf", Options{
			Host: "0.0.0.0", Port: 4222,
			Cluster:       ClusterOptions{Host: "0.0.0.0", Port: 6222, Routes: []string{"nats://nats-2:6222", "nats://nats-3:6222"}},
			JetStream:     JetStreamOptions{Enabled: true, StoreDir: "./store"},
			Authorization: Authorization{AllowedLeafCIDRs: prefixes("192.168.1.0/24")},
			ConfigFile:    "testdata/conf/seed-core.conf",
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			got, err := ReadConfigFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got, optsCmp); diff != "" {
				t.Errorf("ReadConfigFile(%s) mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestReadConfigAll covers every key Fern maps, through aliases.
func TestReadConfigAll(t *testing.T) {
	t.Parallel()
	got, err := ReadConfigFile("testdata/conf/all.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{
		ServerName: "fern-1", Host: "10.0.0.1", Port: 4333,
		MaxPayload: 2 << 20, MaxConnections: 1000, MaxControlLine: 8 << 10, MaxPending: 128 << 20,
		WriteDeadline: 5 * time.Second, PingInterval: 30 * time.Second, PingMax: 3,
		Debug: true, Trace: false, Logtime: true,
		Authorization: Authorization{
			User: "admin", Password: "s3cr3t", Token: "tok", Timeout: 1500 * time.Millisecond,
			AllowedLeafCIDRs: prefixes("10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "::1/128"),
		},
		Cluster: ClusterOptions{Name: "core", Host: "0.0.0.0", Port: 6222, Routes: []string{"nats://a:6222", "nats://b:6222"}},
		LeafNode: LeafNodeOptions{
			Host: "0.0.0.0", Port: 7422, ReconnectInterval: 250 * time.Millisecond,
			Remotes: []RemoteLeafOptions{
				{URLs: []string{"nats://hub-1:7422"}},
				{URLs: []string{"nats://hub-2:7422", "nats://hub-3:7422"}},
			},
			AllowedLeafCIDRs: prefixes("172.16.0.0/12"),
		},
		JetStream:  JetStreamOptions{Enabled: true, StoreDir: "/var/lib/fern", MaxMemoryStore: 1e9, MaxFileStore: 2 << 40},
		ConfigFile: "testdata/conf/all.conf",
	}
	if diff := cmp.Diff(want, got, optsCmp); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestReadConfigInclude(t *testing.T) {
	t.Parallel()
	got, err := ReadConfigFile("testdata/conf/include-main.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{
		Port:       4222,
		Cluster:    ClusterOptions{Name: "included", Routes: []string{"nats://peer:6222"}},
		JetStream:  JetStreamOptions{Enabled: true, StoreDir: "./data"},
		ConfigFile: "testdata/conf/include-main.conf",
	}
	if diff := cmp.Diff(want, got, optsCmp); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestParseConfigValues checks syntax features and value forms as they
// reach Options.
func TestParseConfigValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Options
	}{
		{"colon", "port: 1", Options{Port: 1}},
		{"equals", "port = 1", Options{Port: 1}},
		{"space", "port 1", Options{Port: 1}},
		{"keys are case-insensitive", "PORT: 1\nServer_Name: x", Options{Port: 1, ServerName: "x"}},
		{"wrapped json", `{"port": 1, "debug": true,}`, Options{Port: 1, Debug: true}},
		{"terminators and comments", "port: 1; debug: on, trace: yes # c\n// c\nlogtime: TRUE", Options{Port: 1, Debug: true, Trace: true, Logtime: true}},
		{"last setting wins", "port: 1\nport: 2\nlisten: 3", Options{Port: 3}},
		{"listen port", "listen: 4222", Options{Port: 4222}},
		{"listen host:port", "listen: 127.0.0.1:5222", Options{Host: "127.0.0.1", Port: 5222}},
		{"listen :port", `listen: ":5222"`, Options{Port: 5222}},
		{"listen ipv6", `listen: "[::1]:5222"`, Options{Host: "::1", Port: 5222}},
		{"listen ephemeral", "listen: -1", Options{Port: -1}},
		{"host alias", "net: 0.0.0.0", Options{Host: "0.0.0.0"}},
		{"sizes", "max_payload: 1k\nmax_pending: 1KB\nmax_control_line: 1mb\nmax_connections: 2K", Options{MaxPayload: 1000, MaxPending: 1024, MaxControlLine: 1 << 20, MaxConnections: 2000}},
		{"duration strings", `write_deadline: "1m30s"` + "\nping_interval: 2h", Options{WriteDeadline: 90 * time.Second, PingInterval: 2 * time.Hour}},
		{"duration bare string", "write_deadline: 10s\nping_interval: 500ms", Options{WriteDeadline: 10 * time.Second, PingInterval: 500 * time.Millisecond}},
		{"duration seconds", "write_deadline: 10\nping_interval: 0", Options{WriteDeadline: 10 * time.Second}},
		{"auth timeout forms", "authorization { timeout: 0.25 }", Options{Authorization: Authorization{Timeout: 250 * time.Millisecond}}},
		{"auth timeout int", "authorization { timeout: 3 }", Options{Authorization: Authorization{Timeout: 3 * time.Second}}},
		{"auth timeout string", "authorization { timeout: \"4s\" }", Options{Authorization: Authorization{Timeout: 4 * time.Second}}},
		{"block string", "authorization {\n  token: (\nabc\n)\n}", Options{Authorization: Authorization{Token: "\nabc"}}},
		{"quoted escapes", `authorization { password: "p\"w\x21" }`, Options{Authorization: Authorization{Password: `p"w!`}}},
		{"bcrypt password", "authorization { password: $2a$11$abcdefghij }", Options{Authorization: Authorization{Password: "$2a$11$abcdefghij"}}},
		{"variable", "P: 4222\nport: $P\nauthorization { T: x, token: $T }", Options{Port: 4222, Authorization: Authorization{Token: "x"}}},
		{"cidr forms", `authorization { allowed_leaf_cidrs: ["10.1.2.3", "fd00::1", "10.0.0.0/8", "192.168.1.5/24"] }`,
			Options{Authorization: Authorization{AllowedLeafCIDRs: prefixes("10.1.2.3/32", "fd00::1/128", "10.0.0.0/8", "192.168.1.5/24")}}},
		{"cidr single string", `authorization { allowed_leaf_cidrs: "10.0.0.0/8" }`, Options{Authorization: Authorization{AllowedLeafCIDRs: prefixes("10.0.0.0/8")}}},
		{"jetstream true", "jetstream: true", Options{JetStream: JetStreamOptions{Enabled: true}}},
		{"jetstream enabled", "jetstream: enabled", Options{JetStream: JetStreamOptions{Enabled: true}}},
		{"jetstream disabled", "jetstream: \"Disabled\"", Options{}},
		{"jetstream off", "jetstream: off", Options{}},
		{"jetstream empty block", "jetstream {}", Options{JetStream: JetStreamOptions{Enabled: true}}},
		{"jetstream block disabled", "jetstream { enabled: false, store_dir: /d }", Options{JetStream: JetStreamOptions{StoreDir: "/d"}}},
		{"jetstream sizes", `jetstream { max_memory_store: 1G, max_file: "10G", max_mem_store: -1 }`, Options{JetStream: JetStreamOptions{Enabled: true, MaxMemoryStore: -1, MaxFileStore: 10 << 30}}},
		{"jetstream size string forms", `jetstream { max_mem: "512m", max_file: "" }`, Options{JetStream: JetStreamOptions{Enabled: true, MaxMemoryStore: 512 << 20}}},
		{"top-level store_dir", "store_dir: /s\njetstream: true", Options{JetStream: JetStreamOptions{Enabled: true, StoreDir: "/s"}}},
		{"storeDir camel case", "jetstream { storeDir: ./x }", Options{JetStream: JetStreamOptions{Enabled: true, StoreDir: "./x"}}},
		{"cluster", "cluster { name: c, host: h, port: 1, routes: nats://r:1 }", Options{Cluster: ClusterOptions{Name: "c", Host: "h", Port: 1, Routes: []string{"nats://r:1"}}}},
		{"cluster options", "cluster { listen: 6222, advertise: \"core-1:6222\", no_advertise: true, connect_retries: 3, authorization { user: r, password: p, timeout: 1 } }",
			Options{Cluster: ClusterOptions{Port: 6222, Advertise: "core-1:6222", NoAdvertise: true, ConnectRetries: 3, User: "r", Password: "p", AuthTimeout: time.Second}}},
		{"websocket", "websocket { listen: \"127.0.0.1:8080\", no_tls: true }", Options{Websocket: WebsocketOptions{Host: "127.0.0.1", Port: 8080, NoTLS: true}}},
		{"leafnodes", "leafnodes { listen: 7422, reconnect: 5, remotes: [{url: nats://h:1, urls: [nats://h:2]}] }",
			Options{LeafNode: LeafNodeOptions{Port: 7422, ReconnectInterval: 5 * time.Second, Remotes: []RemoteLeafOptions{{URLs: []string{"nats://h:1", "nats://h:2"}}}}}},
		{"leafnodes authorization", "leaf { reconnect_interval: \"2s\", authorization { allowed_leaf_cidrs: [\"::1\"] } }",
			Options{LeafNode: LeafNodeOptions{ReconnectInterval: 2 * time.Second, AllowedLeafCIDRs: prefixes("::1/128")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(conf.Reader{}, "t.conf", []byte(tt.in))
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(&tt.want, got, optsCmp); diff != "" {
				t.Errorf("ParseConfig(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseConfigEnvironment(t *testing.T) {
	t.Setenv("FERN_TEST_PORT", "4999")
	t.Setenv("FERN_TEST_PAYLOAD", "2MB")
	t.Setenv("FERN_TEST_ROUTES", `["nats://a:1", "nats://b:2"]`)
	got, err := ParseConfig("env.conf", []byte("port: $FERN_TEST_PORT\nmax_payload: $FERN_TEST_PAYLOAD\ncluster { routes: $FERN_TEST_ROUTES }"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{Port: 4999, MaxPayload: 2 << 20, Cluster: ClusterOptions{Routes: []string{"nats://a:1", "nats://b:2"}}}
	if diff := cmp.Diff(want, got, optsCmp); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestParseConfigErrors checks the position, key, value, message and class
// of every kind of bad setting.
func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in   string
		pos        string // line:col
		key, value string
		msg        string // substring
		wraps      error  // nil: no class to check
	}{
		{"syntax", "port: 1\ncluster {\n  routes: [a\n", "4:1", "", "", `the "[" at 3:11 is not closed`, conf.ErrSyntax},
		{"bad number", "max_payload: 99999999999999999999", "1:14", "", "", "out of range", conf.ErrValue},
		{"undefined variable", "port: $FERN_SURELY_UNDEFINED", "1:7", "", "", "variable $FERN_SURELY_UNDEFINED is not defined", conf.ErrVariable},
		{"unknown top", "port: 1\nfoo: bar", "2:1", "foo", "bar", `unknown field "foo"`, ErrUnknownKey},
		{"unknown in cluster", "cluster {\n  name: c\n  nme: x\n}", "3:3", "cluster.nme", "x", `unknown field "nme"`, ErrUnknownKey},
		{"unknown in authorization", "authorization { user: a, usr: b }", "1:26", "authorization.usr", "b", `unknown field "usr"`, ErrUnknownKey},
		{"unknown in leaf", "leaf {\n\tremote: []\n}", "2:2", "leaf.remote", "", `unknown field "remote"`, ErrUnknownKey},
		{"unknown in leaf authorization", "leafnodes { authorization { cidrs: [] } }", "1:29", "leafnodes.authorization.cidrs", "", `unknown field "cidrs"`, ErrUnknownKey},
		{"unknown in remote", "leafnodes { remotes: [ {url: nats://a:1}, {uri: nats://b:1} ] }", "1:44", "leafnodes.remotes[1].uri", "nats://b:1", `unknown field "uri"`, ErrUnknownKey},
		{"unknown in jetstream", "jetstream {\n  max_memory: 1G\n}", "2:3", "jetstream.max_memory", "1G", `unknown field "max_memory"`, ErrUnknownKey},
		{"referenced key is exempt, unreferenced is not", "X: 1\ncluster { port: $X }\nY: 2", "3:1", "Y", "2", `unknown field "Y"`, ErrUnknownKey},
		{"not implemented top", "gateway {\n  port: 1\n}", "1:1", "gateway", "", `field "gateway" is not supported by fern yet`, ErrNotImplemented},
		{"not implemented in cluster", "cluster { pool_size: 3 }", "1:11", "cluster.pool_size", "3", "not supported", ErrNotImplemented},
		{"not implemented in remote", "leaf { remotes: [{ url: nats://a:1, credentials: x.creds }] }", "1:37", "leaf.remotes[0].credentials", "x.creds", "not supported", ErrNotImplemented},
		{"type string", "server_name: 42", "1:14", "server_name", "42", "expected string, got integer 42", nil},
		{"type integer", "port: abc", "1:7", "port", "abc", `expected integer, got string "abc"`, nil},
		{"type boolean", "debug: 1", "1:8", "debug", "1", "expected boolean, got integer 1", nil},
		{"type map", "cluster: 1", "1:10", "cluster", "1", "expected map, got integer 1", nil},
		{"type array of remotes", "leaf { remotes: {url: x} }", "1:17", "leaf.remotes", "", "expected array of remotes, got map", nil},
		{"type remote", "leaf { remotes: [ nats://x:1 ] }", "1:19", "leaf.remotes[0]", "nats://x:1", `expected map, got string "nats://x:1"`, nil},
		{"type in string list", "cluster { routes: [nats://a:1, 5] }", "1:32", "cluster.routes", "5", "expected string, got integer 5", nil},
		{"type list", "cluster { routes: {} }", "1:19", "cluster.routes", "", "expected string or array of strings, got map", nil},
		{"type jetstream", "jetstream: 5", "1:12", "jetstream", "5", `expected boolean, "enabled", "disabled" or a map, got integer 5`, nil},
		{"type duration", "ping_interval: true", "1:16", "ping_interval", "true", `expected duration string like "10s" or integer seconds, got boolean true`, nil},
		{"type size", "jetstream { max_mem: true }", "1:22", "jetstream.max_mem", "true", "expected size, got boolean true", nil},
		{"port range", "port: 70000", "1:7", "port", "70000", "value 70000 is out of range [-1, 65535]", nil},
		{"payload range", "max_payload: 3GB", "1:14", "max_payload", "3GB", "value 3GB is out of range [0, 2147483647]", nil},
		{"negative connections", "max_connections: -1", "1:18", "max_connections", "-1", "out of range", nil},
		{"type listen", "listen: [1]", "1:9", "listen", "", `expected port or "host:port", got array`, nil},
		{"bad listen", "listen: localhost", "1:9", "listen", "localhost", `invalid listen address "localhost": want port or host:port`, nil},
		{"bad listen port", "cluster { listen: \"h:99999\" }", "1:19", "cluster.listen", "h:99999", `invalid port "99999" in listen address "h:99999"`, nil},
		{"bad duration", "write_deadline: \"5x\"", "1:17", "write_deadline", "5x", `invalid duration "5x"`, nil},
		{"mega is not minutes", "ping_interval: 2m", "1:16", "ping_interval", "2m", `2m reads as the integer 2000000 (a size suffix), not a duration; quote it: "2m"`, nil},
		{"negative duration", "leaf { reconnect: \"-1s\" }", "1:19", "leaf.reconnect", "-1s", "must not be negative", nil},
		{"negative seconds", "write_deadline: -5", "1:17", "write_deadline", "-5", "-5 seconds is out of range", nil},
		{"negative auth timeout", "authorization { timeout: -0.5 }", "1:26", "authorization.timeout", "-0.5", "out of range", nil},
		{"server name spaces", "server_name: \"a b\"", "1:14", "server_name", "a b", `server name "a b" must not contain spaces`, nil},
		{"cluster name spaces", "cluster { name: 'a b' }", "1:17", "cluster.name", "a b", `cluster name "a b" must not contain spaces`, nil},
		{"cidr prefix length", "authorization {\n  allowed_leaf_cidrs = [\"10.0.0.0/8\", \"192.168.1.0/33\"]\n}", "2:39", "authorization.allowed_leaf_cidrs", "192.168.1.0/33", `invalid CIDR "192.168.1.0/33": prefix length out of range`, nil},
		{"cidr bad address", "authorization { allowed_leaf_cidrs: [10.0.0.300/8] }", "1:38", "authorization.allowed_leaf_cidrs", "10.0.0.300/8", `invalid CIDR "10.0.0.300/8": IPv4 field has value >255`, nil},
		{"cidr bare bad address", "leaf { authorization { allowed_leaf_cidrs: [\"x\"] } }", "1:45", "leaf.authorization.allowed_leaf_cidrs", "x", `invalid CIDR "x": unable to parse IP`, nil},
		{"cidr zone", `authorization { allowed_leaf_cidrs: "fe80::1%eth0" }`, "1:37", "authorization.allowed_leaf_cidrs", "fe80::1%eth0", "zone", nil},
		{"route without scheme", "cluster {\n  routes = [\n    \"nats-2:6222\"\n  ]\n}", "3:5", "cluster.routes", "nats-2:6222", `invalid URL "nats-2:6222": no host`, nil},
		{"route bad url", `cluster { routes: ["nats://a b:1"] }`, "1:20", "cluster.routes", "nats://a b:1", `invalid URL "nats://a b:1": invalid character " " in host name`, nil},
		{"remote bad url", `leaf { remotes: [{ urls: ["nats://ok:1", "::"] }] }`, "1:42", "leaf.remotes[0].urls", "::", `invalid URL "::"`, nil},
		{"store_dir top then block", "store_dir: /a\njetstream { store_dir: /b }", "2:24", "jetstream.store_dir", "/b", "Duplicate 'store_dir' configuration", nil},
		{"store_dir block then top", "jetstream { store: /b }\nstoredir: /a", "2:11", "storedir", "/a", "Duplicate 'store_dir' configuration", nil},
		{"jetstream bad string", "jetstream: maybe", "1:12", "jetstream", "maybe", `expected true, false, "enabled" or "disabled", got "maybe"`, nil},
		{"bad storage size", `jetstream { max_file: "1X" }`, "1:23", "jetstream.max_file", "1X", `invalid size "1X"`, nil},
		{"storage size overflow", `jetstream { max_file: "99999999999T" }`, "1:23", "jetstream.max_file", "99999999999T", "invalid size", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(conf.Reader{Env: os.LookupEnv}, "t.conf", []byte(tt.in))
			checkConfigError(t, err, "t.conf:"+tt.pos, tt.key, tt.value, tt.msg, tt.wraps)
		})
	}
}

// checkConfigError asserts that err is a single *ConfigError as described.
func checkConfigError(t *testing.T, err error, pos, key, value, msg string, wraps error) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
	}
	if _, joined := err.(interface{ Unwrap() []error }); joined {
		t.Errorf("got several errors, want one: %v", err)
	}
	if got := ce.File + ":" + strconv.Itoa(ce.Line) + ":" + strconv.Itoa(ce.Col); got != pos {
		t.Errorf("error at %s, want %s: %v", got, pos, err)
	}
	if ce.Key != key || ce.Value != value {
		t.Errorf("key, value = %q, %q; want %q, %q", ce.Key, ce.Value, key, value)
	}
	if !strings.Contains(ce.Msg, msg) {
		t.Errorf("message %q does not contain %q", ce.Msg, msg)
	}
	if wraps != nil && !errors.Is(err, wraps) {
		t.Errorf("error %v does not wrap %v", err, wraps)
	}
	want := pos + ": "
	if key != "" {
		want += key + ": "
	}
	if want += ce.Msg; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	t.Parallel()
	_, err := parseConfig(conf.Reader{}, "core.conf", []byte("authorization {\n  allowed_leaf_cidrs = [\"192.168.1.0/33\"]\n}"))
	const want = `core.conf:2:25: authorization.allowed_leaf_cidrs: invalid CIDR "192.168.1.0/33": prefix length out of range`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	noFile := &ConfigError{Line: 3, Col: 4, Msg: "m"}
	if got := noFile.Error(); got != "3:4: m" {
		t.Errorf("error without file or key = %q", got)
	}
}

// TestParseConfigReportsAllErrors: every bad setting is reported, in order.
func TestParseConfigReportsAllErrors(t *testing.T) {
	t.Parallel()
	_, err := parseConfig(conf.Reader{}, "m.conf", []byte("foo: 1\nport: x\ncluster { bar: 2 }\ndebug: true"))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`m.conf:1:1: foo: unknown field "foo"`,
		`m.conf:2:7: port: expected integer, got string "x"`,
		`m.conf:3:11: cluster.bar: unknown field "bar"`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrUnknownKey) {
		t.Error("joined error does not wrap ErrUnknownKey")
	}
}

func TestReadConfigFileErrors(t *testing.T) {
	t.Parallel()
	_, err := ReadConfigFile("testdata/conf/include-unknown.conf")
	checkConfigError(t, err, filepath.Join("testdata", "conf", "include", "leaf-unknown.conf")+":2:38",
		"leafnodes.remotes[0].colour", "blue", `unknown field "colour"`, ErrUnknownKey)

	_, err = ReadConfigFile("testdata/conf/does-not-exist.conf")
	var ce *ConfigError
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &ce) {
		t.Errorf("missing file: %v, want a plain error wrapping fs.ErrNotExist", err)
	}

	_, err = ParseConfig("testdata/conf/x.conf", []byte("cluster {\n  include nope.conf\n}"))
	checkConfigError(t, err, "testdata/conf/x.conf:2:11", "", "", "include", fs.ErrNotExist)
}

// FuzzParseConfig: any input yields Options or *ConfigErrors, never a panic.
func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob("testdata/conf/*.conf")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("jetstream { store_dir: x }\nstore_dir: y\nleaf { remotes: [{url: x}, 1] }"))
	f.Add([]byte("V: 1\nport: $V\nauthorization { timeout: 1e, allowed_leaf_cidrs: [1.2.3.4, 5] }"))
	noFiles := conf.Reader{ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist }}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts, err := parseConfig(noFiles, "fuzz.conf", data)
		if err == nil {
			if opts == nil {
				t.Fatal("nil Options without an error")
			}
			return
		}
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
		for _, e := range errs {
			var ce *ConfigError
			if !errors.As(e, &ce) || ce.Line < 1 || ce.Col < 1 || ce.Msg == "" {
				t.Fatalf("error %v (%T) is not a positioned *ConfigError", e, e)
			}
		}
	})
}
