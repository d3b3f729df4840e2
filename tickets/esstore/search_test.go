package esstore_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

const day = 24 * time.Hour

// filterFixture has one ticket per combination the filter table needs.
func filterFixture() []*tickets.Ticket {
	type spec struct {
		id       string
		status   tickets.Status
		category string
		channel  tickets.Channel
		assignee string
		priority tickets.Priority
		tags     []string
		sg       string
		customer string
		frBreach bool
		reBreach bool
		updated  time.Duration // after creation
	}
	specs := []spec{
		{"f1", tickets.StatusNew, "refund", tickets.ChannelVoice, "alice", tickets.PriorityUrgent, []string{"vip"}, "billing", "c1", true, false, 10 * day},
		{"f2", tickets.StatusOpen, "refund", tickets.ChannelChat, "bob", tickets.PriorityHigh, []string{"VIP", "callback"}, "billing", "c2", false, false, time.Hour},
		{"f3", tickets.StatusPending, "delivery", tickets.ChannelEmail, "alice", tickets.PriorityNormal, nil, "logistics", "c1", false, true, 5 * day},
		{"f4", tickets.StatusResolved, "delivery", tickets.ChannelVoice, "", tickets.PriorityLow, []string{"callback"}, "logistics", "c3", false, false, time.Hour},
		{"f5", tickets.StatusClosed, "billing", tickets.ChannelSocial, "bob", tickets.PriorityNormal, nil, "billing", "c2", false, false, time.Hour},
		{"f6", tickets.StatusNew, "", tickets.ChannelAPI, "", tickets.PriorityNormal, nil, "", "c4", false, false, time.Hour},
	}
	var ts []*tickets.Ticket
	for i, sp := range specs {
		ts = append(ts, ticket(sp.id, time.Duration(i)*day, func(t *tickets.Ticket) {
			t.Status, t.Channel, t.Assignee, t.Priority = sp.status, sp.channel, sp.assignee, sp.priority
			t.Tags, t.SkillGroup, t.Customer.ID = sp.tags, sp.sg, sp.customer
			t.SLA.FirstResponseBreached, t.SLA.ResolutionBreached = sp.frBreach, sp.reBreach
			t.UpdatedAt = t.CreatedAt.Add(sp.updated)
			if sp.category != "" {
				t.Category = &tickets.Category{Label: sp.category, Source: tickets.SourceAgent}
			}
		}))
	}
	return ts
}

func TestSearchFiltersAndSorts(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	seed(t, s, c, filterFixture()...)
	ctx := context.Background()

	filters := []struct {
		name string
		q    tickets.Query
		want []string
	}{
		{"no filter", tickets.Query{}, []string{"f1", "f2", "f3", "f4", "f5", "f6"}},
		{"status", tickets.Query{Status: []tickets.Status{tickets.StatusNew}}, []string{"f1", "f6"}},
		{"statuses", tickets.Query{Status: []tickets.Status{tickets.StatusOpen, tickets.StatusPending}}, []string{"f2", "f3"}},
		{"category", tickets.Query{Category: []string{"refund"}}, []string{"f1", "f2"}},
		{"channel", tickets.Query{Channel: []tickets.Channel{tickets.ChannelVoice}}, []string{"f1", "f4"}},
		{"assignee", tickets.Query{Assignee: []string{"alice"}}, []string{"f1", "f3"}},
		{"priority", tickets.Query{Priority: []tickets.Priority{tickets.PriorityUrgent, tickets.PriorityHigh}}, []string{"f1", "f2"}},
		{"tag, any case", tickets.Query{Tags: []string{"vip"}}, []string{"f1", "f2"}},
		{"tag upper-case", tickets.Query{Tags: []string{"CALLBACK"}}, []string{"f2", "f4"}},
		{"skill group", tickets.Query{SkillGroup: []string{"logistics"}}, []string{"f3", "f4"}},
		{"customer", tickets.Query{CustomerID: "c2"}, []string{"f2", "f5"}},
		{"created range", tickets.Query{CreatedFrom: ptr(t0.Add(day)), CreatedTo: ptr(t0.Add(3 * day))}, []string{"f2", "f3"}},
		{"created from", tickets.Query{CreatedFrom: ptr(t0.Add(4 * day))}, []string{"f5", "f6"}},
		{"breached", tickets.Query{Breached: ptr(true)}, []string{"f1", "f3"}},
		{"not breached", tickets.Query{Breached: ptr(false)}, []string{"f2", "f4", "f5", "f6"}},
		{"combined", tickets.Query{Status: []tickets.Status{tickets.StatusNew}, Channel: []tickets.Channel{tickets.ChannelVoice}}, []string{"f1"}},
		{"nothing matches", tickets.Query{Assignee: []string{"carol"}}, []string{}},
	}
	for _, tt := range filters {
		t.Run("filter/"+tt.name, func(t *testing.T) {
			p, err := s.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(ids(p)); !slices.Equal(got, tt.want) || p.Total != int64(len(tt.want)) {
				t.Errorf("got %v (total %d), want %v", got, p.Total, tt.want)
			}
		})
	}

	sorts := []struct {
		sort string
		want []string
	}{
		{"", []string{"f6", "f5", "f4", "f3", "f2", "f1"}},
		{tickets.SortCreatedDesc, []string{"f6", "f5", "f4", "f3", "f2", "f1"}},
		{tickets.SortCreatedAsc, []string{"f1", "f2", "f3", "f4", "f5", "f6"}},
		{tickets.SortUpdatedDesc, []string{"f1", "f3", "f6", "f5", "f4", "f2"}},
		{tickets.SortPriority, []string{"f1", "f2", "f3", "f5", "f6", "f4"}},  // then oldest first
		{tickets.SortRelevance, []string{"f6", "f5", "f4", "f3", "f2", "f1"}}, // no text: newest first
	}
	for _, tt := range sorts {
		t.Run("sort/"+tt.sort, func(t *testing.T) {
			p, err := s.Search(ctx, tickets.Query{Sort: tt.sort})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSearchPagesVisitEveryTicketOnce pages through 57 tickets, many with
// equal sort values, in every order, and checks that the cursor neither
// skips nor repeats one.
func TestSearchPagesVisitEveryTicketOnce(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	const n = 57
	var ts []*tickets.Ticket
	for i := range n {
		// Three tickets share each creation minute and priorities repeat,
		// so only the id tiebreaker makes the order total.
		ts = append(ts, ticket(strings.Repeat("x", i%4)+string(rune('A'+i)), time.Duration(i/3)*time.Minute, func(t *tickets.Ticket) {
			t.Priority = tickets.Priorities()[i%4]
			t.Subject = "order problem"
			if i%2 == 0 {
				t.Subject = "order problem order problem again"
			}
		}))
	}
	seed(t, s, c, ts...)
	ctx := context.Background()
	for _, order := range tickets.SortOrders() {
		for _, text := range []string{"", "order problem"} {
			t.Run(order+"/"+text, func(t *testing.T) {
				q := tickets.Query{Sort: order, Text: text, Size: 10}
				seen := map[string]int{}
				pages := 0
				for {
					p, err := s.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					pages++
					if p.Total != n {
						t.Fatalf("page %d: total %d, want %d", pages, p.Total, n)
					}
					for _, id := range ids(p) {
						seen[id]++
					}
					if p.Next == "" {
						if len(p.Tickets) != n%10 {
							t.Errorf("last page holds %d tickets, want %d", len(p.Tickets), n%10)
						}
						break
					}
					if len(p.Tickets) != 10 || pages > 10 {
						t.Fatalf("page %d holds %d tickets and has a next page", pages, len(p.Tickets))
					}
					q.After = p.Next
				}
				if pages != 6 || len(seen) != n {
					t.Errorf("%d pages visited %d distinct tickets, want 6 pages and %d", pages, len(seen), n)
				}
				for id, k := range seen {
					if k != 1 {
						t.Errorf("ticket %s seen %d times", id, k)
					}
				}
			})
		}
	}
}

func TestSearchText(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	seed(t, s, c,
		ticket("parcel", 0, func(t *tickets.Ticket) {
			t.Subject, t.Description = "我的包裹三天了还没到", "快递单号 SF123456"
		}),
		ticket("refund-zh", time.Minute, func(t *tickets.Ticket) {
			t.Subject, t.Description = "退款申请", "商品有质量问题，申请退款。"
		}),
		ticket("signed", 2*time.Minute, func(t *tickets.Ticket) {
			t.Subject = "包裹显示已签收"
		}),
		ticket("refund-en", 3*time.Minute, func(t *tickets.Ticket) {
			t.Subject, t.Description = "Refund for damaged item", "The blender arrived broken, I want my money back."
		}),
		ticket("password", 4*time.Minute, func(t *tickets.Ticket) {
			t.Subject = "Password reset not working"
			t.Comments = []tickets.Comment{{ID: "c1", Author: "agent", Body: "Customer says the reset e-mail never arrives.", CreatedAt: t0}}
		}),
		ticket("jp", 5*time.Minute, func(t *tickets.Ticket) {
			t.Subject = "パスワードを忘れました"
		}),
	)
	ctx := context.Background()
	tests := []struct {
		q         string
		first     string   // best match; "" to not check
		include   []string // must be among the hits
		exclude   []string // must not be
		wantEmpty bool
	}{
		{q: "包裹没到", first: "parcel", exclude: []string{"refund-zh", "refund-en"}},
		{q: "退款", first: "refund-zh", exclude: []string{"parcel", "signed", "refund-en"}},
		{q: "申请退款", first: "refund-zh", exclude: []string{"parcel"}},
		{q: "快递单号", first: "parcel", exclude: []string{"refund-zh"}},
		{q: "包裹", include: []string{"parcel", "signed"}, exclude: []string{"refund-zh"}},
		{q: "refund", first: "refund-en", exclude: []string{"refund-zh", "password"}},
		{q: "REFUND Damaged", first: "refund-en"},
		{q: "money back", first: "refund-en", exclude: []string{"password"}},
		{q: "never arrives", first: "password", exclude: []string{"refund-en"}},
		{q: "password reset", first: "password"},
		{q: "パスワード", first: "jp", exclude: []string{"password"}},
		{q: "  ", include: []string{"parcel", "refund-zh", "signed", "refund-en", "password", "jp"}},
		{q: "quantum chromodynamics", wantEmpty: true},
		// Hostile input is only ever words: no error, no syntax.
		{q: "*", wantEmpty: true},
		{q: `"`, wantEmpty: true},
		{q: `\`, wantEmpty: true},
		{q: "a OR b)", wantEmpty: true},
		{q: `{"x":1}`, wantEmpty: true},
		{q: `refund*`, first: "refund-en"},
		{q: `"refund"`, first: "refund-en"},
		{q: `refund" OR (*`},
		{q: `subject:refund AND NOT id:*`},
		{q: "退款 AND NOT 包裹"},
		{q: "\u0000\x00\n\t;DROP TABLE tickets;--"},
		{q: strings.Repeat("x", 1000), wantEmpty: true},
		{q: strings.Repeat("a b ", 250), wantEmpty: true},
		{q: strings.Repeat("快递包裹退款问题", 125)},
		{q: strings.Repeat("龘", 2000)},
		{q: distinctHan(1000)}, // as many distinct terms as a query can have
	}
	for _, tt := range tests {
		name := tt.q
		if len(name) > 30 {
			name = name[:30] + "…"
		}
		t.Run(name, func(t *testing.T) {
			p, err := s.Search(ctx, tickets.Query{Text: tt.q})
			if err != nil {
				t.Fatalf("Search(%q): %v", tt.q, err)
			}
			got := ids(p)
			if tt.wantEmpty && len(got) > 0 {
				t.Errorf("got %v, want no hits", got)
			}
			if tt.first != "" && (len(got) == 0 || got[0] != tt.first) {
				t.Errorf("got %v, want %s first", got, tt.first)
			}
			for _, id := range tt.include {
				if !slices.Contains(got, id) {
					t.Errorf("got %v, want %s among them", got, id)
				}
			}
			for _, id := range tt.exclude {
				if slices.Contains(got, id) {
					t.Errorf("got %v, want no %s", got, id)
				}
			}
		})
	}
}

func TestSearchRejectsBadCursors(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	seed(t, s, c, filterFixture()...)
	ctx := context.Background()
	p, err := s.Search(ctx, tickets.Query{Size: 2, Sort: tickets.SortCreatedAsc})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %v, %v", p, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name  string
		after string
		sort  string
	}{
		{"not base64", "!!!", tickets.SortCreatedAsc},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte(`{"s":"created_at"}`)), tickets.SortCreatedAsc},
		{"not json", enc("hello"), tickets.SortCreatedAsc},
		{"empty object", enc(`{}`), tickets.SortCreatedAsc},
		{"other sort order", p.Next, tickets.SortUpdatedDesc},
		{"too few values", enc(`{"s":"created_at","v":[1]}`), tickets.SortCreatedAsc},
		{"string for a date", enc(`{"s":"created_at","v":["x","f1"]}`), tickets.SortCreatedAsc},
		{"fraction for a date", enc(`{"s":"created_at","v":[1.5,"f1"]}`), tickets.SortCreatedAsc},
		{"number for an id", enc(`{"s":"created_at","v":[1,2]}`), tickets.SortCreatedAsc},
		{"object value", enc(`{"s":"created_at","v":[{"a":1},"f1"]}`), tickets.SortCreatedAsc},
		{"string for a score", enc(`{"s":"relevance","v":["1",1,"f1"]}`), tickets.SortRelevance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tickets.Query{After: tt.after, Sort: tt.sort}
			if tt.sort == tickets.SortRelevance {
				q.Text = "ticket"
			}
			_, err := s.Search(ctx, q)
			var ve *tickets.ValidationError
			if !errors.As(err, &ve) || ve.Violations[0].Field != "after" {
				t.Errorf("Search: %v, want a ValidationError on after", err)
			}
		})
	}
	// The genuine cursor continues where the first page ended.
	p2, err := s.Search(ctx, tickets.Query{Size: 2, Sort: tickets.SortCreatedAsc, After: p.Next})
	if err != nil || !slices.Equal(ids(p2), []string{"f3", "f4"}) {
		t.Errorf("second page: %v, %v; want f3, f4", ids(p2), err)
	}
}

// distinctHan returns n different Han characters.
func distinctHan(n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = rune(0x4E00 + i)
	}
	return string(r)
}
