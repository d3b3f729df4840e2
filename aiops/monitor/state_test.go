package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/anomaly"
)

type countRaiser struct{ alerts []alert.Alert }

func (c *countRaiser) Raise(_ context.Context, a alert.Alert) (*alert.Alert, error) {
	c.alerts = append(c.alerts, a)
	return &a, nil
}

// TestRestartKeepsStateAndDoesNotRealert: a monitor restored mid-burst
// from its saved state scores like one that ran on, and does not alert on
// the burst it already reported.
func TestRestartKeepsStateAndDoesNotRealert(t *testing.T) {
	newDet := func(string) (Detector, error) { return anomaly.New(anomaly.DefaultConfig()) }
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	feed := func(m *Monitor, from, to time.Time, perMinute func(time.Time) int) {
		for at := from; at.Before(to); at = at.Add(time.Minute) {
			for range perMinute(at) {
				if err := m.Log(context.Background(), at.Add(time.Second), "payment-gw", "ERROR", "1", "timeout <*>", "timeout 3000ms"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := m.Advance(context.Background(), to); err != nil {
			t.Fatal(err)
		}
	}
	quiet := func(at time.Time) int { return 1 + at.Minute()%2 }
	burst := func(at time.Time) int { return 30 }
	r1 := &countRaiser{}
	m1, err := New(Config{}, Deps{NewDetector: newDet, Alerts: r1})
	if err != nil {
		t.Fatal(err)
	}
	feed(m1, start, start.Add(3*24*time.Hour), quiet)
	burstAt := start.Add(3 * 24 * time.Hour)
	feed(m1, burstAt, burstAt.Add(10*time.Minute), burst)
	if len(r1.alerts) != 1 {
		t.Fatalf("%d alerts for the burst, want 1: %+v", len(r1.alerts), r1.alerts)
	}
	saved, err := m1.MarshalState()
	if err != nil {
		t.Fatal(err)
	}

	r2 := &countRaiser{}
	m2, err := New(Config{}, Deps{NewDetector: newDet, Alerts: r2})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.RestoreState(saved); err != nil {
		t.Fatal(err)
	}
	if !m2.Now().Equal(m1.Now()) {
		t.Errorf("clock %v after restore, want %v", m2.Now(), m1.Now())
	}
	// The burst goes on after the restart, then hours of quiet: the
	// restored monitor must behave exactly as the one that ran on — no
	// second alert for the burst it reported, and the same state after.
	for _, m := range []*Monitor{m1, m2} {
		feed(m, burstAt.Add(10*time.Minute), burstAt.Add(30*time.Minute), burst)
		feed(m, burstAt.Add(30*time.Minute), burstAt.Add(5*time.Hour), quiet)
	}
	if len(r2.alerts) != len(r1.alerts)-1 {
		t.Errorf("after the restart: %d alerts from the restored monitor, %d from the one that ran on (its first excluded)", len(r2.alerts), len(r1.alerts)-1)
	}
	a, err := m1.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	b, err := m2.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("the restored monitor's state differs from the one that ran on")
	}
	if err := m2.RestoreState([]byte(`{"version":99}`)); err == nil {
		t.Error("a state of another version was restored")
	}
	if err := m2.RestoreState([]byte(`not json`)); err == nil {
		t.Error("garbage was restored")
	}
}
