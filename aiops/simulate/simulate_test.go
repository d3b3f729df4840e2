package simulate

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) // a Monday
	cfg := DefaultConfig(start)
	cfg.Duration = 48 * time.Hour
	out := PaymentOutage(start.Add(30*time.Hour), 40*time.Minute)
	cfg.Incidents = []Incident{out}

	counts := map[Kind]int{}
	var hourly [48]int
	incTickets, incErrors, earlyErrors := 0, 0, 0
	var last time.Time
	err := Generate(cfg, func(ev Event) error {
		if ev.At.Before(last) {
			t.Fatalf("out of order: %v after %v", ev.At, last)
		}
		last = ev.At
		counts[ev.Kind]++
		if ev.Kind == KindTicket && ev.Incident == "" {
			hourly[int(ev.At.Sub(start).Hours())]++
		}
		if ev.Incident == out.Name {
			switch ev.Kind {
			case KindTicket:
				incTickets++
				if ev.Ticket.Category != "payment_problem" || ev.At.Before(out.Start) || ev.At.After(out.Start.Add(out.Duration)) {
					t.Errorf("incident ticket %+v at %v", ev.Ticket, ev.At)
				}
			case KindLog:
				incErrors++
				if ev.Log.Service != "payment-gw" || ev.Log.Level != "ERROR" {
					t.Errorf("incident log %+v", ev.Log)
				}
				if ev.At.Before(out.Start) {
					earlyErrors++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two days of 40 tickets an hour on average, give or take seasonality.
	if n := counts[KindTicket]; n < 1500 || n > 2500 {
		t.Errorf("%d tickets in 48 h", n)
	}
	// Night is quieter than the evening peak.
	if hourly[4] >= hourly[20] || hourly[28] >= hourly[44] {
		t.Errorf("no daily cycle: 4h %d vs 20h %d, 28h %d vs 44h %d", hourly[4], hourly[20], hourly[28], hourly[44])
	}
	// 60 an hour at the height over 40 minutes, ramped: about 30.
	if incTickets < 15 || incTickets > 60 {
		t.Errorf("%d outage tickets", incTickets)
	}
	if incErrors < 1000 || earlyErrors == 0 {
		t.Errorf("%d outage errors, %d before the first ticket could come", incErrors, earlyErrors)
	}
}

func TestSameSeedSameTraffic(t *testing.T) {
	cfg := DefaultConfig(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	cfg.Duration = 3 * time.Hour
	digest := func() (float64, int) {
		var h float64
		n := 0
		_ = Generate(cfg, func(ev Event) error {
			n++
			h = math.Mod(h*31+float64(ev.At.UnixNano()%1e9), 1e12)
			return nil
		})
		return h, n
	}
	h1, n1 := digest()
	h2, n2 := digest()
	if h1 != h2 || n1 != n2 {
		t.Errorf("same seed, different traffic: %v/%d vs %v/%d", h1, n1, h2, n2)
	}
}

func TestGenerateStopsOnError(t *testing.T) {
	cfg := DefaultConfig(time.Now())
	stop := errors.New("enough")
	n := 0
	err := Generate(cfg, func(Event) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("err %v after %d events", err, n)
	}
	if err := Generate(Config{}, func(Event) error { return nil }); err == nil {
		t.Error("a zero config generated")
	}
}
