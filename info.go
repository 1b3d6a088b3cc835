package fern

import (
	"crypto/rand"
	"encoding/json"
	"runtime"
)

// serverInfo is the INFO JSON sent to clients. Field names and omitempty
// follow the official server so nats.go and the nats CLI read it unchanged.
type serverInfo struct {
	ID           string   `json:"server_id"`
	Name         string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	Go           string   `json:"go"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	JetStream    bool     `json:"jetstream,omitempty"`
	MaxPayload   int      `json:"max_payload"`
	ClientID     uint64   `json:"client_id,omitempty"`
	ClientIP     string   `json:"client_ip,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	ConnectInfo  bool     `json:"connect_info,omitempty"`
	RemoteAcct   string   `json:"remote_account,omitempty"`
}

// connectInfo is the CONNECT JSON a client sends. Absent fields keep the
// official defaults (verbose, pedantic and echo default to true).
type connectInfo struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	TLSRequired  bool   `json:"tls_required"`
	Echo         bool   `json:"echo"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	User         string `json:"user"`
	Pass         string `json:"pass"`
	Token        string `json:"auth_token"`
}

// defaultConnectInfo is what a client that sent no CONNECT (or omitted the
// fields) gets, as on the official server.
func defaultConnectInfo() connectInfo {
	return connectInfo{Verbose: true, Pedantic: true, Echo: true}
}

// appendInfoJSON marshals info. INFO is built once per connection, never
// per message, so encoding/json is fine here.
func appendInfoJSON(info *serverInfo) []byte {
	b, err := json.Marshal(info)
	if err != nil { // cannot happen: every field is a plain type
		return []byte("{}")
	}
	return b
}

// newServerID returns an ID shaped like the official one: 'N' and 55
// base32 characters.
func newServerID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var raw [55]byte
	_, _ = rand.Read(raw[:])
	id := make([]byte, 56)
	id[0] = 'N'
	for i, b := range raw {
		id[i+1] = alphabet[b&31]
	}
	return string(id)
}

func goVersion() string { return runtime.Version() }
