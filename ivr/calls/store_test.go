package calls_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/calls"
)

// t0 is the test's "now", the last full hour; every seeded call started
// before it. It follows the clock because the Ranker counts back from
// time.Now.
var t0 = time.Now().UTC().Truncate(time.Hour)

// newStore returns a store on a fresh index that waits for refreshes, so
// a search sees every write before it.
func newStore(t *testing.T) *calls.Store {
	t.Helper()
	s, _ := newStoreConfig(t, calls.Config{RefreshOnWrite: true})
	return s
}

func newStoreConfig(t *testing.T, cfg calls.Config) (*calls.Store, *es.Client) {
	t.Helper()
	c := estest.Client(t)
	s := calls.New(c, cfg, nil)
	if err := c.Ensure(context.Background(), slog.New(slog.DiscardHandler), s.Index()); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// seeded returns a store holding seed's calls. It writes without waiting
// for refreshes (a second each) and refreshes once.
func seeded(t *testing.T) *calls.Store {
	t.Helper()
	s, c := newStoreConfig(t, calls.DefaultConfig())
	seed(t, s)
	if err := c.Do(context.Background(), http.MethodPost, "/"+c.Name(calls.IndexName)+"/_refresh", nil, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// rec builds an ended call answered at start, lasting d.
func rec(id string, start time.Time, d time.Duration, o calls.Outcome) *calls.Record {
	end := start.Add(d)
	return &calls.Record{
		ID: id, SIPCallID: "sip-" + id, Caller: "sip:100@pbx", Called: "sip:hotline@ivr",
		FlowID: "main", FlowVersion: 3, Language: "zh",
		Started: start, Ended: &end, DurationMS: d.Milliseconds(), Outcome: o,
		Path: []calls.Step{{Node: "welcome", Kind: "say", At: start}},
	}
}

// recog is a recognition at node, at, of intent, with latency ms.
func recog(node string, at time.Time, intent string, latency int64) calls.Recognition {
	r := calls.Recognition{Node: node, At: at, Text: "我要" + intent, Confidence: 0.9, Intent: intent, Result: "matched", LatencyMS: latency}
	if intent == "" {
		r.Result = "no_match"
	}
	return r
}

func put(t *testing.T, s *calls.Store, rs ...*calls.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.Put(context.Background(), r); err != nil {
			t.Fatalf("put %s: %v", r.ID, err)
		}
	}
}

// TestPutGet: a record written at the start of a call and again at its
// end is one document holding the second version; a missing id is
// ErrNotFound; a record without id or start is refused.
func TestPutGet(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	start := &calls.Record{ID: "c1", Caller: "sip:100@pbx", FlowID: "main", Started: t0, Path: []calls.Step{{Node: "welcome", Kind: "say", At: t0}}}
	put(t, s, start)
	got, err := s.Get(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Ended != nil || got.Outcome != "" || !got.Started.Equal(t0) {
		t.Errorf("at start: %+v", got)
	}

	end := rec("c1", t0, 95*time.Second, calls.Transferred)
	end.Recognitions = []calls.Recognition{recog("menu", t0.Add(10*time.Second), "billing", 420)}
	end.Transfer = &calls.Transfer{Group: "billing", Agent: "a7", Result: "accepted", QueueWaitMS: 12000}
	end.TicketIDs = []string{"T-1"}
	end.Recording = &calls.RecordingRef{ID: "rec1", URL: "/api/v1/calls/c1/recording", Seconds: 95}
	put(t, s, end)
	got, err = s.Get(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != calls.Transferred || got.Ended == nil || !got.Ended.Equal(t0.Add(95*time.Second)) ||
		got.Transfer == nil || got.Transfer.Agent != "a7" || len(got.Recognitions) != 1 || got.Recognitions[0].LatencyMS != 420 ||
		got.Recording == nil || got.Recording.ID != "rec1" || !slices.Equal(got.TicketIDs, []string{"T-1"}) {
		t.Errorf("at end: %+v", got)
	}
	if _, n, err := s.Search(ctx, calls.Query{}); err != nil || n != 1 {
		t.Errorf("Search after two puts of one call: total %d, %v; want 1", n, err)
	}

	for _, id := range []string{"nope", "c1/../c2", ""} {
		if _, err := s.Get(ctx, id); !errors.Is(err, calls.ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
	}
	for _, r := range []*calls.Record{nil, {Started: t0}, {ID: "x"}} {
		if err := s.Put(ctx, r); !errors.Is(err, calls.ErrInvalid) {
			t.Errorf("Put(%+v): %v, want ErrInvalid", r, err)
		}
	}
}

// TestGetWithoutIndex: a missing index is a server fault, not a missing
// call.
func TestGetWithoutIndex(t *testing.T) {
	s := calls.New(estest.Client(t), calls.Config{}, nil)
	if _, err := s.Get(context.Background(), "c1"); err == nil || errors.Is(err, calls.ErrNotFound) {
		t.Errorf("Get without an index: %v, want an error other than ErrNotFound", err)
	}
}

// seed stores six calls over two days with known answers.
func seed(t *testing.T, s *calls.Store) {
	t.Helper()
	a := rec("a", t0.Add(-30*time.Hour), 60*time.Second, calls.SelfServed)
	a.Caller = "sip:200@pbx"
	a.Path = append(a.Path, calls.Step{Node: "menu", Kind: "ask"}, calls.Step{Node: "balance", Kind: "say"})
	a.Recognitions = []calls.Recognition{recog("menu", a.Started.Add(5*time.Second), "balance", 100)}

	b := rec("b", t0.Add(-3*time.Hour), 120*time.Second, calls.Ticketed)
	b.Path = append(b.Path, calls.Step{Node: "menu", Kind: "ask"}, calls.Step{Node: "ticket", Kind: "ticket"})
	b.Recognitions = []calls.Recognition{
		recog("menu", b.Started.Add(5*time.Second), "", 200),
		recog("menu", b.Started.Add(15*time.Second), "refund", 300),
		recog("order", b.Started.Add(30*time.Second), "billing", 400),
	}

	c := rec("c", t0.Add(-2*time.Hour), 180*time.Second, calls.Transferred)
	c.FlowID = "vip"
	c.Path = append(c.Path, calls.Step{Node: "menu", Kind: "ask"}, calls.Step{Node: "agent", Kind: "transfer"})
	c.Recognitions = []calls.Recognition{recog("menu", c.Started.Add(5*time.Second), "refund", 500)}

	d := rec("d", t0.Add(-90*time.Minute), 10*time.Second, calls.Abandoned)

	e := rec("e", t0.Add(-1*time.Hour), 30*time.Second, calls.SelfServed)
	e.Path = append(e.Path, calls.Step{Node: "menu", Kind: "ask"})
	e.Recognitions = []calls.Recognition{recog("menu", e.Started.Add(5*time.Second), "billing", 0)}

	// f is still up: no end, no outcome.
	f := &calls.Record{ID: "f", Caller: "sip:100@pbx", FlowID: "main", Started: t0.Add(-10 * time.Minute), Path: []calls.Step{{Node: "welcome", Kind: "say"}}}
	put(t, s, a, b, c, d, e, f)
}

// TestSearch: every filter alone and combined, paging, and newest first.
func TestSearch(t *testing.T) {
	s := seeded(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		q     calls.Query
		want  []string // ids of the page, in order
		total int
	}{
		{name: "all, newest first", q: calls.Query{}, want: []string{"f", "e", "d", "c", "b", "a"}, total: 6},
		{name: "from", q: calls.Query{From: t0.Add(-2 * time.Hour)}, want: []string{"f", "e", "d", "c"}, total: 4},
		{name: "to is exclusive", q: calls.Query{To: t0.Add(-2 * time.Hour)}, want: []string{"b", "a"}, total: 2},
		{name: "from and to", q: calls.Query{From: t0.Add(-3 * time.Hour), To: t0.Add(-time.Hour)}, want: []string{"d", "c", "b"}, total: 3},
		{name: "outcome", q: calls.Query{Outcomes: []calls.Outcome{calls.SelfServed}}, want: []string{"e", "a"}, total: 2},
		{name: "outcomes", q: calls.Query{Outcomes: []calls.Outcome{calls.Ticketed, calls.Abandoned}}, want: []string{"d", "b"}, total: 2},
		{name: "caller", q: calls.Query{Caller: "sip:200@pbx"}, want: []string{"a"}, total: 1},
		{name: "flow", q: calls.Query{FlowID: "vip"}, want: []string{"c"}, total: 1},
		{name: "intent anywhere in the call", q: calls.Query{Intent: "billing"}, want: []string{"e", "b"}, total: 2},
		{name: "node visited", q: calls.Query{Node: "menu"}, want: []string{"e", "c", "b", "a"}, total: 4},
		{name: "node and intent", q: calls.Query{Node: "ticket", Intent: "refund"}, want: []string{"b"}, total: 1},
		{name: "nothing", q: calls.Query{Node: "menu", Outcomes: []calls.Outcome{calls.Abandoned}}, want: []string{}, total: 0},
		{name: "page 1", q: calls.Query{Size: 2}, want: []string{"f", "e"}, total: 6},
		{name: "page 2", q: calls.Query{Offset: 2, Size: 2}, want: []string{"d", "c"}, total: 6},
		{name: "past the end", q: calls.Query{Offset: 6, Size: 2}, want: []string{}, total: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tc.want) || total != tc.total {
				t.Errorf("got %v of %d, want %v of %d", ids, total, tc.want, tc.total)
			}
		})
	}
	for _, q := range []calls.Query{
		{From: t0, To: t0},
		{Size: calls.MaxPageSize + 1},
		{Size: -1},
		{Offset: -1},
		{Offset: calls.MaxOffset},
		{Outcomes: []calls.Outcome{"won"}},
	} {
		if _, _, err := s.Search(ctx, q); !errors.Is(err, calls.ErrInvalid) {
			t.Errorf("Search(%+v): %v, want ErrInvalid", q, err)
		}
	}
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// TestStats checks the dashboard numbers on the seeded calls, whose
// answers are worked out by hand.
func TestStats(t *testing.T) {
	s := seeded(t)
	ctx := context.Background()

	// The last four hours, in hours: b, c, d, e and f (a is 30 h old).
	// Ended: b ticket, c transferred, d abandoned, e self-served.
	st, err := s.Stats(ctx, calls.StatsQuery{From: t0.Add(-4 * time.Hour), To: t0})
	if err != nil {
		t.Fatal(err)
	}
	wantOutcomes := map[calls.Outcome]int64{calls.SelfServed: 1, calls.Ticketed: 1, calls.Transferred: 1, calls.Abandoned: 1, calls.Failed: 0}
	if st.Calls != 5 || st.Ended != 4 || !maps.Equal(st.ByOutcome, wantOutcomes) || st.IntervalMS != time.Hour.Milliseconds() {
		t.Errorf("calls %d ended %d outcomes %v interval %d; want 5, 4, %v, 1h", st.Calls, st.Ended, st.ByOutcome, st.IntervalMS, wantOutcomes)
	}
	if st.ContainmentRate != 0.25 || st.TicketRate != 0.25 || st.TransferRate != 0.25 || st.AbandonmentRate != 0.25 {
		t.Errorf("rates %+v, want 0.25 each", st)
	}
	// (120+180+10+30)/4 s.
	if st.AvgHandleMS == nil || *st.AvgHandleMS != 85000 {
		t.Errorf("avg handle %s, want 85000", fmtPtr(st.AvgHandleMS))
	}
	// Latencies 200, 300, 400, 500 (e's 0 is unmeasured): the median is
	// 350; p95 lies between the two highest.
	if st.LatencyP50MS == nil || *st.LatencyP50MS != 350 || st.LatencyP95MS == nil || *st.LatencyP95MS <= 400 || *st.LatencyP95MS > 500 {
		t.Errorf("latency p50 %s p95 %s, want 350 and in (400, 500]", fmtPtr(st.LatencyP50MS), fmtPtr(st.LatencyP95MS))
	}
	wantVolume := []calls.VolumeBucket{
		{Start: t0.Add(-4 * time.Hour), Calls: 0},
		{Start: t0.Add(-3 * time.Hour), Calls: 1},
		{Start: t0.Add(-2 * time.Hour), Calls: 2},
		{Start: t0.Add(-1 * time.Hour), Calls: 2},
	}
	if !slices.EqualFunc(st.Volume, wantVolume, func(a, b calls.VolumeBucket) bool { return a.Start.Equal(b.Start) && a.Calls == b.Calls }) {
		t.Errorf("volume %+v, want %+v", st.Volume, wantVolume)
	}

	// Buckets start at From even when From is not on the interval.
	st, err = s.Stats(ctx, calls.StatsQuery{From: t0.Add(-150 * time.Minute), To: t0.Add(-30 * time.Minute), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wantVolume = []calls.VolumeBucket{{Start: t0.Add(-150 * time.Minute), Calls: 1}, {Start: t0.Add(-90 * time.Minute), Calls: 2}}
	if !slices.EqualFunc(st.Volume, wantVolume, func(a, b calls.VolumeBucket) bool { return a.Start.Equal(b.Start) && a.Calls == b.Calls }) {
		t.Errorf("offset volume %+v, want %+v", st.Volume, wantVolume)
	}

	// A range with only a call still up: no rates, nothing measured.
	st, err = s.Stats(ctx, calls.StatsQuery{From: t0.Add(-15 * time.Minute), To: t0, Interval: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 1 || st.Ended != 0 || st.ContainmentRate != 0 || st.AvgHandleMS != nil || st.LatencyP50MS != nil || len(st.Volume) != 3 {
		t.Errorf("only a live call: %+v", st)
	}

	// Two days default to daily buckets.
	st, err = s.Stats(ctx, calls.StatsQuery{From: t0.Add(-72 * time.Hour), To: t0})
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 6 || st.IntervalMS != 24*time.Hour.Milliseconds() || len(st.Volume) != 3 || st.Volume[1].Calls != 1 || st.Volume[2].Calls != 5 {
		t.Errorf("three days: %+v", st)
	}

	for _, q := range []calls.StatsQuery{
		{},
		{From: t0, To: t0.Add(-time.Hour)},
		{From: t0.Add(-time.Hour), To: t0, Interval: time.Second},
		{From: t0.Add(-365 * 24 * time.Hour), To: t0, Interval: time.Minute},
	} {
		if _, err := s.Stats(ctx, q); !errors.Is(err, calls.ErrInvalid) {
			t.Errorf("Stats(%+v): %v, want ErrInvalid", q, err)
		}
	}
}

// TestIntentCounts counts by node and window, recognition by
// recognition: a call's other recognitions (at another node, or before
// the window) do not count.
func TestIntentCounts(t *testing.T) {
	s := seeded(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		since time.Time
		node  string
		want  map[string]int64
	}{
		{name: "any node, all time", since: t0.Add(-48 * time.Hour), want: map[string]int64{"balance": 1, "refund": 2, "billing": 2}},
		{name: "menu, all time", since: t0.Add(-48 * time.Hour), node: "menu", want: map[string]int64{"balance": 1, "refund": 2, "billing": 1}},
		{name: "order node", since: t0.Add(-48 * time.Hour), node: "order", want: map[string]int64{"billing": 1}},
		{name: "menu, last day", since: t0.Add(-24 * time.Hour), node: "menu", want: map[string]int64{"refund": 2, "billing": 1}},
		// b's menu recognitions were at -3h+5s (none) and -3h+15s
		// (refund); its order recognition at -3h+30s (billing).
		{name: "window cuts inside a call", since: t0.Add(-3*time.Hour + 20*time.Second), want: map[string]int64{"refund": 1, "billing": 2}},
		{name: "unknown node", since: t0.Add(-48 * time.Hour), node: "nowhere", want: map[string]int64{}},
		{name: "future", since: t0.Add(time.Hour), want: map[string]int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.IntentCounts(ctx, tc.since, tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// The ranker over the real store puts the most asked-for first; the
	// day's window leaves out a's balance, 30 hours old.
	r := calls.NewRanker(s, calls.RankerConfig{Node: "menu", Window: 24 * time.Hour}, nil)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := r.Order([]string{"balance", "billing", "help", "refund"}), []string{"refund", "billing", "balance", "help"}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
}
