package staffingapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/staffing"
	"github.com/switchboard-cc/switchboard/es"
)

// ESHistory counts stored calls (by start, the skill group they were
// transferred to) or tickets (by creation, their skill group) per interval.
type ESHistory struct{ c *es.Client }

// NewESHistory returns the history over c.
func NewESHistory(c *es.Client) *ESHistory { return &ESHistory{c: c} }

// Counts returns one value per step in [from, to); intervals with nothing
// are 0.
func (h *ESHistory) Counts(ctx context.Context, source, group string, from, to time.Time, step time.Duration) (staffing.Series, error) {
	index, field, groupField := h.c.Name("calls"), "started", "transfer.group"
	if source == "tickets" {
		index, field, groupField = h.c.Name("tickets"), "created_at", "skill_group"
	}
	filter := []any{map[string]any{"range": map[string]any{field: map[string]any{
		"gte": from.UTC().Format(time.RFC3339), "lt": to.UTC().Format(time.RFC3339)}}}}
	if group != "" {
		filter = append(filter, map[string]any{"term": map[string]any{groupField: group}})
	}
	body := map[string]any{"size": 0, "query": map[string]any{"bool": map[string]any{"filter": filter}},
		"aggs": map[string]any{"v": map[string]any{"date_histogram": map[string]any{
			"field": field, "fixed_interval": fmt.Sprintf("%ds", int(step.Seconds())),
			"min_doc_count": 0, "extended_bounds": map[string]any{"min": from.UnixMilli(), "max": to.Add(-step).UnixMilli()},
			"offset": fmt.Sprintf("%ds", int(math.Mod(float64(from.Unix()), step.Seconds()))),
		}}}}
	var res struct {
		Aggregations struct {
			V struct {
				Buckets []struct {
					Key   int64   `json:"key"`
					Count float64 `json:"doc_count"`
				} `json:"buckets"`
			} `json:"v"`
		} `json:"aggregations"`
	}
	n := int(to.Sub(from) / step)
	out := staffing.Series{Start: from, Step: step, Values: make([]float64, n)}
	err := h.c.Do(ctx, http.MethodPost, "/"+index+"/_search?ignore_unavailable=true&allow_no_indices=true", body, &res)
	if es.StatusOf(err) == http.StatusNotFound {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("staffing: history: %w", err)
	}
	for _, b := range res.Aggregations.V.Buckets {
		i := int(time.UnixMilli(b.Key).Sub(from) / step)
		if i >= 0 && i < n {
			out.Values[i] = b.Count
		}
	}
	return out, nil
}
