package esstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// maxReserveAttempts bounds how often Reserve retries after losing a race
// on the counter; many times the number of concurrent creators we expect.
const maxReserveAttempts = 200

// Reserve returns the first of n consecutive numbers of the named sequence;
// numbers start at 1. Each sequence is one document of the counters index,
// advanced by compare-and-set on its sequence number, so no number is
// handed out twice even by several replicas; a crashed caller may leave a
// gap, never a duplicate.
func (s *Store) Reserve(ctx context.Context, name string, n int64) (int64, error) {
	if name == "" {
		return 0, invalid("name", "is required")
	}
	if n < 1 {
		return 0, invalid("n", "must be at least 1, got %d", n)
	}
	op := "reserve " + name
	for attempt := range maxReserveAttempts {
		if attempt > 0 {
			if err := sleep(ctx, reserveBackoff(attempt)); err != nil {
				return 0, fmt.Errorf("esstore: %s: %w", op, err)
			}
		}
		var cur struct {
			writeResult
			Source struct {
				Value int64 `json:"value"`
			} `json:"_source"`
		}
		err := s.c.Do(ctx, http.MethodGet, docPath(s.counters, "_doc", name, nil), nil, &cur)
		missing := es.StatusOf(err) == http.StatusNotFound && !es.IsType(err, "index_not_found_exception")
		if err != nil && !missing {
			return 0, wrap(op, err)
		}
		var path string
		next := map[string]int64{"value": n}
		if missing {
			path = docPath(s.counters, "_create", name, nil)
		} else {
			next["value"] = cur.Source.Value + n
			path = docPath(s.counters, "_doc", name, url.Values{
				"if_seq_no":       {fmt.Sprint(cur.SeqNo)},
				"if_primary_term": {fmt.Sprint(cur.PrimaryTerm)},
			})
		}
		err = s.c.Do(ctx, http.MethodPut, path, next, nil)
		if es.StatusOf(err) == http.StatusConflict {
			continue // another writer advanced the counter first
		}
		if err != nil {
			return 0, wrap(op, err)
		}
		return next["value"] - n + 1, nil
	}
	// Contention, not a broken request: a later attempt may well succeed.
	return 0, fmt.Errorf("esstore: %s: still contended after %d attempts: %w", op, maxReserveAttempts, tickets.ErrUnavailable)
}

// reserveBackoff grows with the attempt and is jittered, so that writers
// that collided do not collide again in lockstep.
func reserveBackoff(attempt int) time.Duration {
	ceiling := time.Duration(min(attempt, 20)) * 2 * time.Millisecond
	return time.Duration(rand.Int64N(int64(ceiling))) + 500*time.Microsecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
