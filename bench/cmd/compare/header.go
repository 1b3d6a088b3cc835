package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/fernmq/fern"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// header describes when, where and how the table was measured.
func header(msgs, reqs, rounds int) string {
	return fmt.Sprintf("Fern %s vs nats-server %s, both embedded, driven by nats.go %s. "+
		"Measured %s with %s %s/%s on %s (%d cores, GOMAXPROCS=%d); "+
		"%d msgs per publish run, %d requests per request/reply run, median of %d interleaved rounds.",
		fern.Version, server.VERSION, nats.Version,
		time.Now().Format("2006-01-02"), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), msgs, reqs, rounds)
}

// cpuModel reads the first "model name" from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return "unknown CPU"
}
