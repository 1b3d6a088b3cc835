package route

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the delay before dial attempt n (0-based): base doubled
// per attempt up to max, with up to 20% random jitter so that servers that
// lost each other at the same moment do not redial in lockstep.
func Backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
