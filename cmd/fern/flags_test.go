package main

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fernmq/fern"
)

func TestCommandLineOptions(t *testing.T) {
	t.Parallel()
	fromFile := func(edit func(*fern.Options)) fern.Options {
		o := fern.Options{Port: 4333, ServerName: "from-file", Host: "127.0.0.1", Debug: true,
			JetStream: fern.JetStreamOptions{Enabled: true, StoreDir: "/from/file"}, ConfigFile: "testdata/fern.conf"}
		if edit != nil {
			edit(&o)
		}
		return o
	}
	tests := []struct {
		args []string
		want fern.Options
	}{
		{nil, fern.Options{}},
		{[]string{"-p", "5222"}, fern.Options{Port: 5222}},
		{[]string{"--port=5222"}, fern.Options{Port: 5222}},
		{[]string{"-p", "-1"}, fern.Options{Port: -1}},
		{[]string{"-a", "0.0.0.0"}, fern.Options{Host: "0.0.0.0"}},
		{[]string{"--addr", "::1"}, fern.Options{Host: "::1"}},
		{[]string{"--net=10.0.0.1"}, fern.Options{Host: "10.0.0.1"}},
		{[]string{"-n", "a"}, fern.Options{ServerName: "a"}},
		{[]string{"--name", "b"}, fern.Options{ServerName: "b"}},
		{[]string{"--server_name", "c"}, fern.Options{ServerName: "c"}},
		{[]string{"-js"}, fern.Options{JetStream: fern.JetStreamOptions{Enabled: true}}},
		{[]string{"--jetstream", "-sd", "/s"}, fern.Options{JetStream: fern.JetStreamOptions{Enabled: true, StoreDir: "/s"}}},
		{[]string{"--store_dir", "/s"}, fern.Options{JetStream: fern.JetStreamOptions{StoreDir: "/s"}}},
		{[]string{"-D"}, fern.Options{Debug: true}},
		{[]string{"--debug"}, fern.Options{Debug: true}},
		{[]string{"-V"}, fern.Options{Trace: true}},
		{[]string{"--trace"}, fern.Options{Trace: true}},
		{[]string{"-DV"}, fern.Options{Debug: true, Trace: true}},
		{[]string{"-c", "testdata/fern.conf"}, fromFile(nil)},
		{[]string{"--config", "testdata/fern.conf", "-p", "9999", "-n", "flag"}, fromFile(func(o *fern.Options) { o.Port, o.ServerName = 9999, "flag" })},
		{[]string{"-p", "9999", "-c", "testdata/fern.conf"}, fromFile(func(o *fern.Options) { o.Port = 9999 })},
		{[]string{"-c", "testdata/fern.conf", "-D=false", "-js=false", "-sd", "/flag", "-a", "0.0.0.0"},
			fromFile(func(o *fern.Options) {
				o.Debug, o.JetStream.Enabled, o.JetStream.StoreDir, o.Host = false, false, "/flag", "0.0.0.0"
			})},
		{[]string{"-c", "testdata/fern.conf", "-DV=false"}, fromFile(func(o *fern.Options) { o.Debug = false })},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cl, err := parseCommandLine(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cl.options()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandLineActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args                      []string
		help, version, testConfig bool
		config                    string
	}{
		{[]string{"-h"}, true, false, false, ""},
		{[]string{"--help"}, true, false, false, ""},
		{[]string{"-v"}, false, true, false, ""},
		{[]string{"--version"}, false, true, false, ""},
		{[]string{"-t", "-c", "x.conf"}, false, false, true, "x.conf"},
	}
	for _, tt := range tests {
		cl, err := parseCommandLine(tt.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if cl.help != tt.help || cl.version != tt.version || cl.testConfig != tt.testConfig || cl.configFile != tt.config {
			t.Errorf("%v: help=%v version=%v test=%v config=%q", tt.args, cl.help, cl.version, cl.testConfig, cl.configFile)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-p", "abc"}, "invalid value"},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-c"}, "flag needs an argument"},
		{[]string{"-D", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		_, err := parseCommandLine(tt.args, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.msg)
		}
		if !strings.Contains(stderr.String(), "Usage: fern") {
			t.Errorf("%v: usage not printed on stderr: %q", tt.args, stderr.String())
		}
	}

	cl, err := parseCommandLine([]string{"-c", "testdata/missing.conf"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.options(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing config file: %v, want fs.ErrNotExist", err)
	}
	cl, err = parseCommandLine([]string{"-c", "testdata/bad.conf"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.options(); !errors.Is(err, fern.ErrUnknownKey) {
		t.Errorf("bad config file: %v, want fern.ErrUnknownKey", err)
	}
}
