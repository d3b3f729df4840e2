package nab

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var standard = Profile{Name: "standard", Costs: CostMatrix{TP: 1, FP: 0.11, FN: 1, TN: 1}}

// tiny is 100 rows (probation: 15) with one window over rows 40..49.
func tiny() *Series {
	s := &Series{Name: "cat/tiny.csv"}
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		s.Timestamps = append(s.Timestamps, t0.Add(time.Duration(i)*5*time.Minute))
		s.Values = append(s.Values, float64(i))
	}
	s.Windows = []Window{{s.Timestamps[40], s.Timestamps[49]}}
	return s
}

func scores(at map[int]float64) []float64 {
	out := make([]float64, 100)
	for i, v := range at {
		out[i] = v
	}
	return out
}

func TestScore(t *testing.T) {
	sig := func(x float64) float64 { return 2/(1+math.Exp(5*x)) - 1 }
	tests := []struct {
		name       string
		at         map[int]float64
		raw, norm  float64
		thr        float64
		tp, fp, fn int
	}{
		// The earliest row of a window earns the full tpWeight.
		{"detection at window start", map[int]float64{40: 0.9}, 1, 100, 0.9, 1, 0, 9},
		// The last row earns the sigmoid at -1/width, scaled by maxTP.
		{"detection at window end", map[int]float64{49: 0.9}, sig(-0.1) / sig(-1), 100 * (sig(-0.1)/sig(-1) + 1) / 2, 0.9, 1, 0, 9},
		// Only the earliest detection in a window counts; a false
		// positive before any window costs fpWeight.
		{"false positive", map[int]float64{20: 0.9, 40: 0.8, 45: 0.8}, 1 - 0.11, 100 * (1 - 0.11 + 1) / 2, 0.8, 2, 1, 8},
		// Nothing detected: the window costs fnWeight, which is also the
		// null detector's score here, so the normalised score is 0.
		{"missed window", map[int]float64{}, -1, 0, 1.1, 0, 0, 10},
		// Detections in the probationary period are not scored.
		{"probation ignored", map[int]float64{10: 1}, -1, 0, 1.1, 0, 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Score([]Result{{Series: tiny(), Scores: scores(tt.at)}}, standard)
			if math.Abs(got.Raw-tt.raw) > 1e-9 || math.Abs(got.Normalized-tt.norm) > 1e-9 || got.Threshold != tt.thr {
				t.Errorf("raw %.6f norm %.4f thr %v, want %.6f %.4f %v", got.Raw, got.Normalized, got.Threshold, tt.raw, tt.norm, tt.thr)
			}
			if got.Null != -1 || got.Perfect != 1 {
				t.Errorf("null %v perfect %v, want -1, 1", got.Null, got.Perfect)
			}
			f := got.Files[0]
			if f.TP != tt.tp || f.FP != tt.fp || f.FN != tt.fn || math.Abs(f.Score-got.Raw) > 1e-9 {
				t.Errorf("file row %+v, want tp %d fp %d fn %d score %v", f, tt.tp, tt.fp, tt.fn, got.Raw)
			}
		})
	}
}

// A false positive just after a window costs less than one far from it.
func TestFalsePositiveAfterWindow(t *testing.T) {
	near := Score([]Result{{Series: tiny(), Scores: scores(map[int]float64{40: 1, 50: 1})}}, standard).Raw
	far := Score([]Result{{Series: tiny(), Scores: scores(map[int]float64{40: 1, 90: 1})}}, standard).Raw
	if !(near > far && far > 1-0.11-1e-9 && near < 1) {
		t.Errorf("near %v far %v", near, far)
	}
}

func TestProbationLength(t *testing.T) {
	for n, want := range map[int]int{100: 15, 4032: 604, 22695: 750} {
		if got := probationLength(n); got != want {
			t.Errorf("probationLength(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("data/cat/a.csv", "timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n2020-01-01 00:10:00,3\n")
	write("labels/combined_windows.json", `{"cat/a.csv": [["2020-01-01 00:05:00.000000", "2020-01-01 00:10:00.000000"]]}`)
	write("config/profiles.json", `{"standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}}}`)
	c, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Series) != 1 || len(c.Series[0].Windows) != 1 || c.Profiles[0].Costs.FP != 0.11 {
		t.Fatalf("corpus %+v", c)
	}
	res := []Result{{Series: c.Series[0], Scores: []float64{0, 0.5, 1}}}
	out := t.TempDir()
	if err := WriteResults(out, "det", res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "det", "cat", "det_a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := "timestamp,value,anomaly_score,label\n2020-01-01 00:00:00,1,0,0\n2020-01-01 00:05:00,2,0.5,1\n2020-01-01 00:10:00,3,1,1\n"
	if string(b) != want {
		t.Errorf("results file:\n%s\nwant:\n%s", b, want)
	}
	write("data/cat/b.csv", "timestamp,value\n")
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "b.csv") {
		t.Errorf("file without labels: %v", err)
	}
}
