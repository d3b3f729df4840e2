package nab

import (
	"math"
	"sort"
	"time"
)

// ProbationPercent is the share of each file, at its start, that NAB does
// not score: a detector is given that long to learn.
const ProbationPercent = 0.15

// scaledSigmoid is NAB's reward curve. relPos is the position relative to
// the right edge of a window: -1 at its left edge (≈ +0.987), 0 at its
// right edge (0), and positive past it, falling to -1 for a false positive
// three window-widths or more after the window.
func scaledSigmoid(relPos float64) float64 {
	if relPos >= 3 {
		return -1
	}
	return 2/(1+math.Exp(5*relPos)) - 1
}

// probationLength is NAB's probationary period in rows: 15% of the file,
// but at most 15% of 5,000 rows, so long files do not hide more.
func probationLength(rows int) int {
	return int(math.Min(math.Floor(ProbationPercent*float64(rows)), ProbationPercent*5000))
}

// Window ids of points that are not inside a scorable window.
const (
	outside      = -1
	probationary = -2
)

// point is one row as the sweep sees it.
type point struct {
	score  float64 // the detector's anomaly score
	weight float64 // the row's contribution when detected (NAB's sweepScore)
	window int     // a corpus-wide window id, outside or probationary
}

// sweepFile turns one file's anomaly scores into sweep points, numbering
// its windows from firstID. A detection inside a window is worth
// tpWeight scaled by how early it comes; one outside is worth
// -fpWeight, or less near the end of the preceding window.
func sweepFile(ts []time.Time, scores []float64, windows []Window, c CostMatrix, firstID int) []point {
	n := len(ts)
	prob := probationLength(n)
	maxTP := scaledSigmoid(-1)
	out := make([]point, n)
	for i := range out {
		out[i] = point{score: scores[i], window: outside}
	}
	// Row weights outside windows depend on the closest preceding window.
	prevRight, prevWidth := -1, 0
	next := 0
	id := firstID
	for _, w := range windows {
		l, r := indexRange(ts, w)
		if l < 0 {
			id++
			continue
		}
		for i := next; i < l; i++ {
			out[i].weight = fpWeight(i, prevRight, prevWidth, c)
		}
		width := r - l + 1
		for i := l; i <= r; i++ {
			// NAB measures the position from one past the right edge, so a
			// detection on the last row of a window still earns a little.
			pos := -float64(r-i+1) / float64(width)
			out[i].weight = scaledSigmoid(pos) * c.TP / maxTP
			out[i].window = id
		}
		prevRight, prevWidth, next = r, width, r+1
		id++
	}
	for i := next; i < n; i++ {
		out[i].weight = fpWeight(i, prevRight, prevWidth, c)
	}
	for i := 0; i < prob && i < n; i++ {
		out[i].window = probationary
	}
	return out
}

func fpWeight(i, prevRight, prevWidth int, c CostMatrix) float64 {
	pos := 3.0
	if prevRight >= 0 {
		// NAB divides by width-1; a one-row window would divide by zero
		// there (NaN); treat it as far away instead.
		if prevWidth > 1 {
			pos = math.Abs(float64(i-prevRight)) / float64(prevWidth-1)
		}
	}
	return scaledSigmoid(pos) * c.FP
}

// indexRange returns the first and last row inside w, or -1, -1.
func indexRange(ts []time.Time, w Window) (int, int) {
	l := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(w.Start) })
	r := sort.Search(len(ts), func(i int) bool { return ts[i].After(w.End) }) - 1
	if l >= len(ts) || r < l {
		return -1, -1
	}
	return l, r
}

// ThresholdScore is the raw score of a set of files when every row whose
// anomaly score is at least Threshold counts as a detection.
type ThresholdScore struct {
	Threshold      float64
	Score          float64
	TP, TN, FP, FN int // rows, probationary ones excluded
}

// sweep scores points at every distinct anomaly score, highest first, as
// NAB's Sweeper.calcScoreByThreshold does: a window counts its best
// (earliest) detection, or -fnWeight when it has none; every detection
// outside windows adds its (negative) weight.
func sweep(points []point, c CostMatrix) []ThresholdScore {
	var rows []point
	best := map[int]float64{}
	tn, fn := 0, 0
	for _, p := range points {
		switch {
		case p.window == probationary:
			continue
		case p.window == outside:
			tn++
		default:
			best[p.window] = -c.FN
			fn++
		}
		rows = append(rows, p)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].score > rows[j].score })
	// The running sum over windows is kept incrementally: best only grows.
	winSum := -c.FN * float64(len(best))
	fpSum := 0.0
	tp, fp := 0, 0
	cur := 1.1 // above any score: nothing detected
	var out []ThresholdScore
	for _, p := range rows {
		if p.score != cur {
			out = append(out, ThresholdScore{cur, winSum + fpSum, tp, tn, fp, fn})
			cur = p.score
		}
		if p.window == outside {
			fp++
			tn--
			fpSum += p.weight
		} else {
			tp++
			fn--
			if p.weight > best[p.window] {
				winSum += p.weight - best[p.window]
				best[p.window] = p.weight
			}
		}
	}
	out = append(out, ThresholdScore{cur, winSum + fpSum, tp, tn, fp, fn})
	return out
}

// at returns the row of rows (as sweep returns them) that applies at
// threshold t, as NAB's Sweeper.scoreDataSet picks it.
func at(rows []ThresholdScore, t float64) ThresholdScore {
	prev := rows[0]
	for _, r := range rows {
		if r.Threshold == t {
			return r
		}
		if r.Threshold < t {
			return prev
		}
		prev = r
	}
	return prev
}

// Result is one detector's anomaly scores for one series.
type Result struct {
	Series *Series
	Scores []float64 // one per row, in [0, 1]
}

// FileScore is one file's share of a profile's score.
type FileScore struct {
	Name string
	ThresholdScore
}

// ProfileScore is a detector's NAB score under one profile.
type ProfileScore struct {
	Profile   string
	Threshold float64 // the best threshold of the sweep over all files
	Raw       float64 // the summed raw score at that threshold
	Null      float64 // the raw score of the null detector (constant 0.5)
	Perfect   float64 // the raw score of a perfect detector
	// Normalized is 100 * (Raw - Null) / (Perfect - Null): 0 for the null
	// detector, 100 for a perfect one. This is the number NAB publishes.
	Normalized float64
	Files      []FileScore
}

// Score scores results under a profile as NAB does: one threshold is
// chosen for the whole corpus, the one maximising the summed raw score,
// and the sum is normalised between the null and the perfect detector.
func Score(results []Result, p Profile) ProfileScore {
	thr, raw := optimize(results, p.Costs, func(r Result) []float64 { return r.Scores })
	_, null := optimize(results, p.Costs, func(r Result) []float64 {
		s := make([]float64, len(r.Scores))
		for i := range s {
			s[i] = 0.5
		}
		return s
	})
	windows := 0
	for _, r := range results {
		windows += len(r.Series.Windows)
	}
	perfect := float64(windows) * p.Costs.TP
	ps := ProfileScore{Profile: p.Name, Threshold: thr, Raw: raw, Null: null, Perfect: perfect}
	if perfect != null {
		ps.Normalized = 100 * (raw - null) / (perfect - null)
	}
	for _, r := range results {
		pts := sweepFile(r.Series.Timestamps, r.Scores, r.Series.Windows, p.Costs, 0)
		ps.Files = append(ps.Files, FileScore{Name: r.Series.Name, ThresholdScore: at(sweep(pts, p.Costs), thr)})
	}
	return ps
}

// optimize sweeps the thresholds over all files at once and returns the
// best one; ties go to the highest threshold, as in NAB.
func optimize(results []Result, c CostMatrix, scores func(Result) []float64) (threshold, raw float64) {
	var all []point
	id := 0
	for _, r := range results {
		all = append(all, sweepFile(r.Series.Timestamps, scores(r), r.Series.Windows, c, id)...)
		id += len(r.Series.Windows)
	}
	rows := sweep(all, c)
	best := rows[0]
	for _, r := range rows[1:] {
		if r.Score > best.Score {
			best = r
		}
	}
	return best.Threshold, best.Score
}
