package sla

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AlwaysOpen is the name of the built-in calendar that is open around the
// clock, every day, in UTC. Policies name it with `calendar: 24x7`, and a
// policy without a calendar uses it.
const AlwaysOpen = "24x7"

// span is one opening interval of a day, in minutes after midnight local
// time; to may be 24*60, meaning the following midnight.
type span struct{ from, to int }

// day is a civil date in a calendar's time zone.
type day struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time) day {
	y, m, d := t.Date()
	return day{y, m, d}
}

func (d day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// Calendar says when the contact centre works, so that SLA clocks count
// only business time. A Calendar is immutable and safe for concurrent use;
// build one with Parse or TwentyFourSeven.
type Calendar struct {
	name string
	loc  *time.Location
	// week holds each weekday's opening hours, indexed by time.Weekday.
	week [7][]span
	// holidays are closed whatever the weekday.
	holidays map[day]bool
	// workdays are open with their own hours whatever the weekday or
	// holiday list says: the weekend days that Chinese public-holiday
	// arrangements (调休) turn into working days.
	workdays map[day][]span
	// always marks a calendar open at every instant, so Add is plain
	// addition.
	always bool
}

// TwentyFourSeven returns the built-in calendar named AlwaysOpen.
func TwentyFourSeven() *Calendar {
	return &Calendar{name: AlwaysOpen, loc: time.UTC, always: true}
}

// Name is the calendar's name in the policies document.
func (c *Calendar) Name() string { return c.name }

// Location is the time zone whose wall clock the opening hours refer to.
func (c *Calendar) Location() *time.Location { return c.loc }

// Open reports whether business time runs at instant t.
func (c *Calendar) Open(t time.Time) bool {
	if c.always {
		return true
	}
	t = t.In(c.loc)
	dd := dayOf(t)
	for _, s := range c.hours(dd, t.Weekday()) {
		if !t.Before(c.at(dd, s.from)) && t.Before(c.at(dd, s.to)) {
			return true
		}
	}
	return false
}

// Add returns the instant at which d of business time has passed since
// start: closed hours, closed weekdays and holidays do not count. Opening
// hours are wall-clock times in the calendar's zone, so a business day
// that contains a daylight-saving change is an hour shorter or longer in
// elapsed time, as it is for the people working it. A start outside
// business hours counts from the next opening; the result is in start's
// location. A d of zero or less returns start.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	if c.always {
		return start.Add(d)
	}
	cur := start.In(c.loc)
	dd := dayOf(cur)
	for closed := 0; ; {
		spans := c.hours(dd, cur.Weekday())
		if len(spans) == 0 {
			closed++
		} else {
			closed = 0
		}
		// Parse guarantees an open weekday, so this only guards a
		// hand-made Calendar against spinning forever: a late due time
		// is better than a hung monitor.
		if closed > 3700 {
			return start.Add(d)
		}
		for _, s := range spans {
			open, end := c.at(dd, s.from), c.at(dd, s.to)
			if !cur.Before(end) {
				continue
			}
			if cur.Before(open) {
				cur = open
			}
			left := end.Sub(cur)
			if d <= left {
				return cur.Add(d).In(start.Location())
			}
			d -= left
			cur = end
		}
		// Normalise through noon so that a zone changing its clocks at
		// midnight cannot make us skip or repeat a date.
		dd = dayOf(time.Date(dd.y, dd.m, dd.d+1, 12, 0, 0, 0, c.loc))
		if midnight := c.at(dd, 0); midnight.After(cur) {
			cur = midnight
		}
	}
}

// at is the instant of minute min after midnight of d in c's zone; 24:00
// normalises to the next midnight.
func (c *Calendar) at(d day, min int) time.Time {
	return time.Date(d.y, d.m, d.d, 0, min, 0, 0, c.loc)
}

// hours returns the opening hours of day d, which falls on weekday wd.
func (c *Calendar) hours(d day, wd time.Weekday) []span {
	if s, ok := c.workdays[d]; ok {
		return s
	}
	if c.holidays[d] {
		return nil
	}
	return c.week[wd]
}

// weekdayKeys are the keys of a calendar's hours, indexed by time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func weekdayOf(key string) (time.Weekday, bool) {
	i := slices.Index(weekdayKeys[:], key)
	return time.Weekday(i), i >= 0
}

// parseHours parses "09:00-18:00" or several ranges separated by commas,
// e.g. "09:00-12:00, 13:30-18:00", in ascending order and not overlapping.
func parseHours(s string) ([]span, error) {
	var out []span
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return nil, fmt.Errorf("bad time range %q: want HH:MM-HH:MM, e.g. 09:00-18:00", part)
		}
		f, err1 := parseClock(strings.TrimSpace(from))
		t, err2 := parseClock(strings.TrimSpace(to))
		switch {
		case err1 != nil || err2 != nil:
			return nil, fmt.Errorf("bad time range %q: want HH:MM-HH:MM between 00:00 and 24:00", part)
		case f >= t:
			return nil, fmt.Errorf("bad time range %q: it must end after it starts (use 24:00 for midnight)", part)
		case len(out) > 0 && f < out[len(out)-1].to:
			return nil, fmt.Errorf("bad time range %q: ranges must be in order and must not overlap", part)
		}
		out = append(out, span{f, t})
	}
	return out, nil
}

// parseClock parses HH:MM into minutes after midnight; 24:00 is allowed.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("bad clock time %q", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad clock time %q", s)
	}
	return hh*60 + mm, nil
}

func parseDay(s string) (day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return day{}, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	return dayOf(t), nil
}

// maxDuration bounds SLA targets; anything longer is a typo, and Add walks
// the calendar a day at a time.
const maxDuration = 366 * 24 * time.Hour

// ParseDuration parses an SLA target: a Go duration ("30m", "4h",
// "1h30m") or a number of 24-hour days with a "d" suffix, optionally
// followed by a Go duration ("3d", "1.5d", "1d12h"). A day is 24 hours of
// business time, not a working day: under a 09:00-18:00 calendar, "27h" is
// three working days.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > maxDuration.Hours()/24 {
			return 0, fmt.Errorf("bad duration %q: want e.g. 30m, 4h or 3d", s)
		}
		d = time.Duration(n * float64(24*time.Hour))
		rest = after
	}
	if rest != "" {
		x, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: want e.g. 30m, 4h or 3d", s)
		}
		d += x
	}
	if d <= 0 || d > maxDuration {
		return 0, fmt.Errorf("bad duration %q: must be more than 0 and at most 366d", s)
	}
	return d, nil
}
