package sla_test

import (
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets/sla"
)

const calendarsYAML = `
calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon: "09:00-18:00", tue: "09:00-18:00", wed: "09:00-18:00", thu: "09:00-18:00", fri: "09:00-18:00"}
    holidays: ["2026-10-01", "2026-10-02"]
    workdays: {"2026-10-11": "10:00-16:00"}
  lunch:
    timezone: Asia/Shanghai
    hours: {mon: "09:00-12:00, 13:00-18:00"}
  holiday-247:
    24x7: true
    timezone: Asia/Shanghai
    holidays: ["2026-02-17"]
  new-york:
    timezone: America/New_York
    hours: {sat: "00:00-24:00", sun: "00:00-06:00", mon: "09:00-17:00"}
policies:
  - name: all
    match: {}
    first_response: 1h
`

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCalendarAdd(t *testing.T) {
	p, err := sla.Parse([]byte(calendarsYAML))
	if err != nil {
		t.Fatal(err)
	}
	// Every want is computed by hand; the comment says how.
	tests := []struct {
		name     string
		calendar string
		start    string
		d        string
		want     string
	}{
		{"within the day", "office", "2026-01-12T10:00:00+08:00", "2h", "2026-01-12T12:00:00+08:00"},
		{"friday evening rolls to monday", "office", "2026-01-09T17:30:00+08:00", "1h", "2026-01-12T09:30:00+08:00"}, // 30m Fri + 30m Mon
		{"ending exactly at closing time", "office", "2026-01-09T17:00:00+08:00", "1h", "2026-01-09T18:00:00+08:00"},
		{"start on a weekend counts from monday", "office", "2026-01-10T12:00:00+08:00", "30m", "2026-01-12T09:30:00+08:00"},
		{"start before opening", "office", "2026-01-12T08:00:00+08:00", "9h", "2026-01-12T18:00:00+08:00"},
		{"one minute into the next day", "office", "2026-01-12T08:00:00+08:00", "9h1m", "2026-01-13T09:01:00+08:00"},
		{"three days are 72 business hours", "office", "2026-01-12T09:00:00+08:00", "3d", "2026-01-21T18:00:00+08:00"}, // 8 days × 9h
		{"across a holiday", "office", "2026-09-30T17:00:00+08:00", "2h", "2026-10-05T10:00:00+08:00"},                 // 1h Wed, Thu+Fri off, weekend, 1h Mon
		{"onto a make-up workday", "office", "2026-10-09T17:00:00+08:00", "2h", "2026-10-11T11:00:00+08:00"},           // 1h Fri, Sun opens 10:00
		{"start given in UTC comes back in UTC", "office", "2026-01-09T09:30:00Z", "1h", "2026-01-12T01:30:00Z"},
		{"lunch break", "lunch", "2026-01-12T11:30:00+08:00", "1h", "2026-01-12T13:30:00+08:00"},
		{"start during lunch", "lunch", "2026-01-12T12:15:00+08:00", "15m", "2026-01-12T13:15:00+08:00"},
		{"24x7", "24x7", "2026-01-09T17:30:00+08:00", "1h", "2026-01-09T18:30:00+08:00"},
		{"24x7 except a holiday", "holiday-247", "2026-02-16T23:30:00+08:00", "1h", "2026-02-18T00:30:00+08:00"},
		// 2026-03-08 02:00 EST becomes 03:00 EDT: Sunday's 00:00-06:00
		// holds five real hours.
		{"spring forward inside open hours", "new-york", "2026-03-07T23:00:00-05:00", "3h", "2026-03-08T03:00:00-04:00"},
		{"a short night spills into monday", "new-york", "2026-03-08T00:00:00-05:00", "6h", "2026-03-09T10:00:00-04:00"},
		// 2026-11-01 02:00 EDT becomes 01:00 EST: seven real hours.
		{"fall back inside open hours", "new-york", "2026-11-01T00:00:00-04:00", "6h", "2026-11-01T05:00:00-05:00"},
		{"weekend to monday across DST", "new-york", "2026-03-08T05:00:00-04:00", "2h", "2026-03-09T10:00:00-04:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := p.Calendars[tt.calendar]
			if c == nil {
				t.Fatalf("no calendar %q", tt.calendar)
			}
			d, err := sla.ParseDuration(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			start, want := mustTime(t, tt.start), mustTime(t, tt.want)
			got := c.Add(start, d)
			if !got.Equal(want) {
				t.Errorf("Add(%s, %s) = %s, want %s", tt.start, tt.d, got.Format(time.RFC3339), tt.want)
			}
			if got.Location() != start.Location() {
				t.Errorf("result in %v, want start's %v", got.Location(), start.Location())
			}
		})
	}
}

func TestCalendarAddZero(t *testing.T) {
	p, err := sla.Parse([]byte(calendarsYAML))
	if err != nil {
		t.Fatal(err)
	}
	saturday := mustTime(t, "2026-01-10T12:00:00+08:00")
	if got := p.Calendars["office"].Add(saturday, 0); !got.Equal(saturday) {
		t.Errorf("Add(0) = %s, want the start", got)
	}
}

func TestCalendarOpen(t *testing.T) {
	p, err := sla.Parse([]byte(calendarsYAML))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		calendar, at string
		want         bool
	}{
		{"office", "2026-01-12T09:00:00+08:00", true},
		{"office", "2026-01-12T18:00:00+08:00", false}, // closing time is closed
		{"office", "2026-01-10T12:00:00+08:00", false}, // Saturday
		{"office", "2026-10-01T12:00:00+08:00", false}, // holiday
		{"office", "2026-10-11T12:00:00+08:00", true},  // make-up Sunday
		{"lunch", "2026-01-12T12:30:00+08:00", false},
		{"24x7", "2026-10-01T03:00:00+08:00", true},
		{"holiday-247", "2026-02-17T03:00:00+08:00", false},
	}
	for _, tt := range tests {
		if got := p.Calendars[tt.calendar].Open(mustTime(t, tt.at)); got != tt.want {
			t.Errorf("%s.Open(%s) = %v, want %v", tt.calendar, tt.at, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true},
		{"4h", 4 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"3d", 72 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"0s", 0, false},
		{"-1h", 0, false},
		{"4x", 0, false},
		{"d", 0, false},
		{"400d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := sla.ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
