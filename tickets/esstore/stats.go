package esstore

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
)

var calendarIntervals = map[string]string{
	tickets.IntervalHour:  "1h",
	tickets.IntervalDay:   "1d",
	tickets.IntervalWeek:  "1w",
	tickets.IntervalMonth: "1M",
}

// keywordSample bounds how many of the best-matching tickets the keyword
// aggregation re-analyses; significant_text reads _source, which is costly.
const keywordSample = 500

// doneStatuses are resolved or closed.
var doneStatuses = []string{string(tickets.StatusResolved), string(tickets.StatusClosed)}

// Stats aggregates the tickets created in [q.From, q.To) in one request.
// Known enumerations (status, channel, priority, CSAT scores 1–5) appear
// with zero counts, so charts need not fill gaps; volume has a bucket for
// every interval, empty or not, starting in q.TimeZone (UTC by default).
// TopKeywords are subject words and Chinese bigrams unusually frequent in
// the selection compared with all tickets; when the selection is (nearly)
// all tickets nothing stands out and the list is empty.
func (s *Store) Stats(ctx context.Context, q tickets.StatsQuery) (*tickets.Stats, error) {
	interval := q.Interval
	if interval == "" {
		interval = tickets.IntervalDay
	}
	cal, ok := calendarIntervals[interval]
	if !ok {
		return nil, invalid("interval", "must be one of hour, day, week, month")
	}
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		return nil, invalid("from", "from and to are required and from must be before to")
	}
	tz := q.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, invalid("tz", "unknown time zone %q", q.TimeZone)
	}

	filter := []any{rangeQ("created_at", map[string]any{"gte": esTime(q.From), "lt": esTime(q.To)})}
	if len(q.Channel) > 0 {
		filter = append(filter, terms("channel", q.Channel))
	}
	if len(q.Category) > 0 {
		filter = append(filter, terms("category.label", q.Category))
	}
	termsAgg := func(field string, size int) map[string]any {
		return map[string]any{"terms": map[string]any{"field": field, "size": size}}
	}
	avg := func(field string) map[string]any { return map[string]any{"avg": map[string]any{"field": field}} }
	filterAgg := func(q map[string]any, sub map[string]any) map[string]any {
		a := map[string]any{"filter": q}
		if sub != nil {
			a["aggs"] = sub
		}
		return a
	}
	done := terms("status", doneStatuses)
	aggs := map[string]any{
		"volume": map[string]any{
			"date_histogram": map[string]any{
				"field":             "created_at",
				"calendar_interval": cal,
				"time_zone":         tz,
				"min_doc_count":     0,
				"extended_bounds":   map[string]any{"min": q.From.UnixMilli(), "max": q.To.UnixMilli() - 1},
			},
			"aggs": map[string]any{
				"by_channel":  termsAgg("channel", 20),
				"by_category": termsAgg("category.label", 100),
			},
		},
		"by_status":   termsAgg("status", 20),
		"by_channel":  termsAgg("channel", 20),
		"by_category": termsAgg("category.label", 100),
		"by_priority": termsAgg("priority", 20),
		"done": filterAgg(done, map[string]any{
			"fcr": filterAgg(boolQ(map[string]any{"filter": []any{
				rangeQ("metrics.public_replies", map[string]any{"lte": 1}),
				term("metrics.reopens", 0),
			}}), nil),
			"handle": avg("metrics.handle_seconds"),
		}),
		"first_response": avg("metrics.first_response_seconds"),
		"resolution":     avg("metrics.resolution_seconds"),
		"csat": filterAgg(exists("csat.score"), map[string]any{
			"scores": termsAgg("csat.score", 10),
			"avg":    avg("csat.score"),
		}),
		"model": filterAgg(exists("category.model_correct"), map[string]any{
			"correct": filterAgg(term("category.model_correct", true), nil),
		}),
		"sla": filterAgg(exists("sla.policy"), map[string]any{
			"breached": filterAgg(breachedQuery(), nil),
		}),
		"keywords": map[string]any{
			"sampler": map[string]any{"shard_size": keywordSample},
			"aggs": map[string]any{
				"terms": map[string]any{"significant_text": map[string]any{
					"field":                 "keyword_terms",
					"filter_duplicate_text": true,
					"size":                  10,
					"min_doc_count":         2,
				}},
			},
		},
	}
	body := map[string]any{
		"size":             0,
		"track_total_hits": true,
		"query":            boolQ(map[string]any{"filter": filter}),
		"aggs":             aggs,
	}

	type avgAgg struct {
		Value *float64 `json:"value"`
	}
	type countAgg struct {
		DocCount int64 `json:"doc_count"`
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
					Key        int64       `json:"key"`
					DocCount   int64       `json:"doc_count"`
					ByChannel  termBuckets `json:"by_channel"`
					ByCategory termBuckets `json:"by_category"`
				} `json:"buckets"`
			} `json:"volume"`
			ByStatus   termBuckets `json:"by_status"`
			ByChannel  termBuckets `json:"by_channel"`
			ByCategory termBuckets `json:"by_category"`
			ByPriority termBuckets `json:"by_priority"`
			Done       struct {
				DocCount int64    `json:"doc_count"`
				FCR      countAgg `json:"fcr"`
				Handle   avgAgg   `json:"handle"`
			} `json:"done"`
			FirstResponse avgAgg `json:"first_response"`
			Resolution    avgAgg `json:"resolution"`
			CSAT          struct {
				DocCount int64       `json:"doc_count"`
				Scores   termBuckets `json:"scores"`
				Avg      avgAgg      `json:"avg"`
			} `json:"csat"`
			SLA struct {
				DocCount int64    `json:"doc_count"`
				Breached countAgg `json:"breached"`
			} `json:"sla"`
			Model struct {
				DocCount int64    `json:"doc_count"`
				Correct  countAgg `json:"correct"`
			} `json:"model"`
			Keywords struct {
				Terms struct {
					Buckets []struct {
						Key      string  `json:"key"`
						DocCount int64   `json:"doc_count"`
						Score    float64 `json:"score"`
					} `json:"buckets"`
				} `json:"terms"`
			} `json:"keywords"`
		} `json:"aggregations"`
	}
	if err := s.c.Do(ctx, http.MethodPost, "/"+url.PathEscape(s.tickets)+"/_search", body, &res); err != nil {
		return nil, wrap("stats", err)
	}

	a := res.Aggregations
	st := &tickets.Stats{
		Total:                   res.Hits.Total.Value,
		Volume:                  make([]tickets.Bucket, 0, len(a.Volume.Buckets)),
		ByStatus:                counts(a.ByStatus.Buckets, tickets.Statuses()),
		ByChannel:               counts(a.ByChannel.Buckets, tickets.Channels()),
		ByCategory:              counts[string](a.ByCategory.Buckets, nil),
		ByPriority:              counts(a.ByPriority.Buckets, tickets.Priorities()),
		ResolutionRate:          ratio(a.Done.DocCount, res.Hits.Total.Value),
		FirstContactResolution:  ratio(a.Done.FCR.DocCount, a.Done.DocCount),
		AvgHandleSeconds:        value(a.Done.Handle.Value),
		AvgFirstResponseSeconds: value(a.FirstResponse.Value),
		AvgResolutionSeconds:    value(a.Resolution.Value),
		CSAT:                    counts(a.CSAT.Scores.Buckets, []string{"1", "2", "3", "4", "5"}),
		CSATAverage:             value(a.CSAT.Avg.Value),
		CSATCount:               a.CSAT.DocCount,
		SLABreachRate:           ratio(a.SLA.Breached.DocCount, a.SLA.DocCount),
		TopKeywords:             make([]tickets.Keyword, 0, len(a.Keywords.Terms.Buckets)),
		CategoryModel: tickets.ModelAccuracy{
			Labelled: a.Model.DocCount,
			Correct:  a.Model.Correct.DocCount,
			Accuracy: ratio(a.Model.Correct.DocCount, a.Model.DocCount),
		},
	}
	for _, b := range a.Volume.Buckets {
		st.Volume = append(st.Volume, tickets.Bucket{
			Start:      time.UnixMilli(b.Key).In(loc),
			Count:      b.DocCount,
			ByChannel:  counts(b.ByChannel.Buckets, tickets.Channels()),
			ByCategory: counts[string](b.ByCategory.Buckets, nil),
		})
	}
	for _, b := range a.Keywords.Terms.Buckets {
		st.TopKeywords = append(st.TopKeywords, tickets.Keyword{Term: b.Key, Count: b.DocCount, Score: b.Score})
	}
	return st, nil
}

// termBucket is one bucket of a terms aggregation.
type termBucket struct {
	Key      json.RawMessage `json:"key"`
	DocCount int64           `json:"doc_count"`
}

type termBuckets struct {
	Buckets []termBucket `json:"buckets"`
}

// counts turns terms buckets into a map holding every known key, zero where
// no bucket names it. Keys are strings or numbers (CSAT scores).
func counts[T ~string](buckets []termBucket, known []T) map[string]int64 {
	m := make(map[string]int64, len(known)+len(buckets))
	for _, k := range known {
		m[string(k)] = 0
	}
	for _, b := range buckets {
		var key string
		if json.Unmarshal(b.Key, &key) != nil {
			key = string(b.Key) // a number, e.g. a CSAT score
			if f, err := strconv.ParseFloat(key, 64); err == nil {
				key = strconv.FormatFloat(f, 'f', -1, 64)
			}
		}
		m[key] = b.DocCount
	}
	return m
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func value(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
