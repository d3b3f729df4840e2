package esstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

// BenchmarkCreate measures one ticket write, without and with waiting for
// the refresh that makes it searchable (Config.RefreshOnWrite); parallel
// writers share refreshes, so the parallel case shows throughput.
func BenchmarkCreate(b *testing.B) {
	for _, bc := range []struct {
		name     string
		refresh  bool
		parallel bool
	}{
		{"refresh=none", false, false},
		{"refresh=wait_for", true, false},
		{"refresh=wait_for/parallel", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := newStore(b, esstore.Config{RefreshOnWrite: bc.refresh})
			ctx := context.Background()
			var n atomic.Int64
			create := func() {
				i := n.Add(1)
				t := ticket(fmt.Sprintf("b%d", i), time.Duration(i)*time.Second, func(t *tickets.Ticket) {
					t.Subject = "我的包裹三天了还没到 where is my parcel"
					t.Description = "快递单号 SF123456，物流信息一直没有更新。Tracking has not moved for three days."
				})
				if _, err := s.Create(ctx, t); err != nil {
					b.Error(err)
				}
			}
			b.ResetTimer()
			if bc.parallel {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						create()
					}
				})
				return
			}
			for b.Loop() {
				create()
			}
		})
	}
}

// BenchmarkSearch measures first pages over 5,000 tickets: filters only, a
// Chinese and an English text query, and a deep page through the cursor.
func BenchmarkSearch(b *testing.B) {
	s, c := newStore(b, esstore.Config{})
	subjects := []string{"我的包裹三天了还没到", "退款申请", "账号无法登录", "Refund for damaged item", "Password reset not working", "发票开错了 invoice wrong"}
	const n = 5000
	for start := 0; start < n; start += 1000 {
		var ts []*tickets.Ticket
		for i := start; i < start+1000; i++ {
			ts = append(ts, ticket(fmt.Sprintf("s%05d", i), time.Duration(i)*time.Minute, func(t *tickets.Ticket) {
				t.Subject = subjects[i%len(subjects)]
				t.Description = fmt.Sprintf("客户第%d次来电 call number %d", i%7, i)
				t.Status = tickets.Statuses()[i%5]
				t.Channel = tickets.Channels()[i%5]
				t.Priority = tickets.Priorities()[i%4]
			}))
		}
		seed(b, s, c, ts...)
	}
	ctx := context.Background()
	deep, err := s.Search(ctx, tickets.Query{Size: 20})
	if err != nil {
		b.Fatal(err)
	}
	for range 100 { // the cursor of page 101
		if deep, err = s.Search(ctx, tickets.Query{Size: 20, After: deep.Next}); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		q    tickets.Query
	}{
		{"filters", tickets.Query{Status: []tickets.Status{tickets.StatusOpen}, Channel: []tickets.Channel{tickets.ChannelVoice, tickets.ChannelChat}, Sort: tickets.SortPriority}},
		{"chinese", tickets.Query{Text: "包裹没到"}},
		{"english", tickets.Query{Text: "damaged refund"}},
		{"page101", tickets.Query{Size: 20, After: deep.Next}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Search(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
