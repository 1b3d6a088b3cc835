package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// This file is the demo's JetStream part: the leaf's ORDERS stream, the
// core's FACTORY_ORDERS stream sourcing it through the leaf's domain, the
// orders the leaf takes while cut off, and the checks that the core caught
// up by itself, in order, with nothing twice.

const (
	firstOrder = 1101   // the number of the first stored order (the one before the cut)
	cutOff     = 20_000 // orders the leaf takes while every core server is down
	inFlight   = 256    // async publishes awaiting their PubAck at once
	syncWait   = 60 * time.Second
)

// createStreams creates, through nc (a connection to a core server), the
// ORDERS stream on the leaf (domain "factory") and FACTORY_ORDERS on that
// core server, sourcing ORDERS across the leaf link. It returns the core's
// JetStream context.
func createStreams(ctx context.Context, nc *nats.Conn) (jetstream.JetStream, error) {
	leafJS, err := jetstream.NewWithDomain(nc, "factory")
	if err != nil {
		return nil, err
	}
	if _, err := leafJS.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"factory.orders.>"}}); err != nil {
		return nil, fmt.Errorf("stream ORDERS on the leaf, from the core: %w", err)
	}
	coreJS, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if _, err := coreJS.CreateStream(ctx, jetstream.StreamConfig{
		Name:    "FACTORY_ORDERS",
		Sources: []*jetstream.StreamSource{{Name: "ORDERS", Domain: "factory"}},
	}); err != nil {
		return nil, fmt.Errorf("stream FACTORY_ORDERS on the core: %w", err)
	}
	return coreJS, nil
}

// order is the body of order number n.
func order(n int, note string) []byte {
	return fmt.Appendf(nil, "order #%d (%s)", n, note)
}

// orderNumber reads the number back from an order's body.
func orderNumber(data []byte) (int, error) {
	var n int
	if _, err := fmt.Sscanf(string(data), "order #%d", &n); err != nil {
		return 0, fmt.Errorf("not an order: %q", data)
	}
	return n, nil
}

// publishOrders publishes count orders numbered from first, with at most
// inFlight awaiting their PubAck (js must have been made with
// WithPublishAsyncMaxPending), and waits until ORDERS acknowledged every one.
func publishOrders(js jetstream.JetStream, first, count int) error {
	futures := make([]jetstream.PubAckFuture, 0, count)
	for i := range count {
		f, err := js.PublishAsync("factory.orders.new", order(first+i, "while cut off"), jetstream.WithStallWait(10*time.Second))
		if err != nil {
			return fmt.Errorf("publishing order #%d on the cut-off leaf: %w", first+i, err)
		}
		futures = append(futures, f)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(syncWait):
		return fmt.Errorf("the cut-off leaf acknowledged %d of %d orders within %v", count-js.PublishAsyncPending(), count, syncWait)
	}
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Stream != "ORDERS" || ack.Duplicate {
				return fmt.Errorf("order #%d: unexpected PubAck %+v", first+i, ack)
			}
		case err := <-f.Err():
			return fmt.Errorf("order #%d was not acknowledged: %w", first+i, err)
		}
	}
	return nil
}

// watchSync polls FACTORY_ORDERS' info until it holds total messages and
// returns how long after since that took. It prints a progress line at
// the first poll, whenever the count or the lag moved by a tenth of total
// since the last line, and at the end. The lag is the upstream consumer's
// pending count: the orders the leaf has not sent yet; the rest of the
// gap are on their way to nats-1's store. The poll is every 5 ms, not
// every 100: once the link is back the whole sync takes tens of
// milliseconds.
func watchSync(ctx context.Context, js jetstream.JetStream, total uint64, since time.Time, say func(string, ...any)) (time.Duration, error) {
	deadline := since.Add(syncWait)
	var held, lag, shownHeld, shownLag uint64
	var last error
	first := true
	for {
		s, err := js.Stream(ctx, "FACTORY_ORDERS")
		if err == nil {
			info := s.CachedInfo()
			held, last = info.State.Msgs, nil
			if len(info.Sources) == 1 {
				lag = info.Sources[0].Lag
				if e := info.Sources[0].Error; e != nil {
					last = e
				}
			}
			took := time.Since(since)
			if held > total {
				return took, fmt.Errorf("FACTORY_ORDERS holds %d messages, more than the %d orders published", held, total)
			}
			if first || held == total || moved(held, shownHeld, total) || moved(lag, shownLag, total) {
				line := fmt.Sprintf("source: FACTORY_ORDERS holds %s of %s orders, lag %s, %.2f s after nats-1 came back",
					grouped(held), grouped(total), grouped(lag), took.Seconds())
				var apiErr *jetstream.APIError
				if errors.As(last, &apiErr) {
					line += " (" + apiErr.Description + ")"
				} else if last != nil {
					line += " (" + last.Error() + ")"
				}
				say("%s", line)
				shownHeld, shownLag, first = held, lag, false
			}
			if held == total {
				return took, nil
			}
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("FACTORY_ORDERS did not catch up: it holds %d of %d orders, lag %d, %v after nats-1 came back (last error: %v)",
				held, total, lag, syncWait, last)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// moved reports whether now differs from shown by a tenth of total.
func moved(now, shown, total uint64) bool {
	return max(now, shown)-min(now, shown) >= total/10
}

// checkOrder reads FACTORY_ORDERS from the start with an ordered consumer
// and checks that it holds exactly total orders, stream sequence i holding
// order firstOrder+i-1: in order, none missing, none twice.
func checkOrder(ctx context.Context, js jetstream.JetStream, total uint64) error {
	cons, err := js.OrderedConsumer(ctx, "FACTORY_ORDERS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("reading FACTORY_ORDERS: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("reading FACTORY_ORDERS: %w", err)
	}
	defer it.Stop()
	for seq := uint64(1); seq <= total; seq++ {
		m, err := it.Next(jetstream.NextMaxWait(10 * time.Second))
		if err != nil {
			return fmt.Errorf("reading FACTORY_ORDERS at sequence %d: %w", seq, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		n, err := orderNumber(m.Data())
		if err != nil {
			return fmt.Errorf("FACTORY_ORDERS sequence %d: %w", md.Sequence.Stream, err)
		}
		if md.Sequence.Stream != seq || n != firstOrder+int(seq)-1 {
			return fmt.Errorf("FACTORY_ORDERS sequence %d holds order #%d; want sequence %d with order #%d",
				md.Sequence.Stream, n, seq, firstOrder+int(seq)-1)
		}
	}
	s, err := js.Stream(ctx, "FACTORY_ORDERS")
	if err != nil {
		return err
	}
	if st := s.CachedInfo().State; st.Msgs != total || st.FirstSeq != 1 || st.LastSeq != total {
		return fmt.Errorf("FACTORY_ORDERS state after reading: %d messages, sequences %d..%d; want %d, 1..%d",
			st.Msgs, st.FirstSeq, st.LastSeq, total, total)
	}
	return nil
}

// waitHeld waits until FACTORY_ORDERS holds n messages.
func waitHeld(ctx context.Context, js jetstream.JetStream, n uint64) error {
	var held uint64
	err := until(10*time.Second, func() bool {
		s, err := js.Stream(ctx, "FACTORY_ORDERS")
		if err != nil {
			return false
		}
		held = s.CachedInfo().State.Msgs
		return held >= n
	})
	if err != nil {
		return fmt.Errorf("FACTORY_ORDERS holds %d of %d orders: %w", held, n, err)
	}
	if held > n {
		return errors.New("FACTORY_ORDERS holds more orders than were published")
	}
	return nil
}

// grouped formats n with commas between groups of three digits.
func grouped(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
