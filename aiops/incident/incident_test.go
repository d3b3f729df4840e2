package incident

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestARIAndNMI(t *testing.T) {
	// Expected values from scikit-learn 1.9 (adjusted_rand_score,
	// normalized_mutual_info_score with its default arithmetic mean).
	tests := []struct {
		truth, pred []int
		ari, nmi    float64
	}{
		{[]int{0, 0, 0, 1, 1, 1}, []int{0, 0, 1, 1, 2, 2}, 0.24242424242424243, 0.5158037429793889},
		{[]int{0, 0, 1, 1, 2, 2, 2}, []int{1, 1, 0, 0, 0, 2, 2}, 0.475, 0.7471790950662619},
		{[]int{0, 0, 1, 1}, []int{5, 5, 7, 7}, 1, 1},
	}
	for _, tt := range tests {
		if got := ARI(tt.truth, tt.pred); math.Abs(got-tt.ari) > 1e-12 {
			t.Errorf("ARI(%v, %v) = %v, want %v", tt.truth, tt.pred, got, tt.ari)
		}
		if got := NMI(tt.truth, tt.pred); math.Abs(got-tt.nmi) > 1e-12 {
			t.Errorf("NMI(%v, %v) = %v, want %v", tt.truth, tt.pred, got, tt.nmi)
		}
	}
}

func TestPoissonTail(t *testing.T) {
	tests := []struct {
		k      int
		lambda float64
		want   float64
	}{
		{0, 3, 1},
		{1, 1, 1 - math.Exp(-1)},
		{3, 0.5, 1 - math.Exp(-0.5)*(1+0.5+0.125)},
		{5, 0, 0},
	}
	for _, tt := range tests {
		if got := PoissonTail(tt.k, tt.lambda); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("P(X>=%d | %g) = %v, want %v", tt.k, tt.lambda, got, tt.want)
		}
	}
}

// topicVector is a unit-ish vector near one of a few directions, as
// sentence embeddings of paraphrases are.
func topicVector(r *rand.Rand, topic int) []float32 {
	v := make([]float32, 32)
	v[topic] = 1
	for i := range v {
		v[i] += float32(r.NormFloat64() * 0.08)
	}
	return v
}

func TestClustererRecoversTopics(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := NewClusterer(Config{})
	var truth, pred []int
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 300 {
		topic := r.IntN(6)
		cl := c.Add(Ticket{ID: fmt.Sprint(i), At: at.Add(time.Duration(i) * time.Minute), Vector: topicVector(r, topic)})
		truth, pred = append(truth, topic), append(pred, cl.ID)
	}
	if ari := ARI(truth, pred); ari < 0.95 {
		t.Errorf("ARI %.3f, want >= 0.95 on well-separated topics", ari)
	}
}

func TestClustererTermFallbackAndWindow(t *testing.T) {
	c := NewClusterer(Config{Window: time.Hour})
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	pay := []string{"支付失败，扣款了订单没成功", "付款一直失败 支付失败", "支付失败怎么办", "payment failed twice", "payment failed card charged"}
	deliver := []string{"快递三天没到", "快递还没到，物流不更新", "我的快递怎么还没到"}
	ids := map[string]int{}
	for i, s := range append(slices.Clone(pay), deliver...) {
		ids[s] = c.Add(Ticket{ID: fmt.Sprint(i), At: at.Add(time.Duration(i) * time.Minute), Text: s}).ID
	}
	if ids[pay[0]] != ids[pay[1]] || ids[pay[0]] != ids[pay[2]] {
		t.Errorf("Chinese payment complaints split: %v", ids)
	}
	if ids[pay[3]] != ids[pay[4]] {
		t.Errorf("English payment complaints split: %v", ids)
	}
	if ids[deliver[0]] == ids[pay[0]] || ids[deliver[1]] != ids[deliver[2]] {
		t.Errorf("delivery and payment mixed up: %v", ids)
	}
	// Two hours later the old clusters have left the window.
	late := c.Add(Ticket{ID: "late", At: at.Add(3 * time.Hour), Text: "支付失败"})
	if late.ID == ids[pay[0]] || len(c.Clusters()) != 1 {
		t.Errorf("expired clusters kept: %d live", len(c.Clusters()))
	}
}

func TestDetectorFindsBurst(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := NewDetector(DetectorConfig{})
	at := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	background := []string{"快递三天没到", "我要退货退款", "发票怎么开", "账号登录不了", "修改收货地址", "order arrived damaged"}
	var formed []*Incident
	n := 0
	add := func(tk Ticket) {
		n++
		tk.ID = fmt.Sprint(n)
		if inc, _, ok := d.Add(tk); ok {
			formed = append(formed, inc)
		}
	}
	// Six hours of ordinary traffic: one ticket every ~5 minutes.
	for m := 0; m < 360; m += 5 {
		add(Ticket{At: at.Add(time.Duration(m) * time.Minute), Text: background[r.IntN(len(background))], Region: "east"})
	}
	if len(formed) != 0 {
		t.Fatalf("incidents in ordinary traffic: %+v", formed[0])
	}
	// A payment-gateway outage: 12 complaints in 20 minutes.
	start := at.Add(6 * time.Hour)
	texts := []string{"支付失败，钱扣了", "付款一直失败", "payment failed at checkout", "支付失败请处理", "微信支付失败"}
	for i := range 12 {
		add(Ticket{At: start.Add(time.Duration(i*100) * time.Second), Text: texts[i%len(texts)], Category: "payment_problem", Region: "north"})
	}
	if len(formed) == 0 {
		t.Fatal("no incident for the outage")
	}
	inc := formed[0]
	if !slices.ContainsFunc(inc.Label, func(l string) bool { return strings.Contains(l, "支付") }) {
		t.Errorf("label %v lacks the outage's words", inc.Label)
	}
	if inc.Categories["payment_problem"] == 0 || inc.Regions["north"] == 0 || inc.Start.Before(start) {
		t.Errorf("incident %+v", inc)
	}
	t.Logf("formed after %d outage tickets: label %v, observed %d, expected %.2f, p %.2g", len(inc.Tickets), inc.Label, inc.Observed, inc.Expected, inc.PValue)
}

func TestRankCauses(t *testing.T) {
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	origin := start.Add(-2 * time.Hour)
	mk := func(service, tmpl string, f func(minute int) float64) Series {
		s := Series{Service: service, Template: tmpl, Start: origin, Step: time.Minute}
		for m := range 240 {
			s.Counts = append(s.Counts, f(m))
		}
		return s
	}
	r := rand.New(rand.NewPCG(5, 6))
	noise := func(rate float64) func(int) float64 {
		return func(int) float64 { return float64(poissonSample(r, rate)) }
	}
	series := []Series{
		mk("checkout", "T1", noise(2)), // steady
		mk("search", "T2", noise(0.5)), // steady
		mk("payment-gw", "T7", func(m int) float64 { // times out from 5 min before the first ticket
			if m >= 115 {
				return float64(poissonSample(r, 20))
			}
			return float64(poissonSample(r, 0.2))
		}),
		mk("recommend", "T9", func(m int) float64 { // rose an hour earlier: not this incident
			if m >= 60 {
				return float64(poissonSample(r, 3))
			}
			return float64(poissonSample(r, 0.5))
		}),
	}
	got := RankCauses(series, start, 30*time.Minute)
	if len(got) == 0 || got[0].Service != "payment-gw" {
		t.Fatalf("ranking %+v, want payment-gw first", got)
	}
	if got[0].Lag > 0 || got[0].Lag < -10*time.Minute || got[0].RateAfter < 10*got[0].RateBefore {
		t.Errorf("evidence %+v: want the change a few minutes before start and a large rise", got[0])
	}
}

func poissonSample(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func TestKeywordsChainBigrams(t *testing.T) {
	a := &Cluster{ID: 1, terms: termCounts("支付失败 支付失败 payment failed")}
	b := &Cluster{ID: 2, terms: termCounts("快递没到 快递延误 delivery late")}
	got := Keywords([]*Cluster{a, b}, 3)
	if !slices.Contains(got[1], "支付失败") || !slices.Contains(got[2], "快递") {
		t.Errorf("labels %v", got)
	}
}

// TestLabelWordsAreCommon: a word only one way of phrasing the complaint
// uses stays out of the label; words most tickets share make it.
func TestLabelWordsAreCommon(t *testing.T) {
	c := NewClusterer(Config{})
	at := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	texts := []string{"payment failed at checkout", "payment failed again", "payment failed twice",
		"payment failed checkout", "payment failed, order not placed"}
	for i, text := range texts {
		c.Add(Ticket{ID: fmt.Sprint(i), At: at.Add(time.Duration(i) * time.Minute), Text: text})
	}
	c.Add(Ticket{ID: "other", At: at, Text: "where is my parcel"})
	cls := c.Clusters()
	if len(cls[0].Members) != len(texts) {
		t.Fatalf("largest cluster has %d tickets, want %d", len(cls[0].Members), len(texts))
	}
	label := Keywords(cls, 5)[cls[0].ID]
	if !slices.Contains(label, "payment") || !slices.Contains(label, "failed") {
		t.Errorf("label %v lacks the shared words", label)
	}
	if slices.Contains(label, "placed") || slices.Contains(label, "twice") {
		t.Errorf("label %v has a word one ticket uses", label)
	}
}

// TestDetectorJoinsLanguages: an outage's Chinese and English complaints
// start two clusters (their words share nothing); young clusters of one
// category are judged together, so they form one incident sooner than
// either alone would, and an everyday cluster of that category stays out.
func TestDetectorJoinsLanguages(t *testing.T) {
	at := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	run := func(join bool) (formed *Incident, after int) {
		d := NewDetector(DetectorConfig{})
		n := 0
		add := func(tk Ticket) {
			n++
			tk.ID = fmt.Sprint(n)
			if !join && tk.Category == "payment_problem" && strings.Contains(tk.Text, "payment") {
				tk.Category = "payment_problem_en" // no shared category: no joining
			}
			if inc, _, ok := d.Add(tk); ok && formed == nil {
				formed, after = inc, n
			}
		}
		// Six hours of ordinary traffic, coupon questions in the same
		// category among them.
		everyday := []string{"快递三天没到", "我要退货退款", "coupon code does not work", "账号登录不了"}
		for m := 0; m < 360; m += 5 {
			text := everyday[(m/5)%len(everyday)]
			cat := "other"
			if strings.Contains(text, "coupon") {
				cat = "payment_problem"
			}
			add(Ticket{At: at.Add(time.Duration(m) * time.Minute), Text: text, Category: cat})
		}
		start := at.Add(6 * time.Hour)
		texts := []string{"支付失败，钱扣了", "payment failed at checkout"}
		for i := range 20 {
			add(Ticket{At: start.Add(time.Duration(i*60) * time.Second), Text: texts[i%2], Category: "payment_problem"})
		}
		return formed, after - 72
	}
	alone, aloneAfter := run(false)
	joined, joinedAfter := run(true)
	if joined == nil {
		t.Fatal("no incident")
	}
	if alone != nil && aloneAfter <= joinedAfter {
		t.Errorf("joined after %d outage tickets, alone after %d: joining should be sooner", joinedAfter, aloneAfter)
	}
	var zh, en, coupon bool
	for _, l := range joined.Label {
		zh = zh || strings.Contains(l, "失败")
		en = en || l == "payment" || l == "failed" || l == "checkout"
		coupon = coupon || l == "coupon"
	}
	if !zh || !en || coupon {
		t.Errorf("label %v: want both languages' words and no coupon", joined.Label)
	}
	if joined.Observed < 5 || len(joined.Tickets) != 20 {
		t.Errorf("incident has %d tickets (observed %d when it formed), want all 20 of the outage", len(joined.Tickets), joined.Observed)
	}
	t.Logf("joined after %d outage tickets (alone: %d, %v), label %v", joinedAfter, aloneAfter, alone != nil, joined.Label)
}

// TestDetectorForgetsExpiredIncidents: once an incident's cluster has
// left the window, the detector holds nothing of it.
func TestDetectorForgetsExpiredIncidents(t *testing.T) {
	d := NewDetector(DetectorConfig{})
	at := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)
	for i := range 12 {
		d.Add(Ticket{ID: fmt.Sprint(i), At: at.Add(time.Duration(i) * time.Minute), Text: "payment failed at checkout", Category: "payment_problem"})
	}
	if len(d.open) != 1 {
		t.Fatalf("%d open incidents after the burst, want 1", len(d.open))
	}
	d.Add(Ticket{ID: "later", At: at.Add(48 * time.Hour), Text: "where is my parcel"})
	if len(d.open) != 0 {
		t.Errorf("%d incidents kept after their cluster expired", len(d.open))
	}
}
