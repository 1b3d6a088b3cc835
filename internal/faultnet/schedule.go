package faultnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// EventKind is what a schedule event does.
type EventKind int

// Events. Link events name two hosts (A, B); host events one (A).
const (
	EventCut       EventKind = iota + 1 // cut link A-B
	EventBlackhole                      // blackhole link A-B
	EventDelay                          // delay link A-B by Delay
	EventHeal                           // heal link A-B
	EventIsolate                        // cut every link of A
	EventRejoin                         // undo EventIsolate
	EventKill                           // crash server A
	EventRestart                        // restart server A from what survived
	EventHealAll                        // heal every link and host
)

// String names the kind.
func (k EventKind) String() string {
	names := [...]string{"", "cut", "blackhole", "delay", "heal", "isolate", "rejoin", "kill", "restart", "heal-all"}
	if k > 0 && int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// Event is one timed fault.
type Event struct {
	At    time.Duration // from the start of the run
	Kind  EventKind
	A, B  string
	Delay time.Duration // EventDelay
}

// String is the event as a schedule line ("+1.2s cut a-b").
func (e Event) String() string {
	s := fmt.Sprintf("+%v %v", e.At.Round(time.Millisecond), e.Kind)
	switch {
	case e.B != "":
		s += " " + e.A + "-" + e.B
	case e.A != "":
		s += " " + e.A
	}
	if e.Kind == EventDelay {
		s += fmt.Sprintf(" %v", e.Delay)
	}
	return s
}

// FaultKind is a kind of fault episode a schedule may draw.
type FaultKind int

// Episodes: each starts a fault and undoes it later.
const (
	FaultCut       FaultKind = iota + 1 // cut a link, heal it
	FaultBlackhole                      // blackhole a link, heal it
	FaultDelay                          // delay a link, heal it
	FaultFlap                           // cut and heal a link every FlapPeriod
	FaultIsolate                        // isolate a host, rejoin it
	FaultKill                           // kill a host, restart it
)

// ScheduleConfig bounds a schedule. Zero fields take the defaults.
type ScheduleConfig struct {
	// Seed draws everything; the same config and seed give the same
	// schedule.
	Seed uint64
	// Duration is the span in which faults happen (default 2 s). A
	// heal-all event ends the schedule at Duration.
	Duration time.Duration
	// Links are the links that may fail (default: every pair of Hosts).
	Links [][2]string
	// Hosts may be isolated (FaultIsolate), and their pairs are the
	// default Links.
	Hosts []string
	// Killable are the hosts FaultKill may crash (none by default). At
	// most one is down at a time.
	Killable []string
	// Kinds are the episode kinds to draw from (default: all of those
	// the hosts allow).
	Kinds []FaultKind
	// Require are episodes drawn first, one of each kind listed (e.g.
	// FaultKill to be sure a schedule crashes something); they count
	// toward MaxEpisodes.
	Require []FaultKind
	// MaxEpisodes bounds the number of episodes (default 4; at least 1
	// is drawn when any kind is possible).
	MaxEpisodes int
	// MaxLength bounds an episode's length (default Duration/2).
	MaxLength time.Duration
	// MaxDelay bounds FaultDelay (default 50 ms).
	MaxDelay time.Duration
	// FlapPeriod is a flapping link's cut/heal cycle (default 1 s).
	FlapPeriod time.Duration
}

// Schedule is a list of events in time order.
type Schedule struct {
	Seed   uint64
	Events []Event
}

type interval struct{ from, to time.Duration }

// NewSchedule draws a schedule from cfg.Seed. Episodes on the same link
// or host never overlap, and every fault is undone by its end; a final
// heal-all at Duration leaves a healthy network.
func NewSchedule(cfg ScheduleConfig) Schedule {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	sched := Schedule{Seed: cfg.Seed}
	if len(cfg.Kinds) == 0 {
		sched.Events = []Event{{At: cfg.Duration, Kind: EventHealAll}}
		return sched
	}
	busy := map[string][]interval{}
	n := max(1+rng.IntN(cfg.MaxEpisodes), len(cfg.Require))
	for i := range n {
		kind := cfg.Kinds[rng.IntN(len(cfg.Kinds))]
		if i < len(cfg.Require) {
			kind = cfg.Require[i]
		}
		// A few tries to place it where its link or host is free.
		for range 5 {
			if evs, ok := cfg.episode(rng, kind, busy); ok {
				sched.Events = append(sched.Events, evs...)
				break
			}
		}
	}
	slices.SortStableFunc(sched.Events, func(a, b Event) int { return int(a.At - b.At) })
	sched.Events = append(sched.Events, Event{At: cfg.Duration, Kind: EventHealAll})
	return sched
}

func (cfg ScheduleConfig) withDefaults() ScheduleConfig {
	if cfg.Duration <= 0 {
		cfg.Duration = 2 * time.Second
	}
	if len(cfg.Links) == 0 {
		for i, a := range cfg.Hosts {
			for _, b := range cfg.Hosts[i+1:] {
				cfg.Links = append(cfg.Links, [2]string{a, b})
			}
		}
	}
	if len(cfg.Kinds) == 0 {
		if len(cfg.Links) > 0 {
			cfg.Kinds = append(cfg.Kinds, FaultCut, FaultBlackhole, FaultDelay, FaultFlap)
		}
		if len(cfg.Hosts) > 0 {
			cfg.Kinds = append(cfg.Kinds, FaultIsolate)
		}
		if len(cfg.Killable) > 0 {
			cfg.Kinds = append(cfg.Kinds, FaultKill)
		}
	}
	cfg.Kinds = slices.DeleteFunc(slices.Clone(cfg.Kinds), func(k FaultKind) bool {
		switch k {
		case FaultIsolate:
			return len(cfg.Hosts) == 0
		case FaultKill:
			return len(cfg.Killable) == 0
		}
		return len(cfg.Links) == 0
	})
	if cfg.MaxEpisodes <= 0 {
		cfg.MaxEpisodes = 4
	}
	if cfg.MaxLength <= 0 || cfg.MaxLength > cfg.Duration {
		cfg.MaxLength = cfg.Duration / 2
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 50 * time.Millisecond
	}
	if cfg.FlapPeriod <= 0 {
		cfg.FlapPeriod = time.Second
	}
	return cfg
}

// episode draws one episode of kind, unless its link or host is busy
// then.
func (cfg ScheduleConfig) episode(rng *rand.Rand, kind FaultKind, busy map[string][]interval) ([]Event, bool) {
	length := cfg.MaxLength/4 + time.Duration(rng.Int64N(int64(cfg.MaxLength-cfg.MaxLength/4)+1))
	from := time.Duration(rng.Int64N(int64(cfg.Duration-length) + 1))
	iv := interval{from, from + length}
	var keys []string
	var a, b string
	switch kind {
	case FaultIsolate, FaultKill:
		hosts := cfg.Hosts
		if kind == FaultKill {
			hosts = cfg.Killable
			keys = append(keys, "kill") // one host down at a time
		}
		a = hosts[rng.IntN(len(hosts))]
		keys = append(keys, "host:"+a)
	default:
		l := cfg.Links[rng.IntN(len(cfg.Links))]
		a, b = l[0], l[1]
		keys = append(keys, "link:"+keyOf(a, b).a+"-"+keyOf(a, b).b)
	}
	for _, k := range keys {
		for _, o := range busy[k] {
			if iv.from < o.to && o.from < iv.to {
				return nil, false
			}
		}
	}
	for _, k := range keys {
		busy[k] = append(busy[k], iv)
	}
	at := func(t time.Duration, k EventKind) Event { return Event{At: t, Kind: k, A: a, B: b} }
	switch kind {
	case FaultCut:
		return []Event{at(iv.from, EventCut), at(iv.to, EventHeal)}, true
	case FaultBlackhole:
		return []Event{at(iv.from, EventBlackhole), at(iv.to, EventHeal)}, true
	case FaultDelay:
		e := at(iv.from, EventDelay)
		e.Delay = time.Millisecond + time.Duration(rng.Int64N(int64(cfg.MaxDelay)))
		return []Event{e, at(iv.to, EventHeal)}, true
	case FaultFlap:
		var evs []Event
		half := cfg.FlapPeriod / 2
		for t := iv.from; t < iv.to; t += cfg.FlapPeriod {
			evs = append(evs, at(t, EventCut), at(min(t+half, iv.to), EventHeal))
		}
		return evs, true
	case FaultIsolate:
		return []Event{at(iv.from, EventIsolate), at(iv.to, EventRejoin)}, true
	case FaultKill:
		return []Event{at(iv.from, EventKill), at(iv.to, EventRestart)}, true
	}
	return nil, false
}

// String lists the events, one per line.
func (s Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schedule seed=%d (%d events)\n", s.Seed, len(s.Events))
	for _, e := range s.Events {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}

// Run applies the events at their times (real time from the call) and
// stops at the first error of apply or when ctx ends.
func (s Schedule) Run(ctx context.Context, apply func(Event) error) error {
	start := time.Now()
	return s.RunWith(ctx, func(ctx context.Context, at time.Duration) error {
		t := time.NewTimer(time.Until(start.Add(at)))
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, apply)
}

// RunWith is Run on another clock: waitUntil returns once the run has
// reached at (or an error to stop), so a test can step the events itself.
func (s Schedule) RunWith(ctx context.Context, waitUntil func(ctx context.Context, at time.Duration) error, apply func(Event) error) error {
	for _, e := range s.Events {
		if err := waitUntil(ctx, e.At); err != nil {
			return err
		}
		if err := apply(e); err != nil {
			return fmt.Errorf("faultnet: %v: %w", e, err)
		}
	}
	return nil
}

// ApplyNetwork applies the link and host events of e to n and reports
// whether it did (kill and restart are the topology's).
func ApplyNetwork(n *Network, e Event) bool {
	switch e.Kind {
	case EventCut:
		n.Cut(e.A, e.B)
	case EventBlackhole:
		n.Blackhole(e.A, e.B)
	case EventDelay:
		n.Delay(e.A, e.B, e.Delay)
	case EventHeal:
		n.Heal(e.A, e.B)
	case EventIsolate:
		n.Isolate(e.A)
	case EventRejoin:
		n.Rejoin(e.A)
	case EventHealAll:
		n.HealAll()
	default:
		return false
	}
	return true
}
