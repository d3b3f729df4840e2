package monitor

import (
	"encoding/json"
	"fmt"
	"time"
)

// state is what survives a restart: the clock, the open interval's counts,
// every series' detector and when each series last alerted — so a restarted
// monitor neither relearns the cycles nor alerts again on a burst it has
// already reported. Incident clusters and error series are not kept: they
// cover hours, and refill from the traffic that follows.
type state struct {
	Version   int                        `json:"version"`
	Now       time.Time                  `json:"now"`
	Open      time.Time                  `json:"open"`
	Counts    map[string]float64         `json:"counts"`
	LastAlert map[string]time.Time       `json:"last_alert"`
	Detectors map[string]json.RawMessage `json:"detectors"`
}

const stateVersion = 1

// MarshalState returns the monitor's state. The detectors must be
// json.Marshalers (*anomaly.Detector is).
func (m *Monitor) MarshalState() ([]byte, error) {
	st := state{Version: stateVersion, Now: m.now, Open: m.open, Counts: m.counts, LastAlert: m.lastAlert,
		Detectors: make(map[string]json.RawMessage, len(m.detectors))}
	for k, d := range m.detectors {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("monitor: state of %s: %w", k, err)
		}
		st.Detectors[k] = b
	}
	return json.Marshal(st)
}

// RestoreState puts a state from MarshalState back, making each series'
// detector with Deps.NewDetector and unmarshalling into it. It is all or
// nothing: on error the monitor is unchanged.
func (m *Monitor) RestoreState(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("monitor: restore: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("monitor: restore: state version %d, want %d", st.Version, stateVersion)
	}
	dets := make(map[string]Detector, len(st.Detectors))
	for k, raw := range st.Detectors {
		d, err := m.d.NewDetector(k)
		if err != nil {
			return fmt.Errorf("monitor: restore %s: %w", k, err)
		}
		u, ok := d.(json.Unmarshaler)
		if !ok {
			return fmt.Errorf("monitor: restore %s: detector %T cannot be restored", k, d)
		}
		if err := u.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("monitor: restore %s: %w", k, err)
		}
		dets[k] = d
	}
	m.now, m.open, m.detectors = st.Now, st.Open, dets
	m.counts = st.Counts
	if m.counts == nil {
		m.counts = map[string]float64{}
	}
	m.lastAlert = st.LastAlert
	if m.lastAlert == nil {
		m.lastAlert = map[string]time.Time{}
	}
	return nil
}

// Now is the monitor's clock: the latest time it was fed or advanced to.
func (m *Monitor) Now() time.Time { return m.now }
