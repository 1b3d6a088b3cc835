// Package ws carries a byte stream over WebSocket (RFC 6455) and exposes it
// as a net.Conn, so the NATS client and leaf protocols run over WebSocket
// exactly as they run over TCP: the caller's parser never sees a frame.
//
// It is written on the standard library only, on purpose. The framing is
// small, and a server needs byte-exact control over it: what is allocated per
// read and per write, how control frames interleave with data, and what goes
// on the wire during the handshake. No third-party WebSocket library is used.
//
// # Handshake
//
// Accept reads one HTTP/1.1 upgrade request from an accepted connection and
// answers it (server side); Client writes one and checks the answer (the
// soliciting leaf side). Accept returns the request path so the caller can
// route it: nats-server treats any path ending in "/leafnode" as a leaf
// connection (IsLeafPath) and anything else as a client (nats.go sends
// "GET /" unless the URL has a path). A leaf dialing ws://host:port/some/path
// sends "GET /some/path/leafnode" (LeafPath).
//
//	GET /leafnode HTTP/1.1            HTTP/1.1 101 Switching Protocols
//	Host: hub:8080                    Upgrade: websocket
//	Upgrade: websocket          -->   Connection: Upgrade
//	Connection: Upgrade               Sec-WebSocket-Accept: base64(sha1(key+GUID))
//	Sec-WebSocket-Key: <16B b64>      [Nats-No-Masking: true]
//	Sec-WebSocket-Version: 13
//	[Nats-No-Masking: true]
//
// A bad request gets an HTTP error (400, 405 for a method other than GET,
// 431 for an oversized request) carrying "Sec-WebSocket-Version: 13", as
// nats-server answers, before Accept returns the error.
//
// Not supported yet: the permessage-deflate extension (RFC 7692). An offer
// of it is declined by not echoing it, which every peer must accept; a frame
// with a reserved bit set is then a protocol error. Origin checks,
// X-Forwarded-For and cookies are not looked at.
//
// # Frames
//
//	 0               1               2               3
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| len7        | len16 (len7=126) or           |
//	|I|S|S|S|  (4)  |A|   (7)       | len64 (len7=127), big endian  |
//	|N|V|V|V|       |S|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	| ... masking key (4 bytes, iff MASK) | payload ...             |
//
// The NATS protocol travels in binary frames. Frames from a client to a
// server are masked unless both sides agreed "Nats-No-Masking: true" (a
// nats-server extension used by leafs); frames from a server are never
// masked.
//
// Reading decodes in place: the raw bytes are read straight into the
// caller's buffer, unmasked there, and the payload bytes are moved down over
// the frame headers. A frame header split across reads is kept in a 14-byte
// array and a control payload in a 125-byte one, so the reader owns no buffer
// that could grow: memory per connection is fixed whatever the peer sends.
// Fragmented messages, text frames and frames of any length up to the
// configured maximum (64 MiB by default) are passed through as bytes; text is
// not checked for UTF-8.
//
// Writing sends each Write as binary frames with FIN set: one frame, or
// several when the Write is longer than 65535 bytes. Frames are kept under
// 64 KiB because nats.go rejects any frame with a 64-bit length above
// 8 x max_payload. A small unmasked frame is copied behind its header into
// a 4 KiB buffer and written with one call; a large one goes out as a
// two-element net.Buffers (writev on TCP). Masked frames are masked into a
// 64 KiB buffer owned by the connection. Nothing is allocated per Write.
//
// # Control frames
//
// A PING is answered with a PONG carrying its payload, a PONG is ignored,
// and a CLOSE is answered with a CLOSE echoing its status code, after which
// Read returns io.EOF. Control frames may arrive between the fragments of a
// message. Since Read cannot block behind a Write in progress, it queues the
// answer and sends it only if the write lock is free; otherwise the writer
// sends it before it releases the lock. If a control frame cannot be written
// because the write deadline has already passed, it stays queued for the
// next Write. A protocol error is answered with CLOSE 1002 (1009 for an
// oversized frame) and returned by Read, wrapped around ErrProtocol or
// ErrFrameTooLarge. Close sends CLOSE 1000 best-effort (bounded by
// CloseTimeout and skipped when a Write holds the lock) and closes the
// underlying connection.
package ws
