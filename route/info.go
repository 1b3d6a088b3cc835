package route

// Info is the INFO document on a route connection. Field names follow the
// official server; fields Fern never sets are left out so that an official
// peer treats Fern as a server without pooling or leaf-origin support.
type Info struct {
	ID          string   `json:"server_id"`
	Name        string   `json:"server_name"`
	Version     string   `json:"version"`
	Proto       int      `json:"proto"`
	Go          string   `json:"go,omitempty"`
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Headers     bool     `json:"headers"`
	MaxPayload  int      `json:"max_payload"`
	Nonce       string   `json:"nonce,omitempty"`
	Cluster     string   `json:"cluster"`
	Dynamic     bool     `json:"cluster_dynamic,omitempty"`
	ConnectURLs []string `json:"connect_urls,omitempty"`
	// IP is the URL to dial this server at, set when forwarding gossip
	// about it (or from cluster.advertise).
	IP         string `json:"ip,omitempty"`
	GossipMode int    `json:"gossip_mode,omitempty"`
	AuthReq    bool   `json:"auth_required,omitempty"`
	// LeafNodeURLs are where this server accepts leaf connections.
	LeafNodeURLs []string `json:"leafnode_urls,omitempty"`
	// Raft is set by Fern servers: the sender speaks Fern's raft
	// ($FRG subjects) over this route. Official servers ignore the field
	// and never set it, so they neither hear of nor may send raft traffic.
	Raft bool `json:"fern_raft,omitempty"`

	// Fields an official server may send that Fern reads but never sets.
	RoutePoolSize int    `json:"route_pool_size,omitempty"`
	RoutePoolIdx  int    `json:"route_pool_idx,omitempty"`
	RouteAccount  string `json:"route_account,omitempty"`
	// Compression is the sender's S2 mode (see internal/compress).
	Compression string `json:"compression,omitempty"`
	LDM         bool   `json:"ldm,omitempty"`
}

// Connect is the CONNECT document a soliciting server sends. Name is the
// sender's server ID (not its name), as officially.
type Connect struct {
	Echo     bool   `json:"echo"`
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	TLS      bool   `json:"tls_required"`
	Headers  bool   `json:"headers"`
	Name     string `json:"name"`
	Cluster  string `json:"cluster"`
	Dynamic  bool   `json:"cluster_dynamic,omitempty"`
	User     string `json:"user,omitempty"`
	Pass     string `json:"pass,omitempty"`
	// Lang and Gateway must be empty on a route: a client (lang set) or a
	// gateway that dials the route port is refused.
	Lang    string `json:"lang,omitempty"`
	Gateway string `json:"gateway,omitempty"`
}

// ProtoVersion is the route protocol level Fern announces: 2, accounts in
// the protocol. Level 3 (message tracing) is not claimed, so official peers
// send no trace-only messages.
const ProtoVersion = 2
