// Package interop checks that Fern and the official nats-server work
// together. Its tests build clusters that mix both implementations and
// drive them with nats.go clients.
package interop
