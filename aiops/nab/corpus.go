// Package nab reads the Numenta Anomaly Benchmark (NAB) corpus, runs a
// streaming detector over it causally, writes results in NAB's layout and
// scores them with a re-implementation of NAB's windowed, threshold-swept
// scorer (Lavin & Ahmad, ICMLA 2015; numenta/NAB nab/sweeper.py).
package nab

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how NAB data files write timestamps.
const TimeLayout = "2006-01-02 15:04:05"

// Series is one data file of the corpus.
type Series struct {
	// Name is the path relative to data/, e.g. "realKnownCause/nyc_taxi.csv":
	// the key of the label files.
	Name       string
	Timestamps []time.Time
	Values     []float64
	// Windows are the labelled anomaly windows, in time order.
	Windows []Window
}

// Window is one labelled anomaly window, both ends included.
type Window struct {
	Start, End time.Time
}

// CostMatrix holds a profile's weights.
type CostMatrix struct {
	TP float64 `json:"tpWeight"`
	FP float64 `json:"fpWeight"`
	FN float64 `json:"fnWeight"`
	TN float64 `json:"tnWeight"`
}

// Profile is one application profile of config/profiles.json.
type Profile struct {
	Name  string
	Costs CostMatrix
}

// Corpus is a NAB directory read into memory.
type Corpus struct {
	Series   []*Series // sorted by Name
	Profiles []Profile // sorted by Name
}

// Category returns the directory of the series, e.g. "realKnownCause".
func (s *Series) Category() string { return filepath.Dir(filepath.FromSlash(s.Name)) }

// File returns the base name of the series, e.g. "nyc_taxi.csv".
func (s *Series) File() string { return filepath.Base(filepath.FromSlash(s.Name)) }

// Labels returns 1 for every row inside a window and 0 elsewhere.
func (s *Series) Labels() []int {
	out := make([]int, len(s.Timestamps))
	for _, w := range s.Windows {
		for i, t := range s.Timestamps {
			if !t.Before(w.Start) && !t.After(w.End) {
				out[i] = 1
			}
		}
	}
	return out
}

// Read loads DIR/data/**.csv, DIR/labels/combined_windows.json and
// DIR/config/profiles.json. Every data file must have an entry in the
// windows file (an empty list for none), as NAB itself requires.
func Read(dir string) (*Corpus, error) {
	var windows map[string][][2]string
	if err := readJSON(filepath.Join(dir, "labels", "combined_windows.json"), &windows); err != nil {
		return nil, err
	}
	var profiles map[string]struct {
		CostMatrix CostMatrix `json:"CostMatrix"`
	}
	if err := readJSON(filepath.Join(dir, "config", "profiles.json"), &profiles); err != nil {
		return nil, err
	}
	c := &Corpus{}
	for name, p := range profiles {
		c.Profiles = append(c.Profiles, Profile{Name: name, Costs: p.CostMatrix})
	}
	sort.Slice(c.Profiles, func(i, j int) bool { return c.Profiles[i].Name < c.Profiles[j].Name })

	dataDir := filepath.Join(dir, "data")
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".csv") {
			return err
		}
		rel, err := filepath.Rel(dataDir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		lims, ok := windows[name]
		if !ok {
			return fmt.Errorf("nab: %s has no entry in combined_windows.json", name)
		}
		s, err := readSeries(path)
		if err != nil {
			return err
		}
		s.Name = name
		for _, l := range lims {
			a, err1 := parseTime(l[0])
			b, err2 := parseTime(l[1])
			if err1 != nil || err2 != nil {
				return fmt.Errorf("nab: window %v of %s: bad timestamp", l, name)
			}
			s.Windows = append(s.Windows, Window{Start: a, End: b})
		}
		sort.Slice(s.Windows, func(i, j int) bool { return s.Windows[i].Start.Before(s.Windows[j].Start) })
		c.Series = append(c.Series, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nab: read %s: %w", dataDir, err)
	}
	if len(c.Series) == 0 {
		return nil, fmt.Errorf("nab: no data files under %s", dataDir)
	}
	sort.Slice(c.Series, func(i, j int) bool { return c.Series[i].Name < c.Series[j].Name })
	return c, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("nab: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("nab: %s: %w", path, err)
	}
	return nil
}

// parseTime accepts NAB's data timestamps and the label files' ones, which
// carry microseconds ("2014-04-10 07:15:00.000000").
func parseTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02 15:04:05.999999", strings.TrimSpace(s))
}

func readSeries(path string) (*Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	ti, vi := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(h) {
		case "timestamp":
			ti = i
		case "value":
			vi = i
		}
	}
	if ti < 0 || vi < 0 {
		return nil, fmt.Errorf("%s: header %v lacks timestamp,value", path, head)
	}
	s := &Series{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t, err := parseTime(rec[ti])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[vi]), 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		s.Timestamps = append(s.Timestamps, t)
		s.Values = append(s.Values, v)
	}
	return s, nil
}
