package leaf

// Info is the INFO a hub sends on a leaf connection, and the short one a
// leaf sends to negotiate compression. Fields follow the official server.
type Info struct {
	ID            string   `json:"server_id"`
	Name          string   `json:"server_name"`
	Version       string   `json:"version"`
	Proto         int      `json:"proto"`
	Go            string   `json:"go,omitempty"`
	Host          string   `json:"host"`
	Port          int      `json:"port"`
	Headers       bool     `json:"headers"`
	AuthRequired  bool     `json:"auth_required,omitempty"`
	MaxPayload    int      `json:"max_payload"`
	ClientID      uint64   `json:"client_id,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	Cluster       string   `json:"cluster,omitempty"`
	InfoOnConnect bool     `json:"info_on_connect,omitempty"`
	ConnectInfo   bool     `json:"connect_info,omitempty"`
	RemoteAccount string   `json:"remote_account,omitempty"`
	LeafNodeURLs  []string `json:"leafnode_urls,omitempty"`
	// JetStream and Domain describe the sender's JetStream (its domain
	// keeps the two sides' JetStreams apart).
	JetStream bool   `json:"jetstream,omitempty"`
	Domain    string `json:"domain,omitempty"`
	// Compression is the sender's S2 mode (see internal/compress); absent
	// means it cannot compress.
	Compression string `json:"compression,omitempty"`
	TLSRequired bool   `json:"tls_required,omitempty"`
}

// Connect is the CONNECT a leaf sends to its hub.
type Connect struct {
	Version       string `json:"version,omitempty"`
	User          string `json:"user,omitempty"`
	Pass          string `json:"pass,omitempty"`
	Token         string `json:"auth_token,omitempty"`
	ID            string `json:"server_id"`
	Domain        string `json:"domain,omitempty"`
	Name          string `json:"name"`
	Cluster       string `json:"cluster"`
	Headers       bool   `json:"headers"`
	Hub           bool   `json:"is_hub,omitempty"`
	CompressMode  string `json:"compress_mode,omitempty"`
	RemoteAccount string `json:"remote_account,omitempty"`
	Proto         int    `json:"protocol"`
	// Lang and Gateway are empty from a leaf: a client (lang) or a gateway
	// on the leaf port is refused.
	Lang    string `json:"lang,omitempty"`
	Gateway string `json:"gateway,omitempty"`
}

// ProtoVersion is the protocol level announced on leaf connections.
const ProtoVersion = 1

// CompressNotSupported is the compress_mode a leaf without S2 sends.
const CompressNotSupported = "not supported"

// LoopSubjectPrefix starts a server's loop-detection subject ($LDS.<id>).
const LoopSubjectPrefix = "$LDS."
