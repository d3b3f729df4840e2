package calls

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Stats bounds.
const (
	// MinInterval is the finest volume histogram.
	MinInterval = time.Minute
	// MaxBuckets bounds the volume histogram's length.
	MaxBuckets = 2000
)

// StatsQuery selects the calls the dashboard aggregates: those answered in
// [From, To). Interval is the volume histogram's bucket width; zero picks
// an hour for ranges up to two days and a day beyond.
type StatsQuery struct {
	From, To time.Time
	Interval time.Duration
}

// interval returns the bucket width q asks for, or the default.
func (q StatsQuery) interval() time.Duration {
	if q.Interval != 0 {
		return q.Interval
	}
	if q.To.Sub(q.From) <= 48*time.Hour {
		return time.Hour
	}
	return 24 * time.Hour
}

// Validate checks q; it returns an error wrapping ErrInvalid.
func (q StatsQuery) Validate() error {
	iv := q.interval()
	switch {
	case q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To):
		return fmt.Errorf("%w: from and to are required and from must be before to", ErrInvalid)
	case iv < MinInterval || iv%time.Millisecond != 0:
		return fmt.Errorf("%w: interval must be whole milliseconds and at least %s", ErrInvalid, MinInterval)
	case q.To.Sub(q.From)/iv >= MaxBuckets:
		return fmt.Errorf("%w: from..to holds more than %d intervals of %s; widen the interval", ErrInvalid, MaxBuckets, iv)
	}
	return nil
}

// Stats are the IVR dashboard's numbers over the calls a StatsQuery
// selects. Rates are fractions (0 to 1) of the calls that ended: every
// record is a call the IVR answered, and one still up has no outcome yet.
// They are 0 when no call ended; averages and percentiles are null (nil)
// when nothing was measured.
type Stats struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// IntervalMS is the volume buckets' width.
	IntervalMS int64 `json:"interval_ms"`
	// Calls is how many calls were answered; Ended how many of them
	// have ended (have an outcome).
	Calls int64 `json:"calls"`
	Ended int64 `json:"ended"`
	// ByOutcome counts the ended calls per outcome, every outcome listed.
	ByOutcome map[Outcome]int64 `json:"by_outcome"`
	// Volume has a bucket for every interval from From, empty or not.
	Volume []VolumeBucket `json:"volume"`
	// ContainmentRate: self-served; TicketRate: ended with a ticket and no
	// transfer; TransferRate: handed to an agent; AbandonmentRate: the
	// caller hung up before being served.
	ContainmentRate float64 `json:"containment_rate"`
	TicketRate      float64 `json:"ticket_rate"`
	TransferRate    float64 `json:"transfer_rate"`
	AbandonmentRate float64 `json:"abandonment_rate"`
	// AvgHandleMS is the mean DurationMS of the ended calls.
	AvgHandleMS *float64 `json:"avg_handle_ms"`
	// LatencyP50MS and LatencyP95MS are percentiles of the recognitions'
	// LatencyMS (end of speech to our first response audio), over the
	// recognitions that measured it. Elasticsearch estimates them (TDigest);
	// they are exact for small counts.
	LatencyP50MS *float64 `json:"latency_p50_ms"`
	LatencyP95MS *float64 `json:"latency_p95_ms"`
}

// VolumeBucket is the number of calls answered in [Start, Start+interval).
type VolumeBucket struct {
	Start time.Time `json:"start"`
	Calls int64     `json:"calls"`
}

// Stats aggregates the calls answered in [q.From, q.To) in one request.
func (s *Store) Stats(ctx context.Context, q StatsQuery) (*Stats, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("calls: stats: %w", err)
	}
	iv := q.interval().Milliseconds()
	from, to := q.From.UnixMilli(), q.To.UnixMilli()
	ended := map[string]any{"exists": map[string]any{"field": "outcome"}}
	body := map[string]any{
		"size":             0,
		"track_total_hits": true,
		"query":            boolFilter(startedRange(q.From, q.To)),
		"aggs": map[string]any{
			"volume": map[string]any{"date_histogram": map[string]any{
				"field":          "started",
				"fixed_interval": fmt.Sprintf("%dms", iv),
				// Buckets start at From rather than at multiples of
				// the interval since the epoch.
				"offset":          fmt.Sprintf("%dms", ((from%iv)+iv)%iv),
				"min_doc_count":   0,
				"extended_bounds": map[string]any{"min": from, "max": to - 1},
			}},
			"ended": map[string]any{
				"filter": ended,
				"aggs": map[string]any{
					"outcomes": map[string]any{"terms": map[string]any{"field": "outcome", "size": 20}},
					"handle":   map[string]any{"avg": map[string]any{"field": "duration_ms"}},
				},
			},
			"recognitions": map[string]any{
				"nested": map[string]any{"path": "recognitions"},
				"aggs": map[string]any{
					"latency": map[string]any{"percentiles": map[string]any{
						"field": "recognitions.latency_ms", "percents": []float64{50, 95}, "keyed": false,
					}},
				},
			},
		},
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
		} `json:"hits"`
		Aggregations struct {
			Volume struct {
				Buckets []struct {
					Key      int64 `json:"key"`
					DocCount int64 `json:"doc_count"`
				} `json:"buckets"`
			} `json:"volume"`
			Ended struct {
				DocCount int64       `json:"doc_count"`
				Outcomes termBuckets `json:"outcomes"`
				Handle   struct {
					Value *float64 `json:"value"`
				} `json:"handle"`
			} `json:"ended"`
			Recognitions struct {
				Latency struct {
					Values []struct {
						Key   float64  `json:"key"`
						Value *float64 `json:"value"`
					} `json:"values"`
				} `json:"latency"`
			} `json:"recognitions"`
		} `json:"aggregations"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.alias)+"/_search", body, &res); err != nil {
		return nil, fmt.Errorf("calls: stats: %w", err)
	}
	a := res.Aggregations
	st := &Stats{
		From: q.From, To: q.To, IntervalMS: iv,
		Calls:       res.Hits.Total.Value,
		Ended:       a.Ended.DocCount,
		ByOutcome:   map[Outcome]int64{},
		Volume:      make([]VolumeBucket, 0, len(a.Volume.Buckets)),
		AvgHandleMS: a.Ended.Handle.Value,
	}
	for _, o := range Outcomes() {
		st.ByOutcome[o] = 0
	}
	for _, b := range a.Ended.Outcomes.Buckets {
		st.ByOutcome[Outcome(b.Key)] = b.DocCount
	}
	for _, b := range a.Volume.Buckets {
		if b.Key >= to {
			// With an offset, extended_bounds can add an empty bucket
			// starting at To.
			continue
		}
		st.Volume = append(st.Volume, VolumeBucket{Start: time.UnixMilli(b.Key).UTC(), Calls: b.DocCount})
	}
	rate := func(o Outcome) float64 {
		if st.Ended == 0 {
			return 0
		}
		return float64(st.ByOutcome[o]) / float64(st.Ended)
	}
	st.ContainmentRate = rate(SelfServed)
	st.TicketRate = rate(Ticketed)
	st.TransferRate = rate(Transferred)
	st.AbandonmentRate = rate(Abandoned)
	for _, v := range a.Recognitions.Latency.Values {
		switch v.Key {
		case 50:
			st.LatencyP50MS = v.Value
		case 95:
			st.LatencyP95MS = v.Value
		}
	}
	return st, nil
}
