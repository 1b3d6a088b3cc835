package fern

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/fernmq/fern/internal/compress"
	"github.com/fernmq/fern/subject"
)

// Compression defaults, as the official server's: routes accept what the
// peer asks for and "on" means s2_fast; leafs adapt to the round-trip time.
const (
	clusterCompressionDefault = compress.Accept
	clusterCompressionOn      = compress.S2Fast
	leafCompressionDefault    = compress.S2Auto
	leafCompressionOn         = compress.S2Auto
)

// withDefaults returns a copy of o with every zero field set to its
// documented default. The caller's struct is never modified.
func (o *Options) withDefaults() Options {
	c := *o
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.MaxControlLine == 0 {
		c.MaxControlLine = DefaultMaxControlLine
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.WriteDeadline == 0 {
		c.WriteDeadline = DefaultWriteDeadline
	}
	if c.FlowControl.StallPending == 0 {
		c.FlowControl.StallPending = DefaultStallPending
	}
	if c.FlowControl.StallWait == 0 {
		c.FlowControl.StallWait = DefaultStallWait
	}
	if c.FlowControl.LinkMaxPending == 0 {
		c.FlowControl.LinkMaxPending = DefaultLinkMaxPending
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingMax == 0 {
		c.PingMax = DefaultPingMax
	}
	if c.FirstPingDelay == 0 {
		c.FirstPingDelay = DefaultFirstPingDelay
	}
	if c.FirstPingDelay > c.PingInterval {
		c.FirstPingDelay = c.PingInterval
	}
	if c.LeafNode.LoopDelay == 0 {
		c.LeafNode.LoopDelay = leafLoopDelay
	}
	if c.LeafNode.ReconnectInterval == 0 {
		c.LeafNode.ReconnectInterval = time.Second
	}
	if c.Cluster.AuthTimeout == 0 {
		c.Cluster.AuthTimeout = DefaultAuthTimeout
	}
	if c.Cluster.RetryInterval == 0 {
		c.Cluster.RetryInterval = time.Second
	}
	if c.Authorization.Timeout == 0 {
		c.Authorization.Timeout = DefaultAuthTimeout
	}
	if c.LeafNode.AuthTimeout == 0 {
		c.LeafNode.AuthTimeout = c.Authorization.Timeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	// Slices are shared with the caller's struct; copy them so later edits
	// on either side stay private.
	c.Authorization.AllowedLeafCIDRs = append(c.Authorization.AllowedLeafCIDRs[:0:0], c.Authorization.AllowedLeafCIDRs...)
	c.Cluster.Routes = append(c.Cluster.Routes[:0:0], c.Cluster.Routes...)
	c.LeafNode.AllowedLeafCIDRs = append(c.LeafNode.AllowedLeafCIDRs[:0:0], c.LeafNode.AllowedLeafCIDRs...)
	remotes := make([]RemoteLeafOptions, len(c.LeafNode.Remotes))
	for i, r := range c.LeafNode.Remotes {
		remotes[i] = RemoteLeafOptions{
			URLs:        append([]string(nil), r.URLs...),
			TLS:         cloneTLS(r.TLS),
			Compression: defaultCompression(r.Compression, leafCompressionDefault, leafCompressionOn),
		}
	}
	c.LeafNode.Remotes = remotes
	c.TLS = cloneTLS(c.TLS)
	c.LeafNode.TLS = cloneTLS(c.LeafNode.TLS)
	c.Websocket.TLS = cloneTLS(c.Websocket.TLS)
	c.Cluster.Compression = defaultCompression(c.Cluster.Compression, clusterCompressionDefault, clusterCompressionOn)
	c.LeafNode.Compression = defaultCompression(c.LeafNode.Compression, leafCompressionDefault, leafCompressionOn)
	return c
}

// cloneTLS copies a TLS block so the caller's later edits stay private
// (a tls.Config in it is cloned whenever it is used).
func cloneTLS(t *TLSOptions) *TLSOptions {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// defaultCompression normalizes a compression mode (def when empty, on
// for "on") and its s2_auto thresholds. A bad setting is returned as given
// for validate to report.
func defaultCompression(c CompressionOptions, def, on string) CompressionOptions {
	mode, rtts, err := compress.Normalize(c.Mode, def, on, c.RTTThresholds)
	if err != nil {
		return CompressionOptions{Mode: c.Mode, RTTThresholds: slices.Clone(c.RTTThresholds)}
	}
	return CompressionOptions{Mode: mode, RTTThresholds: rtts}
}

// validate checks a defaulted Options value.
func (o *Options) validate() error {
	var errs []error
	bad := func(field string, v any, why string) {
		errs = append(errs, fmt.Errorf("fern: invalid option %s=%v: %s", field, v, why))
	}
	if o.Port < -1 || o.Port > 65535 {
		bad("Port", o.Port, "must be 0..65535, or -1 for an ephemeral port")
	}
	if o.MaxPayload < 0 || o.MaxPayload > 1<<31-1 {
		bad("MaxPayload", o.MaxPayload, "must be positive and below 2 GiB")
	}
	if o.MaxPending < 0 {
		bad("MaxPending", o.MaxPending, "must be positive")
	} else if o.MaxPayload > o.MaxPending {
		bad("MaxPayload", o.MaxPayload, fmt.Sprintf("must not exceed MaxPending (%d)", o.MaxPending))
	}
	if o.MaxControlLine < 0 {
		bad("MaxControlLine", o.MaxControlLine, "must be positive")
	}
	if fc := o.FlowControl; fc.StallPending < 0 || fc.LinkMaxPending < 0 || fc.StallWait < 0 {
		bad("FlowControl", fmt.Sprintf("%+v", fc), "must not be negative")
	}
	if o.MaxConnections < 0 {
		bad("MaxConnections", o.MaxConnections, "must be positive")
	}
	if o.WriteDeadline < 0 || o.PingInterval < 0 || o.FirstPingDelay < 0 || o.Authorization.Timeout < 0 {
		bad("durations", "<0", "must not be negative")
	}
	if o.PingMax < 0 {
		bad("PingMax", o.PingMax, "must be positive")
	}
	if d := o.JetStream.Domain; d != "" && (strings.ContainsAny(d, ".*> \t\r\n") || !subject.ValidStrict(d)) {
		bad("JetStream.Domain", d, "must be one subject token (no '.', '*', '>' or spaces)")
	}
	errs = append(errs, o.checkTransport()...)
	return errors.Join(errs...)
}

// checkTransport reports bad compression modes and TLS blocks that cannot
// be loaded (each error names the field and, for TLS, the file).
func (o *Options) checkTransport() []error {
	var errs []error
	mode := func(field string, c CompressionOptions, def, on string) {
		if _, _, err := compress.Normalize(c.Mode, def, on, c.RTTThresholds); err != nil {
			errs = append(errs, fmt.Errorf("fern: invalid option %s (%q, thresholds %v): %w", field, c.Mode, c.RTTThresholds, err))
		}
	}
	mode("Cluster.Compression", o.Cluster.Compression, clusterCompressionDefault, clusterCompressionOn)
	mode("LeafNode.Compression", o.LeafNode.Compression, leafCompressionDefault, leafCompressionOn)
	tlsErr := func(field string, t *TLSOptions, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("fern: invalid option %s: %w", field, err))
		}
		if t != nil && t.Timeout < 0 {
			errs = append(errs, fmt.Errorf("fern: invalid option %s.Timeout=%v: must not be negative", field, t.Timeout))
		}
	}
	listener := func(field string, t *TLSOptions) {
		if t != nil {
			_, err := t.serverConfig()
			tlsErr(field, t, err)
		}
	}
	listener("TLS", o.TLS)
	listener("LeafNode.TLS", o.LeafNode.TLS)
	listener("Websocket.TLS", o.Websocket.TLS)
	if o.Cluster.TLS != nil {
		_, _, err := o.Cluster.TLS.routeConfigs()
		tlsErr("Cluster.TLS", o.Cluster.TLS, err)
	}
	for i, r := range o.LeafNode.Remotes {
		mode(fmt.Sprintf("LeafNode.Remotes[%d].Compression", i), r.Compression, leafCompressionDefault, leafCompressionOn)
		if r.TLS != nil {
			_, err := r.TLS.clientConfig("")
			tlsErr(fmt.Sprintf("LeafNode.Remotes[%d].TLS", i), r.TLS, err)
		}
	}
	if o.Websocket.Port != 0 && o.Websocket.TLS == nil && !o.Websocket.NoTLS {
		// The official server's words (server/websocket.go).
		errs = append(errs, fmt.Errorf("%w: websocket requires TLS configuration (set Websocket.TLS, or NoTLS to serve ws://)", ErrTLSConfig))
	}
	return errs
}
