package monitor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/alert/notify"
	"github.com/switchboard-cc/switchboard/aiops/anomaly"
	"github.com/switchboard-cc/switchboard/aiops/incident"
	"github.com/switchboard-cc/switchboard/aiops/logtemplate"
	"github.com/switchboard-cc/switchboard/aiops/simulate"
)

// receiver is a test webhook receiver (a third-party system).
type receiver struct {
	mu     sync.Mutex
	alerts []alert.Alert
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var n alert.Notification
	if err := json.Unmarshal(b, &n); err == nil {
		r.mu.Lock()
		r.alerts = append(r.alerts, n.Alert)
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

type run struct {
	mon      *Monitor
	received []alert.Alert
	clock    *time.Time
}

// replay runs simulated traffic through the monitor with real detectors, a
// real template miner, a real alert manager and a webhook to a receiver.
func replay(t *testing.T, cfg simulate.Config) run {
	t.Helper()
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var now time.Time
	mgr, err := alert.New(alert.Config{}, alert.Deps{
		Store: alert.NewMemoryStore(), Notifiers: []alert.Notifier{&notify.Webhook{URL: srv.URL}},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	mon, err := New(Config{}, Deps{
		NewDetector: func(string) (Detector, error) { return anomaly.New(anomaly.DefaultConfig()) },
		Alerts:      mgr,
	})
	if err != nil {
		t.Fatal(err)
	}
	miner, err := logtemplate.New(logtemplate.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	err = simulate.Generate(cfg, func(ev simulate.Event) error {
		now = ev.At
		switch ev.Kind {
		case simulate.KindTicket:
			n++
			_, err := mon.Ticket(ctx, incident.Ticket{ID: strconv.Itoa(n), At: ev.At, Text: ev.Ticket.Subject,
				Category: ev.Ticket.Category, Region: ev.Ticket.Region, Channel: ev.Ticket.Channel})
			return err
		case simulate.KindCall:
			return mon.Call(ctx, ev.At, ev.Call.Intent, ev.Call.Region)
		case simulate.KindLog:
			r := miner.Add(ev.Log.Message)
			return mon.Log(ctx, ev.At, ev.Log.Service, ev.Log.Level, strconv.FormatInt(r.ID, 10), r.Template, ev.Log.Message)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return run{mon: mon, received: append([]alert.Alert(nil), rcv.alerts...)}
}

// Monday 2026-11-02: two weeks, the first to learn the cycles.
var start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func TestOutageRaisesAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("two simulated weeks")
	}
	cfg := simulate.DefaultConfig(start)
	cfg.Duration = 14 * 24 * time.Hour
	outage := simulate.PaymentOutage(start.Add(10*24*time.Hour+14*time.Hour+7*time.Minute), 45*time.Minute)
	cfg.Incidents = []simulate.Incident{outage}
	r := replay(t, cfg)

	var anomalyAt, incidentAt time.Time
	var inc alert.Alert
	for _, a := range r.received {
		t.Logf("alert: %s | %s", a.Title, a.Summary)
		switch {
		// The gateway's errors start a few minutes before customers notice.
		case a.Source == alert.SourceAnomaly && a.FirstAt.After(outage.Start.Add(-15*time.Minute)) && anomalyAt.IsZero():
			anomalyAt = a.FirstAt
		case a.Source == alert.SourceIncident && incidentAt.IsZero() && a.FirstAt.After(outage.Start):
			incidentAt, inc = a.FirstAt, a
		}
	}
	if anomalyAt.IsZero() || anomalyAt.After(outage.Start.Add(10*time.Minute)) {
		t.Errorf("volume anomaly alert at %v, want within 10 minutes of the outage's start %v", anomalyAt, outage.Start)
	}
	if incidentAt.IsZero() {
		t.Fatal("no incident alert")
	}
	if ev := inc.Evidence; ev == nil || len(ev.Candidates) == 0 || !strings.HasPrefix(ev.Candidates[0].Value, "payment-gw/") ||
		len(ev.Samples) == 0 || !strings.Contains(ev.Samples[0], "upstream timeout") {
		t.Errorf("incident evidence %+v: want payment-gw's timeout template first, with sample lines", inc.Evidence)
	}
	t.Logf("anomaly alert %v after the start, incident alert %v after", anomalyAt.Sub(outage.Start), incidentAt.Sub(outage.Start))
}

func TestNormalWeeksFalseAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("two simulated weeks")
	}
	cfg := simulate.DefaultConfig(start)
	cfg.Duration = 14 * 24 * time.Hour
	cfg.Seed = 7
	r := replay(t, cfg)
	var second []alert.Alert
	for _, a := range r.received {
		if a.FirstAt.After(start.Add(7 * 24 * time.Hour)) {
			second = append(second, a)
			t.Logf("false alarm: %s | %s", a.Title, a.Summary)
		}
	}
	t.Logf("alerts in the first week (learning): %d; in the second, normal week: %d", len(r.received)-len(second), len(second))
	if len(second) != 0 {
		t.Errorf("%d alerts in a normal week", len(second))
	}
}
