// Package storetest has helpers for testing code built on package store:
// a fake clock whose time moves only when the test says so.
package storetest

import (
	"sort"
	"sync"
	"time"

	"github.com/fernmq/fern/store"
)

// FakeClock is a store.Clock whose time moves only with Advance. Timers
// whose deadline Advance passes run synchronously inside Advance, in
// deadline order, without the clock's lock held.
type FakeClock struct {
	mu     sync.Mutex
	now    int64
	timers []*fakeTimer
}

// NewFakeClock starts at the given unix-nano time.
func NewFakeClock(start int64) *FakeClock { return &FakeClock{now: start} }

type fakeTimer struct {
	c        *FakeClock
	deadline int64
	f        func()
	stopped  bool
}

// Now implements store.Clock.
func (c *FakeClock) Now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements store.Clock.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) store.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, deadline: c.now + int64(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop implements store.Timer.
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was && t.c.remove(t)
}

func (c *FakeClock) remove(t *fakeTimer) bool {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves time forward by d and runs every timer that is due,
// including timers that those timers set within the new time.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now + int64(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].deadline < c.timers[j].deadline })
		if len(c.timers) == 0 || c.timers[0].deadline > target {
			c.now = target
			c.mu.Unlock()
			return
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		t.stopped = true
		if t.deadline > c.now {
			c.now = t.deadline
		}
		c.mu.Unlock()
		t.f()
	}
}

// Pending is the number of timers waiting to fire.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
