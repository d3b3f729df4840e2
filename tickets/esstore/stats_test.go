package esstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

// statsFixture: six tickets in the week of 3–7 March 2025 (Shanghai time),
// two just outside it, and a background of older tickets that makes the
// week's refund subjects stand out as keywords.
func statsFixture(sh *time.Location) []*tickets.Ticket {
	at := func(d, h int) time.Duration { return time.Date(2025, 3, d, h, 0, 0, 0, sh).Sub(t0) }
	type spec struct {
		id                  string
		created             time.Duration
		channel             tickets.Channel
		category            string
		status              tickets.Status
		priority            tickets.Priority
		replies, reopens    int
		handle              float64
		frs, res            *float64
		csat                int
		policy              string
		frBreach, resBreach bool
		subject             string
	}
	f := func(v float64) *float64 { return &v }
	specs := []spec{
		{"a", at(3, 10), tickets.ChannelVoice, "refund", tickets.StatusResolved, tickets.PriorityUrgent, 1, 0, 100, f(60), f(600), 5, "std", false, false, "申请退款 refund please"},
		{"b", at(3, 11), tickets.ChannelChat, "refund", tickets.StatusClosed, tickets.PriorityHigh, 3, 0, 300, f(120), f(1200), 3, "std", true, false, "退款没到账 refund missing"},
		{"c", at(3, 12), tickets.ChannelVoice, "delivery", tickets.StatusOpen, tickets.PriorityNormal, 1, 0, 0, f(30), nil, 0, "std", false, true, "where is my parcel"},
		{"d", at(5, 9), tickets.ChannelEmail, "refund", tickets.StatusResolved, tickets.PriorityNormal, 0, 1, 200, nil, f(900), 4, "", false, false, "退款进度 refund status"},
		{"e", at(5, 23), tickets.ChannelChat, "billing", tickets.StatusNew, tickets.PriorityNormal, 0, 0, 0, nil, nil, 0, "", false, false, "invoice copy"},
		// 07:00 in Shanghai is still the 6th in UTC: bucketed by zone.
		{"f", at(7, 7), tickets.ChannelVoice, "delivery", tickets.StatusResolved, tickets.PriorityNormal, 1, 0, 50, f(10), f(300), 0, "std", false, false, "parcel late"},
		// Outside: one hour before From, and exactly at To.
		{"before", at(2, 23), tickets.ChannelVoice, "refund", tickets.StatusResolved, tickets.PriorityLow, 5, 2, 999, f(999), f(999), 1, "std", true, true, "申请退款 refund"},
		{"at-to", at(8, 0), tickets.ChannelVoice, "refund", tickets.StatusResolved, tickets.PriorityLow, 5, 2, 999, f(999), f(999), 1, "std", true, true, "申请退款 refund"},
	}
	var ts []*tickets.Ticket
	for _, sp := range specs {
		ts = append(ts, ticket(sp.id, sp.created, func(t *tickets.Ticket) {
			t.Channel, t.Status, t.Priority, t.Subject = sp.channel, sp.status, sp.priority, sp.subject
			t.Category = &tickets.Category{Label: sp.category, Source: tickets.SourceAuto}
			t.Metrics = tickets.Metrics{PublicReplies: sp.replies, Reopens: sp.reopens, HandleSeconds: sp.handle, FirstResponseSeconds: sp.frs, ResolutionSeconds: sp.res}
			if sp.csat > 0 {
				t.CSAT = &tickets.CSAT{Score: sp.csat, At: t.CreatedAt}
			}
			t.SLA = tickets.SLA{Policy: sp.policy, FirstResponseBreached: sp.frBreach, ResolutionBreached: sp.resBreach}
		}))
	}
	for i := range 30 {
		ts = append(ts, ticket(fmt.Sprintf("bg%02d", i), -time.Duration(i+1)*day, func(t *tickets.Ticket) {
			t.Subject = []string{"快递延误 delivery delayed", "账号无法登录 cannot login", "发票问题 invoice question"}[i%3]
		}))
	}
	return ts
}

func TestStats(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	s, c := newStore(t, esstore.Config{})
	seed(t, s, c, statsFixture(sh)...)
	ctx := context.Background()
	week := tickets.StatsQuery{
		From:     time.Date(2025, 3, 3, 0, 0, 0, 0, sh),
		To:       time.Date(2025, 3, 8, 0, 0, 0, 0, sh),
		Interval: tickets.IntervalDay,
		TimeZone: "Asia/Shanghai",
	}
	zeroChannels := func(m map[string]int64) map[string]int64 {
		out := map[string]int64{"voice": 0, "chat": 0, "email": 0, "social": 0, "api": 0}
		maps.Copy(out, m)
		return out
	}
	dayStart := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, sh) }
	want := &tickets.Stats{
		Total: 6,
		Volume: []tickets.Bucket{
			{Start: dayStart(3), Count: 3, ByChannel: zeroChannels(map[string]int64{"voice": 2, "chat": 1}), ByCategory: map[string]int64{"refund": 2, "delivery": 1}},
			{Start: dayStart(4), Count: 0, ByChannel: zeroChannels(nil), ByCategory: map[string]int64{}},
			{Start: dayStart(5), Count: 2, ByChannel: zeroChannels(map[string]int64{"email": 1, "chat": 1}), ByCategory: map[string]int64{"refund": 1, "billing": 1}},
			{Start: dayStart(6), Count: 0, ByChannel: zeroChannels(nil), ByCategory: map[string]int64{}},
			{Start: dayStart(7), Count: 1, ByChannel: zeroChannels(map[string]int64{"voice": 1}), ByCategory: map[string]int64{"delivery": 1}},
		},
		ByStatus:                map[string]int64{"new": 1, "open": 1, "pending": 0, "resolved": 3, "closed": 1},
		ByChannel:               zeroChannels(map[string]int64{"voice": 3, "chat": 2, "email": 1}),
		ByCategory:              map[string]int64{"refund": 3, "delivery": 2, "billing": 1},
		ByPriority:              map[string]int64{"low": 0, "normal": 4, "high": 1, "urgent": 1},
		ResolutionRate:          4.0 / 6,
		FirstContactResolution:  2.0 / 4,                      // a and f; b replied 3 times, d was reopened
		AvgHandleSeconds:        (100 + 300 + 200 + 50) / 4.0, // resolved or closed only
		AvgFirstResponseSeconds: (60 + 120 + 30 + 10) / 4.0,
		AvgResolutionSeconds:    (600 + 1200 + 900 + 300) / 4.0,
		CSAT:                    map[string]int64{"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
		CSATAverage:             4,
		CSATCount:               3,
		SLABreachRate:           2.0 / 4, // b and c among a, b, c, f
	}

	t.Run("week", func(t *testing.T) {
		got, err := s.Stats(ctx, week)
		if err != nil {
			t.Fatal(err)
		}
		kw := got.TopKeywords
		got.TopKeywords = nil
		checkStats(t, got, want)
		var terms []string
		for _, k := range kw {
			terms = append(terms, k.Term)
			if k.Count < 2 || k.Score <= 0 {
				t.Errorf("keyword %+v: want a count of at least 2 and a positive score", k)
			}
		}
		if !slices.Contains(terms, "退款") || !slices.Contains(terms, "refund") {
			t.Errorf("top keywords %v, want 退款 and refund among them", terms)
		}
	})

	t.Run("all tickets: no keyword stands out", func(t *testing.T) {
		q := tickets.StatsQuery{From: t0.AddDate(-1, 0, 0), To: t0.AddDate(1, 0, 0), Interval: tickets.IntervalMonth}
		got, err := s.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != 38 || len(got.Volume) != 25 || got.TopKeywords == nil || len(got.TopKeywords) != 0 {
			t.Errorf("total %d, %d buckets, keywords %v; want 38, 25, none", got.Total, len(got.Volume), got.TopKeywords)
		}
	})

	filtered := []struct {
		name      string
		q         tickets.StatsQuery
		total     int64
		buckets   []int64
		breachRat float64
	}{
		{"channel", tickets.StatsQuery{Channel: []tickets.Channel{tickets.ChannelVoice}}, 3, []int64{2, 0, 0, 0, 1}, 1.0 / 3},
		{"category", tickets.StatsQuery{Category: []string{"refund"}}, 3, []int64{2, 0, 1, 0, 0}, 1.0 / 2},
		{"UTC days", tickets.StatsQuery{TimeZone: "UTC"}, 6, []int64{0, 3, 0, 2, 1, 0}, 2.0 / 4}, // 2 Mar 16:00Z … 7 Mar 16:00Z: f falls on the 6th
		{"weeks", tickets.StatsQuery{Interval: tickets.IntervalWeek}, 6, []int64{6}, 2.0 / 4},
		{"hours", tickets.StatsQuery{Interval: tickets.IntervalHour}, 6, nil, 2.0 / 4},
		{"empty month", tickets.StatsQuery{From: time.Date(2025, 1, 1, 0, 0, 0, 0, sh), To: time.Date(2025, 1, 8, 0, 0, 0, 0, sh)}, 0, []int64{0, 0, 0, 0, 0, 0, 0}, 0},
	}
	for _, tt := range filtered {
		t.Run(tt.name, func(t *testing.T) {
			q := week
			q.Channel, q.Category = tt.q.Channel, tt.q.Category
			if tt.q.TimeZone != "" {
				q.TimeZone = tt.q.TimeZone
			}
			if tt.q.Interval != "" {
				q.Interval = tt.q.Interval
			}
			if !tt.q.From.IsZero() {
				q.From, q.To = tt.q.From, tt.q.To
			}
			got, err := s.Stats(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var counts []int64
			var sum int64
			for _, b := range got.Volume {
				counts = append(counts, b.Count)
				sum += b.Count
			}
			if tt.buckets == nil { // hours: 5 days of them
				if len(counts) != 5*24 || sum != tt.total {
					t.Errorf("%d hourly buckets summing to %d, want 120 summing to %d", len(counts), sum, tt.total)
				}
			} else if !slices.Equal(counts, tt.buckets) {
				t.Errorf("volume %v, want %v", counts, tt.buckets)
			}
			if got.Total != tt.total || !near(got.SLABreachRate, tt.breachRat) {
				t.Errorf("total %d, SLA breach rate %v; want %d, %v", got.Total, got.SLABreachRate, tt.total, tt.breachRat)
			}
			if tt.total == 0 && (got.ResolutionRate != 0 || got.CSATAverage != 0 || len(got.TopKeywords) != 0 || got.TopKeywords == nil) {
				t.Errorf("empty selection: %+v", got)
			}
		})
	}

	bad := []struct {
		name string
		q    tickets.StatsQuery
	}{
		{"no range", tickets.StatsQuery{}},
		{"reversed range", tickets.StatsQuery{From: week.To, To: week.From}},
		{"bad interval", tickets.StatsQuery{From: week.From, To: week.To, Interval: "fortnight"}},
		{"bad zone", tickets.StatsQuery{From: week.From, To: week.To, TimeZone: "Mars/Olympus"}},
	}
	for _, tt := range bad {
		if _, err := s.Stats(ctx, tt.q); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkStats(t *testing.T, got, want *tickets.Stats) {
	t.Helper()
	if got.Total != want.Total {
		t.Errorf("Total %d, want %d", got.Total, want.Total)
	}
	if len(got.Volume) != len(want.Volume) {
		t.Errorf("%d volume buckets, want %d: %+v", len(got.Volume), len(want.Volume), got.Volume)
	} else {
		for i, w := range want.Volume {
			g := got.Volume[i]
			if !g.Start.Equal(w.Start) || g.Count != w.Count || !maps.Equal(g.ByChannel, w.ByChannel) || !maps.Equal(g.ByCategory, w.ByCategory) {
				t.Errorf("volume[%d] = %+v, want %+v", i, g, w)
			}
		}
	}
	for _, m := range []struct {
		name      string
		got, want map[string]int64
	}{
		{"ByStatus", got.ByStatus, want.ByStatus},
		{"ByChannel", got.ByChannel, want.ByChannel},
		{"ByCategory", got.ByCategory, want.ByCategory},
		{"ByPriority", got.ByPriority, want.ByPriority},
		{"CSAT", got.CSAT, want.CSAT},
	} {
		if !maps.Equal(m.got, m.want) {
			t.Errorf("%s = %v, want %v", m.name, m.got, m.want)
		}
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"ResolutionRate", got.ResolutionRate, want.ResolutionRate},
		{"FirstContactResolution", got.FirstContactResolution, want.FirstContactResolution},
		{"AvgHandleSeconds", got.AvgHandleSeconds, want.AvgHandleSeconds},
		{"AvgFirstResponseSeconds", got.AvgFirstResponseSeconds, want.AvgFirstResponseSeconds},
		{"AvgResolutionSeconds", got.AvgResolutionSeconds, want.AvgResolutionSeconds},
		{"CSATAverage", got.CSATAverage, want.CSATAverage},
		{"SLABreachRate", got.SLABreachRate, want.SLABreachRate},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if got.CSATCount != want.CSATCount {
		t.Errorf("CSATCount %d, want %d", got.CSATCount, want.CSATCount)
	}
}
