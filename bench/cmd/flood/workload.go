package main

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// probe marks the messages that check interest before a round.
const probe = ^uint64(0)

// flood publishes w.msgs numbered messages to w.subs subscribers and
// reports losses, the delivery rate and the server process's memory.
func flood(pid int, pubURL, subURL string, w workload, size int) (result, error) {
	const subj = "flood"
	var subs []*nats.Conn
	defer func() {
		for _, nc := range subs {
			nc.Close()
		}
	}()
	got := make([]atomic.Int64, w.subs)
	disorder := make([]atomic.Int64, w.subs)
	var probed atomic.Int64
	var last atomic.Int64 // unix nanos of the last delivery
	for i := 0; i < w.subs; i++ {
		nc, err := nats.Connect(subURL, nats.NoReconnect())
		if err != nil {
			return result{}, err
		}
		subs = append(subs, nc)
		next := uint64(0)
		sub, err := nc.Subscribe(subj, func(m *nats.Msg) {
			v := binary.BigEndian.Uint64(m.Data)
			if v == probe {
				probed.Add(1)
				return
			}
			if v != next {
				disorder[i].Add(1)
			}
			next = v + 1
			got[i].Add(1)
			last.Store(time.Now().UnixNano())
		})
		if err != nil {
			return result{}, err
		}
		sub.SetPendingLimits(-1, -1)
		if err := nc.Flush(); err != nil {
			return result{}, err
		}
	}
	pub, err := nats.Connect(pubURL, nats.NoReconnect())
	if err != nil {
		return result{}, err
	}
	defer pub.Close()
	// Interest reaches the publisher's server (across the route or link)
	// when every subscriber gets a probe.
	probeMsg := binary.BigEndian.AppendUint64(nil, probe)
	deadline := time.Now().Add(10 * time.Second)
	for probed.Load() < int64(w.subs) {
		probed.Store(0)
		pub.Publish(subj, probeMsg)
		pub.Flush()
		time.Sleep(50 * time.Millisecond) // a probe's round trip; the bench, not a test
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("no interest across the topology")
		}
	}
	before := rss(pid)
	stop := make(chan struct{})
	peakc := sampleRSS(pid, stop)

	payload := make([]byte, size)
	start := time.Now()
	for n := 0; n < w.msgs; n++ {
		binary.BigEndian.PutUint64(payload, uint64(n))
		if err := pub.Publish(subj, payload); err != nil {
			break
		}
	}
	pub.FlushTimeout(2 * time.Minute)
	// Wait for every subscriber, or until nothing moved for 5 s.
	want := int64(w.msgs)
	for quiet := time.Now(); time.Since(quiet) < 5*time.Second; {
		all := true
		for i := range got {
			if got[i].Load() < want {
				all = false
			}
		}
		if all {
			break
		}
		if time.Since(time.Unix(0, last.Load())) < 100*time.Millisecond {
			quiet = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Unix(0, last.Load()).Sub(start)
	close(stop)
	peak := <-peakc
	time.Sleep(3 * time.Second)
	after := rss(pid)
	r := result{before: before, peak: peak, after: after}
	var delivered int64
	for i := range got {
		n := got[i].Load()
		delivered += n
		r.lost += int(want - n)
		r.lost += int(disorder[i].Load()) // a reordered or skipped message counts as lost
	}
	r.rate = float64(delivered) / took.Seconds()
	return r, nil
}
