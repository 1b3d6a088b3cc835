package fern

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/internal/conf"
)

var defaultRTTs = compress.DefaultRTTThresholds()

func ms(ds ...int) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = time.Duration(d) * time.Millisecond
	}
	return out
}

// TestParseConfigTLS decodes tls {} in every block that has one, with
// every key and value form.
func TestParseConfigTLS(t *testing.T) {
	t.Parallel()
	full := &TLSOptions{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem", Verify: true, Insecure: true, Timeout: 3 * time.Second}
	tests := []struct {
		name, in string
		want     Options
	}{
		{"top, every key", `tls { cert_file: c.pem, key_file: "k.pem", ca_file: ca.pem, verify: true, insecure: true, timeout: 3 }`,
			Options{TLS: full}},
		{"keys are case-insensitive", `TLS { Cert_File: c.pem, KEY_FILE: k.pem, CA_file: ca.pem, Verify: true, insecure: true, Timeout: 3 }`,
			Options{TLS: full}},
		{"empty block", `tls {}`, Options{TLS: &TLSOptions{}}},
		{"timeout float seconds", `tls { timeout: 0.5 }`, Options{TLS: &TLSOptions{Timeout: 500 * time.Millisecond}}},
		{"timeout duration string", `tls { timeout: "250ms" }`, Options{TLS: &TLSOptions{Timeout: 250 * time.Millisecond}}},
		{"leafnodes", `leafnodes { port: 7422, tls { cert_file: c.pem, key_file: k.pem, verify: true } }`,
			Options{LeafNode: LeafNodeOptions{Port: 7422, TLS: &TLSOptions{CertFile: "c.pem", KeyFile: "k.pem", Verify: true}}}},
		{"remote", `leaf { remotes: [ { url: "tls://hub:7422", tls: { ca_file: ca.pem, insecure: true } }, { url: "nats://b:1" } ] }`,
			Options{LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{
				{URLs: []string{"tls://hub:7422"}, TLS: &TLSOptions{CAFile: "ca.pem", Insecure: true}},
				{URLs: []string{"nats://b:1"}},
			}}}},
		{"websocket", `websocket { port: 443, tls { cert_file: c.pem, key_file: k.pem } }`,
			Options{Websocket: WebsocketOptions{Port: 443, TLS: &TLSOptions{CertFile: "c.pem", KeyFile: "k.pem"}}}},
		{"cluster", `cluster { port: 6222, tls { cert_file: c.pem, key_file: k.pem, ca_file: ca.pem } }`,
			Options{Cluster: ClusterOptions{Port: 6222, TLS: &TLSOptions{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem"}}}},
		{"variable", "CA: ca.pem\ntls { ca_file: $CA }", Options{TLS: &TLSOptions{CAFile: "ca.pem"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(conf.Reader{}, "t.conf", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got, optsCmp); diff != "" {
				t.Errorf("ParseConfig(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestParseConfigCompression decodes every form of compression in every
// block that has it, with the block's default and meaning of "on".
func TestParseConfigCompression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, block, value string
		want               CompressionOptions
	}{
		{"cluster true", "cluster", "true", CompressionOptions{Mode: compress.S2Fast}},
		{"cluster false", "cluster", "false", CompressionOptions{Mode: compress.Off}},
		{"cluster on", "cluster", `"on"`, CompressionOptions{Mode: compress.S2Fast}},
		{"cluster enabled", "cluster", "enabled", CompressionOptions{Mode: compress.S2Fast}},
		{"cluster disabled", "cluster", "disabled", CompressionOptions{Mode: compress.Off}},
		{"cluster accept", "cluster", "accept", CompressionOptions{Mode: compress.Accept}},
		{"cluster mixed case", "cluster", "S2_Best", CompressionOptions{Mode: compress.S2Best}},
		{"cluster short name", "cluster", "better", CompressionOptions{Mode: compress.S2Better}},
		{"cluster auto", "cluster", "auto", CompressionOptions{Mode: compress.S2Auto, RTTThresholds: defaultRTTs}},
		{"cluster uncompressed", "cluster", "s2_uncompressed", CompressionOptions{Mode: compress.S2Uncompressed}},
		{"cluster not supported", "cluster", `"not supported"`, CompressionOptions{Mode: compress.NotSupported}},
		{"cluster empty string is the default", "cluster", `""`, CompressionOptions{Mode: compress.Accept}},
		{"cluster map mode", "cluster", "{ mode: fast }", CompressionOptions{Mode: compress.S2Fast}},
		{"cluster map thresholds", "cluster", `{ mode: s2_auto, rtt_thresholds: ["5ms", "20ms", "40ms"] }`,
			CompressionOptions{Mode: compress.S2Auto, RTTThresholds: ms(5, 20, 40)}},
		{"cluster thresholds without mode stay accept", "cluster", `{ thresholds: ["5ms"] }`, CompressionOptions{Mode: compress.Accept}},
		{"cluster thresholds ignored by a fixed level", "cluster", `{ mode: best, rtts: ["5ms"] }`, CompressionOptions{Mode: compress.S2Best}},
		{"leafnodes true", "leafnodes", "true", CompressionOptions{Mode: compress.S2Auto, RTTThresholds: defaultRTTs}},
		{"leafnodes on", "leafnodes", "on", CompressionOptions{Mode: compress.S2Auto, RTTThresholds: defaultRTTs}},
		{"leafnodes off", "leafnodes", "off", CompressionOptions{Mode: compress.Off}},
		{"leafnodes thresholds without mode", "leafnodes", `{ rtts: ["1ms", "2ms"] }`, CompressionOptions{Mode: compress.S2Auto, RTTThresholds: ms(1, 2)}},
		{"leafnodes thresholds alias rtt", "leafnodes", `{ MODE: auto, RTT: ["1ms", "0s", "3ms"] }`, CompressionOptions{Mode: compress.S2Auto, RTTThresholds: ms(1, 0, 3)}},
		{"leafnodes trailing zeros dropped", "leafnodes", `{ thresholds: ["10ms", "0s", "0s"] }`, CompressionOptions{Mode: compress.S2Auto, RTTThresholds: ms(10)}},
		{"leafnodes empty map is the default", "leafnodes", `{}`, CompressionOptions{Mode: compress.S2Auto, RTTThresholds: defaultRTTs}},
		{"remote true", "remote", "true", CompressionOptions{Mode: compress.S2Auto, RTTThresholds: defaultRTTs}},
		{"remote fixed", "remote", "s2_fast", CompressionOptions{Mode: compress.S2Fast}},
		{"remote map", "remote", `{ mode: s2_auto, rtt_thresholds: ["10ms", "20ms", "30ms", "40ms"] }`,
			CompressionOptions{Mode: compress.S2Auto, RTTThresholds: ms(10, 20, 30, 40)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in string
			var want Options
			switch tt.block {
			case "cluster":
				in = "cluster { compression: " + tt.value + " }"
				want.Cluster.Compression = tt.want
			case "leafnodes":
				in = "leafnodes { compression: " + tt.value + " }"
				want.LeafNode.Compression = tt.want
			case "remote":
				in = "leafnodes { remotes: [ { url: nats://h:1, compression: " + tt.value + " } ] }"
				want.LeafNode.Remotes = []RemoteLeafOptions{{URLs: []string{"nats://h:1"}, Compression: tt.want}}
			}
			got, err := parseConfig(conf.Reader{}, "t.conf", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, got, optsCmp); diff != "" {
				t.Errorf("ParseConfig(%q) mismatch (-want +got):\n%s", in, diff)
			}
		})
	}
}

// TestParseConfigTransportErrors checks position, key, value, message and
// class of bad tls and compression settings.
func TestParseConfigTransportErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in   string
		pos        string
		key, value string
		msg        string
		wraps      error
	}{
		{"bad mode", "cluster {\n  compression: fastest\n}", "2:16", "cluster.compression", "fastest", `invalid compression mode "fastest"`, compress.ErrMode},
		{"bad mode in map", "leafnodes { compression: { mode: zip } }", "1:34", "leafnodes.compression.mode", "zip", `invalid compression mode "zip"`, compress.ErrMode},
		{"bad mode in remote", "leaf { remotes: [{ url: nats://a:1, compression: gzip }] }", "1:50", "leaf.remotes[0].compression", "gzip", "invalid compression mode", compress.ErrMode},
		{"descending thresholds", `leafnodes { compression: { mode: s2_auto, rtt_thresholds: ["50ms", "10ms"] } }`, "1:59",
			"leafnodes.compression.rtt_thresholds", "", "must ascend", compress.ErrMode},
		{"too many thresholds", `cluster { compression: { mode: auto, rtts: ["1ms", "2ms", "3ms", "4ms", "5ms"] } }`, "1:44",
			"cluster.compression.rtts", "", "at most 4", compress.ErrMode},
		{"all thresholds zero", `leafnodes { compression: { thresholds: ["0s"] } }`, "1:40",
			"leafnodes.compression.thresholds", "", "at least one non-zero", compress.ErrMode},
		{"bad threshold", `leafnodes { compression: { rtts: ["1ms", "10x"] } }`, "1:42", "leafnodes.compression.rtts", "10x", `invalid duration "10x"`, nil},
		{"threshold not a string", `leafnodes { compression: { rtts: [10] } }`, "1:35", "leafnodes.compression.rtts", "10", `expected duration string like "10ms", got integer 10`, nil},
		{"thresholds not an array", `leafnodes { compression: { rtts: "10ms" } }`, "1:34", "leafnodes.compression.rtts", "10ms", `expected array of durations`, nil},
		{"mode not a string", `cluster { compression: { mode: 1 } }`, "1:32", "cluster.compression.mode", "1", "expected string, got integer 1", nil},
		{"compression wrong type", "cluster { compression: 5 }", "1:24", "cluster.compression", "5", "expected boolean, compression mode or a map, got integer 5", nil},
		{"compression unknown key", "cluster { compression: { mode: fast, level: 3 } }", "1:38", "cluster.compression.level", "3", `unknown field "level"`, ErrUnknownKey},
		{"tls not a map", "tls: true", "1:6", "tls", "true", "expected map, got boolean true", nil},
		{"tls unknown key", "tls {\n  cert: x.pem\n}", "2:3", "tls.cert", "x.pem", `unknown field "cert"`, ErrUnknownKey},
		{"tls server_name is not official", "leaf { remotes: [{ url: nats://a:1, tls: { server_name: h } }] }", "1:44",
			"leaf.remotes[0].tls.server_name", "h", `unknown field "server_name"`, ErrUnknownKey},
		{"tls unsupported key", "tls { cipher_suites: [a] }", "1:7", "tls.cipher_suites", "", `field "cipher_suites" is not supported by fern yet`, ErrNotImplemented},
		{"tls unsupported in remote", "leaf { remotes: [{ url: nats://a:1, tls: { handshake_first: true } }] }", "1:44",
			"leaf.remotes[0].tls.handshake_first", "true", "not supported", ErrNotImplemented},
		{"tls unsupported in websocket", "websocket { tls { pinned_certs: [] } }", "1:19", "websocket.tls.pinned_certs", "", "not supported", ErrNotImplemented},
		{"websocket compression stays unsupported", "websocket { no_tls: true, compression: true }", "1:27", "websocket.compression", "true", "not supported", ErrNotImplemented},
		{"tls cert_file type", "leafnodes { tls { cert_file: 1 } }", "1:30", "leafnodes.tls.cert_file", "1", "expected string, got integer 1", nil},
		{"tls verify type", "tls { verify: 1 }", "1:15", "tls.verify", "1", "expected boolean, got integer 1", nil},
		{"tls insecure type", "tls { insecure: \"yes\" }", "1:17", "tls.insecure", "yes", `expected boolean, got string "yes"`, nil},
		{"tls bad timeout", `tls { timeout: "2x" }`, "1:16", "tls.timeout", "2x", `invalid duration "2x"`, nil},
		{"tls negative timeout", "tls { timeout: -1 }", "1:16", "tls.timeout", "-1", "out of range", nil},
		{"tls negative float timeout", "tls { timeout: -0.5 }", "1:16", "tls.timeout", "-0.5", "out of range", nil},
		{"tls timeout type", "tls { timeout: [1] }", "1:16", "tls.timeout", "", "expected duration", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(conf.Reader{}, "t.conf", []byte(tt.in))
			checkConfigError(t, err, "t.conf:"+tt.pos, tt.key, tt.value, tt.msg, tt.wraps)
		})
	}
}

// TestParseConfigTLSOfficialKeys: every key the official parseTLS knows
// is either read or reported as not supported, never as unknown.
func TestParseConfigTLSOfficialKeys(t *testing.T) {
	t.Parallel()
	official := []string{"cert_file", "key_file", "ca_file", "insecure", "verify", "verify_and_map",
		"verify_cert_and_check_known_urls", "allow_insecure_cipher_suites", "cipher_suites",
		"curve_preferences", "timeout", "connection_rate_limit", "pinned_certs", "cert_store",
		"cert_match_by", "cert_match", "ca_certs_match", "handshake_first", "first", "immediate",
		"cert_match_skip_invalid", "ocsp_peer", "certs", "certificates", "min_version"}
	for _, k := range official {
		_, err := parseConfig(conf.Reader{}, "t.conf", []byte("tls { "+k+": {} }"))
		if err == nil || errors.Is(err, ErrUnknownKey) {
			t.Errorf("tls.%s: got %v, want a type error or ErrNotImplemented", k, err)
		}
	}
}

// TestNewServerTransportDefaults: an embedder leaving compression empty
// gets each block's default; "on" means the block's level; TLS blocks are
// copied, not shared.
func TestNewServerTransportDefaults(t *testing.T) {
	t.Parallel()
	remoteTLS := &TLSOptions{Insecure: true}
	in := Options{
		Cluster: ClusterOptions{Compression: CompressionOptions{Mode: "on"}},
		LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{
			{URLs: []string{"wss://hub:443"}, TLS: remoteTLS},
			{URLs: []string{"tls://hub:7422"}, Compression: CompressionOptions{Mode: "Fast"}},
			{URLs: []string{"nats://hub:7422"}, Compression: CompressionOptions{RTTThresholds: ms(5, 0, 0)}},
		}},
	}
	o := in.withDefaults()
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	got := []CompressionOptions{o.Cluster.Compression, o.LeafNode.Compression,
		o.LeafNode.Remotes[0].Compression, o.LeafNode.Remotes[1].Compression, o.LeafNode.Remotes[2].Compression}
	want := []CompressionOptions{
		{Mode: compress.S2Fast},
		{Mode: compress.S2Auto, RTTThresholds: defaultRTTs},
		{Mode: compress.S2Auto, RTTThresholds: defaultRTTs},
		{Mode: compress.S2Fast},
		{Mode: compress.S2Auto, RTTThresholds: ms(5)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compression mismatch (-want +got):\n%s", diff)
	}
	if def := (&Options{}).withDefaults(); def.Cluster.Compression.Mode != compress.Accept {
		t.Errorf("cluster default = %q, want accept", def.Cluster.Compression.Mode)
	}
	if r := o.LeafNode.Remotes[0].TLS; r == remoteTLS || r == nil || *r != *remoteTLS {
		t.Errorf("remote TLS = %p (%+v), want a copy of %p", r, r, remoteTLS)
	}
	if in.Cluster.Compression.Mode != "on" || in.LeafNode.Remotes[1].Compression.Mode != "Fast" {
		t.Error("withDefaults modified the caller's options")
	}
	// wss:// and tls:// remotes are accepted without a tls block (the
	// system roots verify the hub).
	if _, err := NewServer(&in); err != nil {
		t.Errorf("NewServer: %v", err)
	}
}

// TestNewServerTransportRefusals: a bad compression mode or TLS block is
// refused by NewServer with an error naming the field (and the file).
func TestNewServerTransportRefusals(t *testing.T) {
	t.Parallel()
	f, _ := testCerts(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	listener := &TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey}
	tests := []struct {
		name  string
		opts  Options
		want  []string // substrings of the error
		wraps error
	}{
		{"cluster mode", Options{Cluster: ClusterOptions{Compression: CompressionOptions{Mode: "zip"}}},
			[]string{"Cluster.Compression", `"zip"`}, compress.ErrMode},
		{"leafnodes thresholds", Options{LeafNode: LeafNodeOptions{Compression: CompressionOptions{RTTThresholds: ms(50, 10)}}},
			[]string{"LeafNode.Compression", "must ascend"}, compress.ErrMode},
		{"remote mode", Options{LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{
			{URLs: []string{"nats://a:1"}}, {URLs: []string{"nats://b:1"}, Compression: CompressionOptions{Mode: "lz4"}}}}},
			[]string{"LeafNode.Remotes[1].Compression", `"lz4"`}, compress.ErrMode},
		{"client TLS without key", Options{TLS: &TLSOptions{CertFile: f.ServerCert}},
			[]string{"option TLS:", "both cert_file and key_file"}, ErrTLSConfig},
		{"leafnodes TLS missing cert", Options{LeafNode: LeafNodeOptions{Port: -1, TLS: &TLSOptions{CertFile: missing, KeyFile: f.ServerKey}}},
			[]string{"LeafNode.TLS", missing}, fs.ErrNotExist},
		{"websocket TLS missing key", Options{Websocket: WebsocketOptions{Port: -1, TLS: &TLSOptions{CertFile: f.ServerCert, KeyFile: missing}}},
			[]string{"Websocket.TLS", "key_file", missing}, fs.ErrNotExist},
		{"websocket TLS missing CA", Options{Websocket: WebsocketOptions{Port: -1, TLS: &TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, CAFile: missing}}},
			[]string{"Websocket.TLS", "ca_file", missing}, fs.ErrNotExist},
		{"websocket without TLS or no_tls", Options{Websocket: WebsocketOptions{Port: -1}},
			[]string{"websocket requires TLS configuration"}, ErrTLSConfig},
		{"remote client cert without key", Options{LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{
			{URLs: []string{"tls://a:1"}, TLS: &TLSOptions{CertFile: f.ClientCert}}}}},
			[]string{"LeafNode.Remotes[0].TLS", "both cert_file and key_file"}, ErrTLSConfig},
		{"remote missing CA", Options{LeafNode: LeafNodeOptions{Remotes: []RemoteLeafOptions{
			{URLs: []string{"tls://a:1"}, TLS: &TLSOptions{CAFile: missing}}}}},
			[]string{"LeafNode.Remotes[0].TLS", missing}, fs.ErrNotExist},
		{"negative handshake timeout", Options{TLS: &TLSOptions{CertFile: f.ServerCert, KeyFile: f.ServerKey, Timeout: -time.Second}},
			[]string{"TLS.Timeout=-1s"}, nil},
		{"every error is reported", Options{
			Cluster:   ClusterOptions{Compression: CompressionOptions{Mode: "zip"}},
			TLS:       &TLSOptions{KeyFile: f.ServerKey},
			Websocket: WebsocketOptions{Port: -1, TLS: listener, NoTLS: true},
		}, []string{"Cluster.Compression", "option TLS:"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(&tt.opts)
			if err == nil {
				t.Fatal("NewServer accepted the options")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.wraps != nil && !errors.Is(err, tt.wraps) {
				t.Errorf("error %v does not wrap %v", err, tt.wraps)
			}
		})
	}
}

// TestNewServerAcceptsTLS: valid listener and remote TLS blocks, from a
// configuration file, pass NewServer.
func TestNewServerAcceptsTLS(t *testing.T) {
	t.Parallel()
	f, _ := testCerts(t)
	text := `
tls { cert_file: "` + f.ServerCert + `", key_file: "` + f.ServerKey + `" }
leafnodes {
  port: -1
  compression: s2_best
  tls { cert_file: "` + f.ServerCert + `", key_file: "` + f.ServerKey + `", ca_file: "` + f.CA + `", verify: true, timeout: 1.5 }
  remotes: [ { url: "tls://127.0.0.1:1", compression: off,
    tls { cert_file: "` + f.ClientCert + `", key_file: "` + f.ClientKey + `", ca_file: "` + f.CA + `" } } ]
}
websocket { port: -1, tls { cert_file: "` + f.ServerCert + `", key_file: "` + f.ServerKey + `" } }
cluster { compression: true }
`
	path := filepath.Join(t.TempDir(), "tls.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := ReadConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(opts); err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if opts.LeafNode.TLS.handshakeTimeout() != 1500*time.Millisecond || opts.TLS.handshakeTimeout() != DefaultTLSTimeout {
		t.Errorf("handshake timeouts %v, %v", opts.LeafNode.TLS.handshakeTimeout(), opts.TLS.handshakeTimeout())
	}
}
