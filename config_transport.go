package fern

import (
	"fmt"
	"strings"
	"time"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/internal/conf"
)

// unsupportedTLS lists the official tls {} keys Fern does not implement
// (server/opts.go parseTLS); any other key is unknown.
const unsupportedTLS = "verify_and_map verify_cert_and_check_known_urls allow_insecure_cipher_suites " +
	"cipher_suites curve_preferences connection_rate_limit pinned_certs cert_store cert_match_by " +
	"cert_match ca_certs_match handshake_first first immediate cert_match_skip_invalid ocsp_peer " +
	"certs certificates min_version"

// tlsBlock reads tls { cert_file, key_file, ca_file, verify, insecure,
// timeout } at path. Whether the files exist is checked by NewServer, not
// here, so a configuration can be parsed on another machine.
func (d *configDecoder) tlsBlock(path string, n *conf.Node) *TLSOptions {
	if n.Kind != conf.Map {
		d.typeError(path, n, "map")
		return nil
	}
	t := &TLSOptions{}
	for _, e := range n.Map {
		k, v := path+"."+e.Key, e.Value
		switch strings.ToLower(e.Key) {
		case "cert_file":
			d.str(k, v, &t.CertFile)
		case "key_file":
			d.str(k, v, &t.KeyFile)
		case "ca_file":
			d.str(k, v, &t.CAFile)
		case "verify":
			d.boolean(k, v, &t.Verify)
		case "insecure":
			d.boolean(k, v, &t.Insecure)
		case "timeout":
			// Officially float seconds; a duration string works too.
			d.seconds(k, v, &t.Timeout)
		default:
			d.unknown(path, e, unsupportedTLS)
		}
	}
	return t
}

// compression reads a compression setting at path: a boolean (true means
// on), a mode string, or { mode, rtt_thresholds: ["10ms", ...] }. The
// mode is normalized now (def for an empty mode, on for "on"), so a bad
// one is reported with its position.
func (d *configDecoder) compression(path string, n *conf.Node, def, on string, dst *CompressionOptions) {
	var (
		mode           string
		modeNode       = n
		modeKey        = path
		rtts           []time.Duration
		rttKey, rttPos = "", n
		rttsOK         = true
	)
	switch n.Kind {
	case conf.Bool:
		mode = compress.Off
		if n.Bool {
			mode = on
		}
	case conf.String:
		mode = n.Str
	case conf.Map:
		for _, e := range n.Map {
			k, v := path+"."+e.Key, e.Value
			switch strings.ToLower(e.Key) {
			case "mode":
				if d.str(k, v, &mode) {
					modeNode, modeKey = v, k
				}
			case "rtt_thresholds", "thresholds", "rtts", "rtt":
				rttKey, rttPos = k, v
				rtts, rttsOK = d.rttThresholds(k, v)
			default:
				d.unknown(path, e, "")
			}
		}
	default:
		d.typeError(path, n, "boolean, compression mode or a map")
		return
	}
	// The mode alone first, so its error names the mode rather than the
	// thresholds.
	norm, _, err := compress.Normalize(mode, def, on, nil)
	if err != nil {
		d.fail(modeNode.Pos, modeKey, mode, err, fmt.Sprintf("invalid compression mode %q: want off, accept, "+
			"s2_auto, s2_uncompressed, s2_fast, s2_better or s2_best (or on, off, true, false)", mode))
		return
	}
	if !rttsOK {
		return // reported
	}
	var thresholds []time.Duration
	if norm == compress.S2Auto {
		if _, thresholds, err = compress.Normalize(norm, def, on, rtts); err != nil {
			msg := strings.TrimPrefix(err.Error(), compress.ErrMode.Error()+": ")
			d.fail(rttPos.Pos, rttKey, scalarText(rttPos), err, msg)
			return
		}
	}
	*dst = CompressionOptions{Mode: norm, RTTThresholds: thresholds}
}

// rttThresholds reads an array of duration strings; ok is false if any
// element was bad (and reported).
func (d *configDecoder) rttThresholds(path string, n *conf.Node) (out []time.Duration, ok bool) {
	if n.Kind != conf.Array {
		d.typeError(path, n, `array of durations like "10ms"`)
		return nil, false
	}
	ok = true
	out = make([]time.Duration, 0, len(n.Array))
	for _, el := range n.Array {
		if el.Kind != conf.String {
			d.typeError(path, el, `duration string like "10ms"`)
			ok = false
			continue
		}
		v, err := time.ParseDuration(el.Str)
		if err != nil {
			d.fail(el.Pos, path, el.Str, nil, fmt.Sprintf("invalid duration %q: want a duration like \"10ms\"", el.Str))
			ok = false
			continue
		}
		out = append(out, v)
	}
	return out, ok
}
