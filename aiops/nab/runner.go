package nab

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Detector is what the runner needs of a streaming detector: a score in
// [0,1] for each point, given only the points before it.
type Detector interface {
	Observe(t time.Time, v float64) float64
}

// DetectorFunc adapts a function to Detector.
type DetectorFunc func(t time.Time, v float64) float64

// Observe calls f.
func (f DetectorFunc) Observe(t time.Time, v float64) float64 { return f(t, v) }

// Run feeds every series, in time order, through a fresh detector from
// newDetector and returns the scores. Each series is independent: nothing
// learned on one file reaches another.
func Run(ctx context.Context, c *Corpus, newDetector func() (Detector, error)) ([]Result, error) {
	out := make([]Result, 0, len(c.Series))
	for _, s := range c.Series {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := newDetector()
		if err != nil {
			return nil, fmt.Errorf("nab: %s: %w", s.Name, err)
		}
		scores := make([]float64, len(s.Values))
		for i, v := range s.Values {
			scores[i] = d.Observe(s.Timestamps[i], v)
		}
		out = append(out, Result{Series: s, Scores: scores})
	}
	return out, nil
}

// WriteResults writes one CSV per series in NAB's results layout,
// OUT/DETECTOR/CATEGORY/DETECTOR_FILE.csv, with the columns
// timestamp,value,anomaly_score,label.
func WriteResults(dir, detector string, results []Result) error {
	for _, r := range results {
		s := r.Series
		sub := filepath.Join(dir, detector, s.Category())
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("nab: %w", err)
		}
		path := filepath.Join(sub, detector+"_"+s.File())
		if err := writeResult(path, r); err != nil {
			return fmt.Errorf("nab: write %s: %w", path, err)
		}
	}
	return nil
}

func writeResult(path string, r Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	labels := r.Series.Labels()
	_ = w.Write([]string{"timestamp", "value", "anomaly_score", "label"})
	for i, t := range r.Series.Timestamps {
		_ = w.Write([]string{
			t.Format(TimeLayout),
			strconv.FormatFloat(r.Series.Values[i], 'g', -1, 64),
			strconv.FormatFloat(r.Scores[i], 'g', -1, 64),
			strconv.Itoa(labels[i]),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// FormatScores renders profile scores as a small table.
func FormatScores(detector string, scores []ProfileScore) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %10s %10s %10s %10s %8s\n", "profile ("+detector+")", "score", "threshold", "raw", "null", "perfect")
	for _, p := range scores {
		fmt.Fprintf(&b, "%-22s %10.2f %10.4f %10.3f %10.3f %8.1f\n", p.Profile, p.Normalized, p.Threshold, p.Raw, p.Null, p.Perfect)
	}
	return b.String()
}
