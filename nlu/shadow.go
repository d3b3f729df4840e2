package nlu

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/onnxmodel"
)

// shadowJob is one production request to replay on the candidate. It
// holds a reference to the candidate, released when the replay is done or
// dropped.
type shadowJob struct {
	texts    []string
	single   bool
	prod     *modelInfo
	prodOut  [][]float32
	prodTook time.Duration
	cand     *loaded
	stats    *shadowStats
}

// shadower replays production requests on candidates, one at a time, off
// the request path: the production answer is already on its way when the
// replay starts, and a full queue drops replays instead of waiting.
type shadower struct {
	s  *Service
	ch chan shadowJob
}

func newShadower(s *Service, queue int) *shadower {
	return &shadower{s: s, ch: make(chan shadowJob, queue)}
}

// offer queues j, or drops and counts it when the queue is full.
func (sh *shadower) offer(j shadowJob) {
	select {
	case sh.ch <- j:
	default:
		j.cand.release()
		j.stats.drop()
		sh.s.m.shadowDropped.WithLabelValues(j.prod.task).Inc()
	}
}

// run replays queued jobs until ctx is done, then releases the rest.
func (sh *shadower) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case j := <-sh.ch:
					j.cand.release()
				default:
					return
				}
			}
		case j := <-sh.ch:
			sh.replay(ctx, j)
		}
	}
}

func (sh *shadower) replay(ctx context.Context, j shadowJob) {
	defer j.cand.release()
	ctx, cancel := context.WithTimeout(ctx, sh.s.cfg.ShadowTimeout)
	defer cancel()
	now := sh.s.cfg.Now
	start := now()
	var outs [][]float32
	var err error
	if j.single {
		// The same path as production's (micro-batched Run), so the two
		// latencies compare like with like.
		var out []float32
		out, err = j.cand.model.Run(ctx, j.texts[0])
		outs = [][]float32{out}
	} else {
		outs, err = j.cand.model.RunMany(ctx, j.texts)
	}
	took := now().Sub(start)
	if err != nil || len(outs) != len(j.texts) {
		if ctx.Err() == nil || err == nil {
			j.stats.fail()
		}
		return
	}
	agreed := 0
	labelled := j.prod.kind == onnxmodel.KindClassifier && j.cand.info.kind == onnxmodel.KindClassifier
	for k := range outs {
		if labelled {
			a, b := j.prod.label(j.prodOut[k]), j.cand.info.label(outs[k])
			if a == b {
				agreed++
			}
			j.stats.pair(a, b)
			sh.s.m.shadowCompared.WithLabelValues(j.prod.task, boolLabel(a == b)).Inc()
		}
	}
	j.stats.record(len(outs), agreed, labelled, j.prodTook, took)
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// shadowStats is the comparison of one production/candidate pair.
type shadowStats struct {
	task, prod, cand string
	since            time.Time

	mu            sync.Mutex
	compared      int64
	agreed        int64
	labelled      bool
	errors        int64
	dropped       int64
	prodLat       *window
	candLat       *window
	disagreements map[[2]string]int64
}

// maxDisagreementPairs bounds the label pairs tracked, against a
// candidate with a new label set.
const maxDisagreementPairs = 200

func newShadowStats(task, prod, cand string, since time.Time, window int) *shadowStats {
	return &shadowStats{
		task: task, prod: prod, cand: cand, since: since,
		prodLat: newWindow(window), candLat: newWindow(window),
		disagreements: map[[2]string]int64{},
	}
}

func (st *shadowStats) drop() {
	st.mu.Lock()
	st.dropped++
	st.mu.Unlock()
}

func (st *shadowStats) fail() {
	st.mu.Lock()
	st.errors++
	st.mu.Unlock()
}

func (st *shadowStats) pair(prod, cand string) {
	if prod == cand {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k := [2]string{prod, cand}
	if _, ok := st.disagreements[k]; ok || len(st.disagreements) < maxDisagreementPairs {
		st.disagreements[k]++
	}
}

func (st *shadowStats) record(n, agreed int, labelled bool, prod, cand time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.compared += int64(n)
	st.agreed += int64(agreed)
	st.labelled = st.labelled || labelled
	st.prodLat.add(prod)
	st.candLat.add(cand)
}

// resetShadow starts a new comparison when task's production/candidate
// pair changed. Callers hold s.mu.
func (s *Service) resetShadow(ts *taskState, task string) {
	if ts.prod == nil || ts.cand == nil {
		ts.shadow = nil
		return
	}
	if ts.shadow != nil && ts.shadow.prod == ts.prod.info.version && ts.shadow.cand == ts.cand.info.version {
		return
	}
	ts.shadow = newShadowStats(task, ts.prod.info.version, ts.cand.info.version, s.cfg.Now(), s.cfg.ShadowWindow)
}

// ShadowReport compares a task's candidate with its production version on
// the production traffic since the pair started serving.
type ShadowReport struct {
	Task string `json:"task"`
	// Active is false when the task has no candidate; the rest is then
	// empty.
	Active     bool      `json:"active"`
	Production string    `json:"production,omitempty"`
	Candidate  string    `json:"candidate,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	// Compared counts the texts both answered.
	Compared int64 `json:"compared"`
	// Agreed counts the texts both gave the same label; AgreementRate is
	// Agreed/Compared. Both are absent for embedders, whose vectors from
	// two models cannot be compared.
	Agreed        *int64   `json:"agreed,omitempty"`
	AgreementRate *float64 `json:"agreement_rate,omitempty"`
	// Errors counts replays that failed on the candidate; Dropped the
	// requests not replayed because the queue was full.
	Errors  int64 `json:"errors"`
	Dropped int64 `json:"dropped"`
	// Latencies of the same requests, over the most recent ones.
	ProductionLatency Latency `json:"production_latency"`
	CandidateLatency  Latency `json:"candidate_latency"`
	// Disagreements are the most frequent (production, candidate) label
	// pairs that differed, most frequent first, at most 10.
	Disagreements []Disagreement `json:"disagreements,omitempty"`
}

// Latency summarises recent latencies.
type Latency struct {
	Samples int     `json:"samples"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
}

// Disagreement is a pair of differing labels and how often it occurred.
type Disagreement struct {
	Production string `json:"production"`
	Candidate  string `json:"candidate"`
	Count      int64  `json:"count"`
}

// Shadow returns the shadow comparison of task's candidate.
func (s *Service) Shadow(task string) ShadowReport {
	s.mu.RLock()
	var st *shadowStats
	if ts := s.tasks[task]; ts != nil {
		st = ts.shadow
	}
	s.mu.RUnlock()
	if st == nil {
		return ShadowReport{Task: task}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r := ShadowReport{
		Task: task, Active: true, Production: st.prod, Candidate: st.cand, Since: st.since,
		Compared: st.compared, Errors: st.errors, Dropped: st.dropped,
		ProductionLatency: st.prodLat.summary(), CandidateLatency: st.candLat.summary(),
	}
	if st.labelled || kindFor(task) == onnxmodel.KindClassifier {
		agreed := st.agreed
		r.Agreed = &agreed
		if st.compared > 0 {
			rate := float64(st.agreed) / float64(st.compared)
			r.AgreementRate = &rate
		}
	}
	for k, n := range st.disagreements {
		r.Disagreements = append(r.Disagreements, Disagreement{Production: k[0], Candidate: k[1], Count: n})
	}
	slices.SortFunc(r.Disagreements, func(a, b Disagreement) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Production, b.Production), cmp.Compare(a.Candidate, b.Candidate))
	})
	r.Disagreements = r.Disagreements[:min(10, len(r.Disagreements))]
	return r
}

// window keeps the most recent durations.
type window struct {
	buf  []time.Duration
	next int
	full bool
}

func newWindow(n int) *window { return &window{buf: make([]time.Duration, n)} }

func (w *window) add(d time.Duration) {
	w.buf[w.next] = d
	w.next++
	if w.next == len(w.buf) {
		w.next, w.full = 0, true
	}
}

func (w *window) summary() Latency {
	n := w.next
	if w.full {
		n = len(w.buf)
	}
	if n == 0 {
		return Latency{}
	}
	sorted := slices.Clone(w.buf[:n])
	slices.Sort(sorted)
	q := func(p float64) float64 {
		// Nearest rank: the smallest sample at or above p of them.
		i := int(p*float64(n)+0.999999) - 1
		i = max(0, min(n-1, i))
		return float64(sorted[i]) / float64(time.Millisecond)
	}
	return Latency{Samples: n, P50Ms: q(0.5), P99Ms: q(0.99)}
}
