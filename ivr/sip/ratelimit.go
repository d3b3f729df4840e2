package sip

import (
	"sync"
	"time"
)

// limiter is a token bucket per source address. Buckets are kept in a map
// pruned of full buckets on each refill pass, so a flood of spoofed sources
// costs memory only while they keep sending.
type limiter struct {
	rate        float64
	burst       float64
	logInterval time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	pruned  time.Time
}

type bucket struct {
	tokens  float64
	last    time.Time
	dropped int       // rejections since the last log line
	logged  time.Time // when the last log line was written
}

func newLimiter(rate float64, burst int, logInterval time.Duration) *limiter {
	return &limiter{rate: rate, burst: float64(burst), logInterval: logInterval, buckets: map[string]*bucket{}}
}

// allow takes a token for src. When it refuses, logNow says whether this
// rejection should be logged and dropped how many were refused since the
// last log line (this one included).
func (l *limiter) allow(src string, now time.Time) (ok, logNow bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.pruned) > time.Minute {
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.pruned = now
	}
	b := l.buckets[src]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[src] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, false, 0
	}
	b.dropped++
	if now.Sub(b.logged) < l.logInterval {
		return false, false, 0
	}
	b.logged = now
	dropped, b.dropped = b.dropped, 0
	return false, true, dropped
}
