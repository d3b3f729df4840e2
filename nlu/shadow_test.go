package nlu_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu"
)

// shadowTexts are texts the two category versions sometimes disagree on.
var shadowTexts = []string{
	"where is my parcel", "i want a refund", "this is terrible", "cancel my order",
	"what is the weather", "我的订单还没到 where is my order?", "😀😀😀", "reset my password",
	"the app crashes on start", "i was charged twice", "do you ship abroad", "the item arrived damaged",
	"login fails", "wrong amount", "very disappointed", "tracking shows nothing",
}

// TestShadow runs category cat2 as the candidate of cat1: production
// answers must be cat1's alone, and the report must count exactly the
// agreements a separate cat2 deployment implies.
func TestShadow(t *testing.T) {
	ctx := context.Background()
	withCandidate := func(prod, cand string) nlu.Manifest {
		m := manifest("category=" + prod)
		m.Tasks["category"] = nlu.TaskVersions{Production: prod, Candidate: cand}
		return m
	}
	dir := modelsDir(t, withCandidate(cat1, cat2))
	e := open(t, dir, nlu.Config{}, nlu.Deps{})
	// References: each version serving alone.
	ref1 := open(t, modelsDir(t, manifest("category="+cat1)), nlu.Config{}, nlu.Deps{})
	ref2 := open(t, modelsDir(t, manifest("category="+cat2)), nlu.Config{}, nlu.Deps{})

	if r := e.svc.Shadow("category"); !r.Active || r.Production != cat1 || r.Candidate != cat2 || r.Compared != 0 {
		t.Fatalf("fresh report %+v", r)
	}
	agree := 0
	for _, text := range shadowTexts {
		got, err := e.svc.Classify(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := ref1.svc.Classify(ctx, text)
		b, _ := ref2.svc.Classify(ctx, text)
		if got.Label != a.Label || got.Confidence != a.Confidence || got.ModelVersion != cat1 {
			t.Errorf("%q: production answered %+v, want cat1's %+v", text, got, a)
		}
		if a.Label == b.Label {
			agree++
		}
	}
	// One batch request counts each of its texts.
	if _, err := e.svc.ClassifyMany(ctx, shadowTexts[:4]); err != nil {
		t.Fatal(err)
	}
	for _, text := range shadowTexts[:4] {
		a, _ := ref1.svc.Classify(ctx, text)
		b, _ := ref2.svc.Classify(ctx, text)
		if a.Label == b.Label {
			agree++
		}
	}
	total := int64(len(shadowTexts) + 4)
	eventually(t, 10*time.Second, "the shadow replays", func() bool { return e.svc.Shadow("category").Compared == total })
	r := e.svc.Shadow("category")
	if r.Agreed == nil || *r.Agreed != int64(agree) || r.AgreementRate == nil || *r.AgreementRate != float64(agree)/float64(total) {
		t.Errorf("agreed %v rate %v, want %d of %d", r.Agreed, r.AgreementRate, agree, total)
	}
	if agree == int(total) || agree == 0 {
		t.Logf("the versions agreed on %d of %d texts: the test does not tell agreement from disagreement", agree, total)
	}
	var disagreements int64
	for _, d := range r.Disagreements {
		if d.Production == d.Candidate || d.Count < 1 {
			t.Errorf("disagreement %+v", d)
		}
		disagreements += d.Count
	}
	if disagreements != total-int64(agree) {
		t.Errorf("disagreements sum to %d, want %d", disagreements, total-int64(agree))
	}
	// One sample per replayed request, for both versions.
	requests := len(shadowTexts) + 1
	if r.ProductionLatency.Samples != requests || r.CandidateLatency.Samples != requests ||
		r.CandidateLatency.P50Ms <= 0 || r.CandidateLatency.P99Ms < r.CandidateLatency.P50Ms || r.ProductionLatency.P50Ms <= 0 {
		t.Errorf("latencies prod %+v cand %+v, want %d samples each", r.ProductionLatency, r.CandidateLatency, requests)
	}
	if r.Errors != 0 || r.Dropped != 0 {
		t.Errorf("errors %d dropped %d", r.Errors, r.Dropped)
	}
	if n := e.metric(t, "switchboard_nlu_shadow_compared_total", map[string]string{"task": "category", "agreed": "true"}); n != float64(agree) {
		t.Errorf("shadow_compared_total{agreed=true} = %v, want %d", n, agree)
	}

	// A new candidate starts a new comparison; none ends it.
	copyVersion(t, dir, "category", cat2, "2026-03-01.1", nil)
	writeManifest(t, dir, withCandidate(cat1, "2026-03-01.1"))
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if r := e.svc.Shadow("category"); !r.Active || r.Candidate != "2026-03-01.1" || r.Compared != 0 || r.ProductionLatency.Samples != 0 {
		t.Errorf("after a new candidate: %+v", r)
	}
	// Promotion: the candidate becomes production.
	writeManifest(t, dir, manifest("category=2026-03-01.1"))
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if r := e.svc.Shadow("category"); r.Active || r.Compared != 0 {
		t.Errorf("without a candidate: %+v", r)
	}
	if c, err := e.svc.Classify(ctx, "where is my parcel"); err != nil || c.ModelVersion != "2026-03-01.1" {
		t.Errorf("after promotion: %+v, %v", c, err)
	}
	if r := e.svc.Shadow("nonsense"); r.Active || r.Task != "nonsense" {
		t.Errorf("unknown task: %+v", r)
	}
}

// TestShadowQueueFull floods a one-slot shadow queue: production must not
// wait for it, and every request must be either compared or counted as
// dropped.
func TestShadowQueueFull(t *testing.T) {
	ctx := context.Background()
	m := manifest()
	m.Tasks["category"] = nlu.TaskVersions{Production: cat1, Candidate: cat2}
	e := open(t, modelsDir(t, m), nlu.Config{ShadowQueue: 1}, nlu.Deps{})
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for k := range each {
				if _, err := e.svc.Classify(ctx, fmt.Sprintf("%s %d", shadowTexts[(g+k)%len(shadowTexts)], k)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("production request failed: %v", err)
	}
	eventually(t, 10*time.Second, "every request accounted for", func() bool {
		r := e.svc.Shadow("category")
		return r.Compared+r.Dropped == goroutines*each
	})
	r := e.svc.Shadow("category")
	if n := e.metric(t, "switchboard_nlu_shadow_dropped_total", map[string]string{"task": "category"}); n != float64(r.Dropped) {
		t.Errorf("dropped metric %v, report %d", n, r.Dropped)
	}
	t.Logf("compared %d, dropped %d", r.Compared, r.Dropped)
}
