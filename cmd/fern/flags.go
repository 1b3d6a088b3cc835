package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/fernmq/fern"
)

// usage is printed by -h; the flags are those of nats-server.
const usage = `Usage: fern [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 127.0.0.1)
    -p, --port <port>                Use port for clients (default: 4222, -1 for any)
    -n, --name
        --server_name <server_name>  Server name (default: the server ID)
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -js, --jetstream                 Enable JetStream
    -sd, --store_dir <dir>           Set the storage directory

Logging Options:
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -DV                              Debug and trace

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version

Flags override the configuration file.
`

// commandLine is what the user asked for on the command line. The override
// fields count only for the flags named in set.
type commandLine struct {
	configFile                string
	help, version, testConfig bool

	host                     string
	port                     int
	name                     string
	jetstream                bool
	storeDir                 string
	debug, trace, debugTrace bool

	set map[string]bool // canonical names (the first name of each flag) given
}

// parseCommandLine parses args (without the program name). Errors are
// also reported, with the usage, on stderr.
func parseCommandLine(args []string, stderr io.Writer) (*commandLine, error) {
	fs := flag.NewFlagSet("fern", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	c := &commandLine{set: map[string]bool{}}
	canonical := map[string]string{}
	str := func(p *string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, "", "")
			canonical[n] = names[0]
		}
	}
	boolean := func(p *bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, false, "")
			canonical[n] = names[0]
		}
	}
	str(&c.configFile, "config", "c")
	str(&c.host, "addr", "a", "net")
	for _, n := range []string{"port", "p"} {
		fs.IntVar(&c.port, n, 0, "")
		canonical[n] = "port"
	}
	str(&c.name, "name", "n", "server_name")
	boolean(&c.jetstream, "jetstream", "js")
	str(&c.storeDir, "store_dir", "sd")
	boolean(&c.debug, "debug", "D")
	boolean(&c.trace, "trace", "V")
	boolean(&c.debugTrace, "DV")
	boolean(&c.testConfig, "t")
	boolean(&c.help, "help", "h")
	boolean(&c.version, "version", "v")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintf(stderr, "%v\n%s", err, usage)
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { c.set[canonical[f.Name]] = true })
	return c, nil
}

// options reads the configuration file, if any, and applies the flags
// given on top of it.
func (c *commandLine) options() (*fern.Options, error) {
	opts := &fern.Options{}
	if c.configFile != "" {
		var err error
		if opts, err = fern.ReadConfigFile(c.configFile); err != nil {
			return nil, err
		}
	}
	if c.set["addr"] {
		opts.Host = c.host
	}
	if c.set["port"] {
		opts.Port = c.port
	}
	if c.set["name"] {
		opts.ServerName = c.name
	}
	if c.set["jetstream"] {
		opts.JetStream.Enabled = c.jetstream
	}
	if c.set["store_dir"] {
		opts.JetStream.StoreDir = c.storeDir
	}
	if c.set["debug"] {
		opts.Debug = c.debug
	}
	if c.set["trace"] {
		opts.Trace = c.trace
	}
	if c.set["DV"] {
		opts.Debug, opts.Trace = c.debugTrace, c.debugTrace
	}
	return opts, nil
}
