package faultnet

import (
	"context"
	"testing"
	"time"
)

func TestScheduleReplaysFromSeed(t *testing.T) {
	cfg := ScheduleConfig{Hosts: []string{"a", "b", "c"}, Killable: []string{"a", "b"}, MaxEpisodes: 8, FlapPeriod: 200 * time.Millisecond}
	distinct := map[string]bool{}
	for seed := uint64(1); seed <= 50; seed++ {
		cfg.Seed = seed
		s1, s2 := NewSchedule(cfg), NewSchedule(cfg)
		if s1.String() != s2.String() {
			t.Fatalf("seed %d: two draws differ:\n%v\n%v", seed, s1, s2)
		}
		distinct[s1.String()] = true
		checkScheduleInvariants(t, cfg, s1)
	}
	if len(distinct) < 45 {
		t.Fatalf("only %d distinct schedules from 50 seeds", len(distinct))
	}
}

// checkScheduleInvariants: in time order, bounded, every fault undone,
// at most one host killed at a time, ending with heal-all.
func checkScheduleInvariants(t *testing.T, cfg ScheduleConfig, s Schedule) {
	t.Helper()
	down := map[string]bool{}
	faulty := map[string]bool{}
	var last time.Duration
	for _, e := range s.Events {
		if e.At < last || e.At > 2*time.Second {
			t.Fatalf("seed %d: event %v out of order or range\n%v", s.Seed, e, s)
		}
		last = e.At
		switch e.Kind {
		case EventKill:
			if len(down) > 0 {
				t.Fatalf("seed %d: two hosts down\n%v", s.Seed, s)
			}
			down[e.A] = true
		case EventRestart:
			delete(down, e.A)
		case EventCut, EventBlackhole, EventDelay, EventIsolate:
			faulty[e.A+e.B] = true
		case EventHeal, EventRejoin:
			delete(faulty, e.A+e.B)
		}
	}
	if len(down) > 0 || len(faulty) > 0 || s.Events[len(s.Events)-1].Kind != EventHealAll {
		t.Fatalf("seed %d: faults left at the end\n%v", s.Seed, s)
	}
}

func TestScheduleRunWithSteppedClock(t *testing.T) {
	s := NewSchedule(ScheduleConfig{Seed: 7, Hosts: []string{"a", "b"}})
	n := New(Config{})
	var reached []time.Duration
	var applied []Event
	err := s.RunWith(context.Background(), func(_ context.Context, at time.Duration) error {
		reached = append(reached, at)
		return nil
	}, func(e Event) error {
		applied = append(applied, e)
		ApplyNetwork(n, e)
		return nil
	})
	if err != nil || len(applied) != len(s.Events) || len(reached) != len(s.Events) {
		t.Fatalf("run: %v, %d of %d events", err, len(applied), len(s.Events))
	}
	if n.Link("a", "b") != (Fault{}) {
		t.Fatal("network not healed at the end of the schedule")
	}
}
