package nlu_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/nlu"
)

// countUtterances returns how many utterances the index holds.
func countUtterances(t *testing.T, c *es.Client) int {
	t.Helper()
	ctx := context.Background()
	name := c.Name(nlu.UtterancesIndex)
	if err := c.Refresh(ctx, name); err != nil {
		if es.StatusOf(err) == http.StatusNotFound {
			return 0
		}
		t.Fatal(err)
	}
	var res struct {
		Count int `json:"count"`
	}
	if err := c.Do(ctx, http.MethodGet, "/"+name+"/_count", nil, &res); err != nil {
		t.Fatal(err)
	}
	return res.Count
}

// TestIntentHealth records utterances through Intent into a real
// Elasticsearch and checks that IntentHealth groups them by family.
func TestIntentHealth(t *testing.T) {
	ctx := context.Background()
	c := estest.Client(t)
	dir := modelsDir(t, all())
	e := open(t, dir, nlu.Config{RecordFlush: 20 * time.Millisecond, RecordBatch: 4}, nlu.Deps{Utterances: c})

	families := map[string][]string{
		"weather":  {"what is the weather", "What is the weather?", "what is the weather today", "WHAT IS THE WEATHER!", "the weather please"},
		"joke":     {"tell me a joke", "tell me a joke please", "Tell me a joke!"},
		"football": {"who won the football", "who won the football match"},
	}
	recorded := map[string]int{}
	total := 0
	for fam, texts := range families {
		for _, text := range texts {
			r, err := e.svc.Intent(ctx, text)
			if err != nil {
				t.Fatal(err)
			}
			if r.OutOfScope || r.Source == nlu.SourceNeedsReview {
				recorded[fam]++
				total++
			}
		}
	}
	// Confident in-scope intents are not recorded.
	for _, text := range []string{"cancel my order", "i want a refund"} {
		r, err := e.svc.Intent(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		if r.OutOfScope || r.Source != nlu.SourceAuto {
			t.Fatalf("%q: %+v; the test needs a confident in-scope intent", text, r)
		}
	}
	if recorded["weather"] < 4 || recorded["joke"] < 2 || recorded["football"] < 2 {
		t.Fatalf("recorded by family %v: the tiny intent model no longer finds these out of scope", recorded)
	}
	eventually(t, 10*time.Second, "the utterances in Elasticsearch", func() bool { return countUtterances(t, c) == total })

	rep, err := e.svc.IntentHealth(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Utterances != total || rep.Embedded != 0 || rep.EmbedModel != embed || rep.Threshold != 0.75 {
		t.Errorf("report: %d utterances, %d embedded now, model %s, threshold %v; want %d, 0 (recorded with vectors), %s, 0.75",
			rep.Utterances, rep.Embedded, rep.EmbedModel, rep.Threshold, total, embed)
	}
	if len(rep.Groups) != len(families) {
		t.Fatalf("%d groups, want %d: %+v", len(rep.Groups), len(families), rep.Groups)
	}
	for k, g := range rep.Groups {
		if k > 0 && g.Count > rep.Groups[k-1].Count {
			t.Errorf("groups not sorted by count: %d after %d", g.Count, rep.Groups[k-1].Count)
		}
		var fam string
		for f := range families {
			if strings.Contains(g.Name, f) {
				fam = f
			}
		}
		if fam == "" {
			t.Errorf("group %q: name names no family; examples %v", g.Name, g.Examples)
			continue
		}
		if g.Count != recorded[fam] {
			t.Errorf("group %s: %d utterances, want %d", g.Name, g.Count, recorded[fam])
		}
		for _, ex := range g.Examples {
			if !slices.Contains(families[fam], ex) {
				t.Errorf("group %s: example %q is not of the family", g.Name, ex)
			}
		}
		if len(g.Examples) == 0 || len(g.Examples) > 5 || g.Label == "" || g.Labels[g.Label] == 0 ||
			g.MeanConfidence <= 0 || g.MeanConfidence > 1 || g.FirstAt.After(g.LastAt) {
			t.Errorf("group %+v", g)
		}
	}

	// Another embedding model: the stored vectors are of no use, so every
	// utterance is embedded again.
	copyVersion(t, dir, "embed", embed, "tiny-embed.2", nil)
	m := all()
	m.Tasks["embed"] = nlu.TaskVersions{Production: "tiny-embed.2"}
	writeManifest(t, dir, m)
	if err := e.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	rep2, err := e.svc.IntentHealth(ctx, time.Time{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Utterances != 2 || rep2.Embedded != 2 || rep2.EmbedModel != "tiny-embed.2" {
		t.Errorf("with another embedding model and limit 2: %d utterances, %d embedded, model %s", rep2.Utterances, rep2.Embedded, rep2.EmbedModel)
	}

	future, err := e.svc.IntentHealth(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || future.Utterances != 0 || future.Groups == nil || len(future.Groups) != 0 {
		t.Errorf("since the future: %+v, %v", future, err)
	}
	for _, limit := range []int{-1, nlu.MaxHealthLimit + 1} {
		if _, err := e.svc.IntentHealth(ctx, time.Time{}, limit); !errors.Is(err, nlu.ErrInvalid) {
			t.Errorf("limit %d: err = %v, want ErrInvalid", limit, err)
		}
	}
	if n := e.metric(t, "switchboard_nlu_utterances_recorded_total", nil); n != float64(total) {
		t.Errorf("recorded metric %v, want %d", n, total)
	}
}

// TestIntentHealthNothingRecorded asks before the index exists.
func TestIntentHealthNothingRecorded(t *testing.T) {
	e := open(t, modelsDir(t, all()), nlu.Config{}, nlu.Deps{Utterances: estest.Client(t)})
	rep, err := e.svc.IntentHealth(context.Background(), time.Time{}, 0)
	if err != nil || rep.Utterances != 0 || len(rep.Groups) != 0 {
		t.Errorf("%+v, %v", rep, err)
	}
}

// TestRecordingFlushesOnClose checks that utterances still queued when the
// Service closes are written.
func TestRecordingFlushesOnClose(t *testing.T) {
	c := estest.Client(t)
	e := open(t, modelsDir(t, all()), nlu.Config{RecordFlush: time.Hour}, nlu.Deps{Utterances: c})
	r, err := e.svc.Intent(context.Background(), "what is the weather")
	if err != nil || !r.OutOfScope {
		t.Fatalf("%+v, %v: the test needs an out-of-scope utterance", r, err)
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countUtterances(t, c); n != 1 {
		t.Errorf("%d utterances stored after Close, want 1", n)
	}
}

// TestRecordingWithoutElasticsearch points the recorder at a port nothing
// listens on: requests still succeed, and the lost utterances are counted.
func TestRecordingWithoutElasticsearch(t *testing.T) {
	c, err := es.New(es.Config{URLs: []string{"http://127.0.0.1:1"}, Prefix: "nlu-test", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, modelsDir(t, all()), nlu.Config{RecordFlush: 10 * time.Millisecond}, nlu.Deps{Utterances: c})
	for range 3 {
		r, err := e.svc.Intent(context.Background(), "what is the weather")
		if err != nil || !r.OutOfScope {
			t.Fatalf("%+v, %v", r, err)
		}
	}
	eventually(t, 20*time.Second, "the dropped utterances counted", func() bool {
		return e.metric(t, "switchboard_nlu_utterances_dropped_total", map[string]string{"reason": "store_error"}) == 3
	})
	if _, err := e.svc.IntentHealth(context.Background(), time.Time{}, 0); !errors.Is(err, nlu.ErrUnavailable) {
		t.Errorf("IntentHealth with Elasticsearch down: err = %v, want ErrUnavailable", err)
	}
}
