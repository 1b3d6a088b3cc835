// Package conf reads the NATS server configuration format into a tree of
// positioned nodes.
//
// The format is the one nats-server accepts (its conf/lex.go and
// conf/parse.go define it by behaviour; this package is an independent
// implementation):
//
//	# comment, and // comment
//	port: 4222                 # key: value, key = value or key value
//	listen 0.0.0.0:4222        # IPs and host:port are bare strings
//	max_payload = 2MB          # size suffixes: k=1000, kb/ki/kib=1024, m, mb, ...
//	debug: on                  # true/false, yes/no, on/off
//	cluster {                  # maps; the separator before '{' is optional
//	  routes = [
//	    "nats://a:6222",       # arrays, comma or newline separated
//	    nats://b:6222
//	  ]
//	}
//	TOKEN: "s3cr3t"
//	authorization { token: $TOKEN }   # variables: earlier keys, then the environment
//	include ./accounts.conf    # merged into the current map
//
// Design. Parsing is a single recursive-descent pass over the bytes: no token
// channel, no state-function stack. Every map, array and scalar becomes a
// *Node that records its Pos (file, line, column), so the layer that maps the
// tree onto server options can say exactly where a bad setting is. Scalars
// keep their source text in Node.Raw for messages ("2MB", not 2097152).
//
// Values are typed by how they are written, as nats-server does: a bare word
// is a boolean, a variable reference, a number (with optional size suffix), an
// ISO8601 Zulu datetime, or else a string; quoted text is always a string.
// Durations are not a node kind: "10s" is a string the caller parses.
//
// Variables. A bare $NAME value is replaced by the value of the nearest key
// NAME defined earlier in an enclosing map (the Entry is marked Referenced, so
// a caller can exempt keys that exist only to be referenced from its
// unknown-key check), else by the environment variable NAME, whose text is
// parsed as a config value (so FOO=1MB gives an integer). Environment values
// may reference further environment variables; a cycle is an error. A quoted
// "$NAME" is a literal, as are bcrypt hashes ($2a$..., $2b$..., $2y$...).
//
// Includes. "include path" (the keyword followed by whitespace) parses the
// file at path, relative to the directory of the including file, and merges
// its top-level keys into the map that holds the include. An included file
// sees the variables of the including scopes.
//
// Limits. Input is untrusted: nesting deeper than 64 maps/arrays, include
// chains deeper than 16 files, include cycles, files over 16 MiB and
// integers that overflow int64 are errors, never panics or hangs. Every
// error is an *Error carrying the position of the offending text.
//
// Deliberate differences from nats-server, all stricter or clearer:
// a value must start on the same line as its key; a stray '}' at top level is
// an error; "include = x" is an ordinary key; unparseable numbers such as
// "1.5k" are strings rather than lexer errors; integer overflow in a size
// suffix is reported instead of wrapping.
package conf
