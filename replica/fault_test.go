package replica

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

var faultSeed = flag.Uint64("replica.seed", 0, "replay one seed of TestGroupFaultSchedule")

// faultSeeds is how many seeds TestGroupFaultSchedule runs: 3 in CI,
// FERN_RAFT_SEEDS by hand.
func faultSeeds() []uint64 {
	if *faultSeed != 0 {
		return []uint64{*faultSeed}
	}
	n := 3
	if v, err := strconv.Atoi(os.Getenv("FERN_RAFT_SEEDS")); err == nil && v > 0 {
		n = v
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// A seeded schedule of faults against five members on crash-simulating
// disks while a client proposes without pause: members isolated and
// healed, killed (their disks keep only what was fsynced) and restarted.
// The checker: no acknowledged proposal is lost (each is applied, at the
// index Propose returned, on every member at the end), none is applied
// twice, every member applied the same entries in the same order, and no
// term ever had two leaders.
func TestGroupFaultSchedule(t *testing.T) {
	for _, seed := range faultSeeds() {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runFaultSchedule(t, seed) })
	}
}

func runFaultSchedule(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 0x5eed))
	d := newCrashDisks(t)
	c := newClusterWith(t, 5, func(o *Options) { o.SnapshotEntries, o.KeepEntries = 50, 10 }, d.newLog)

	var mu sync.Mutex // guards c.groups against the proposer and the sampler
	acked := map[uint64]string{}
	leaders := map[uint64]uint64{} // term -> leader
	var violation string
	stop := make(chan struct{})
	var wg sync.WaitGroup

	// The sampler: every leader seen, by term.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			mu.Lock()
			for id, g := range c.groups {
				if term := g.LeaderTerm(); term != 0 {
					if prev, ok := leaders[term]; ok && prev != id && violation == "" {
						violation = fmt.Sprintf("term %d had two leaders: %d and %d", term, prev, id)
					}
					leaders[term] = id
				}
			}
			mu.Unlock()
		}
	}()

	// The proposer: a fresh payload per attempt, so an unknown outcome
	// never makes an acknowledged duplicate.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			var lead *Group
			for _, g := range c.groups {
				if g.IsLeader() {
					lead = g
				}
			}
			mu.Unlock()
			if lead == nil {
				time.Sleep(2 * time.Millisecond)
				continue
			}
			data := fmt.Sprint("p", i)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			res, err := lead.Propose(ctx, []byte(data))
			cancel()
			if err == nil {
				mu.Lock()
				acked[res.Index] = data
				mu.Unlock()
			}
		}
	}()

	killed := map[uint64]bool{}
	for step := 0; step < 25; step++ {
		id := c.ids[rnd.IntN(len(c.ids))]
		mu.Lock()
		if rnd.IntN(2) == 0 {
			// Half the faults hit the leader: that is where safety is at
			// stake (elections, overwritten tails).
			for lid, g := range c.groups {
				if g.IsLeader() {
					id = lid
				}
			}
		}
		switch a := rnd.IntN(10); {
		case a < 3:
			c.net.isolate(id, c.ids)
			t.Logf("step %d: isolate %d", step, id)
		case a < 5:
			c.net.heal()
			t.Logf("step %d: heal", step)
		case a < 8 && !killed[id] && len(killed) < 2:
			c.kill(id)
			killed[id] = true
			t.Logf("step %d: kill %d", step, id)
		default:
			for k := range killed {
				c.start(k)
				delete(killed, k)
				t.Logf("step %d: restart %d", step, k)
			}
		}
		mu.Unlock()
		time.Sleep(time.Duration(20+rnd.IntN(80)) * time.Millisecond)
	}
	mu.Lock()
	c.net.heal()
	for k := range killed {
		c.start(k)
	}
	mu.Unlock()
	close(stop)
	wg.Wait()

	if violation != "" {
		t.Fatal(violation)
	}
	final := c.propose([]byte("final"))
	c.waitApplied(final.Index)
	lists := c.sameLists()
	seen := map[string]bool{}
	for _, e := range lists {
		if seen[string(e)] {
			t.Fatalf("%q applied twice", e)
		}
		seen[string(e)] = true
	}
	for idx, data := range acked {
		for id, sm := range c.sms {
			if c.groups[id] == nil {
				continue
			}
			got, ok := sm.at(idx)
			if !ok || !bytes.Equal(got, []byte(data)) {
				t.Fatalf("acknowledged %q at index %d: member %d has %q (%v)", data, idx, id, got, ok)
			}
		}
	}
	t.Logf("%d acknowledged, %d applied, %d terms", len(acked), len(lists), len(leaders))
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged: the schedule tested nothing")
	}
}
