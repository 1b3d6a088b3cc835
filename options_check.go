package fern

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
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
		remotes[i] = RemoteLeafOptions{URLs: append([]string(nil), r.URLs...)}
	}
	c.LeafNode.Remotes = remotes
	return c
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
	if o.MaxConnections < 0 {
		bad("MaxConnections", o.MaxConnections, "must be positive")
	}
	if o.WriteDeadline < 0 || o.PingInterval < 0 || o.FirstPingDelay < 0 || o.Authorization.Timeout < 0 {
		bad("durations", "<0", "must not be negative")
	}
	if o.PingMax < 0 {
		bad("PingMax", o.PingMax, "must be positive")
	}
	errs = append(errs, o.missingFeatures()...)
	return errors.Join(errs...)
}

// missingFeatures names every configured feature Fern does not have yet.
// Each error wraps ErrNotImplemented.
func (o *Options) missingFeatures() []error {
	var errs []error
	need := func(block, feature string) {
		errs = append(errs, fmt.Errorf("%w: %s (configured by %s)", ErrNotImplemented, feature, block))
	}
	for _, r := range o.LeafNode.Remotes {
		for _, u := range r.URLs {
			if strings.HasPrefix(u, "wss://") || strings.HasPrefix(u, "tls://") {
				need("leafnodes.remotes url "+u, "TLS")
			}
		}
	}
	if o.Websocket.Port != 0 && !o.Websocket.NoTLS {
		need("websocket {} without no_tls: true", "TLS")
	}
	if o.JetStream.Enabled {
		need("jetstream {}", "JetStream")
	}
	return errs
}
