// Package simulate generates realistic contact-center traffic for demos,
// tests and benchmarks: tickets (Chinese and English), calls and service
// logs arriving with daily and weekly seasonality, with incidents injected
// on top — e.g. a payment-gateway outage: a burst of "payment failed"
// tickets plus timeout errors in one service's logs. Every event carries
// the incident it belongs to (if any), so detection can be scored against
// the truth. The same seed gives the same traffic.
package simulate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Kind is what an event is.
type Kind string

// The event kinds.
const (
	KindTicket Kind = "ticket"
	KindCall   Kind = "call"
	KindLog    Kind = "log"
)

// Event is one generated thing. Exactly one of Ticket, Call, Log is set.
type Event struct {
	Kind Kind
	At   time.Time
	// Incident names the injected incident the event belongs to; empty
	// for ordinary traffic.
	Incident string
	Ticket   *Ticket
	Call     *Call
	Log      *Log
}

// Ticket is a customer's message.
type Ticket struct {
	Subject  string
	Language string // zh or en
	Category string // the truth, as the category model would give it
	Region   string
	Channel  string // email, chat, voice, social
}

// Call is an IVR call.
type Call struct {
	Intent   string
	Region   string
	Duration time.Duration
}

// Log is one service log line.
type Log struct {
	Service string
	Level   string // INFO, WARN, ERROR
	Message string
	// Template is the true template id of the message (for scoring log
	// parsing and root-cause ranking).
	Template string
}

// Incident is an injected incident.
type Incident struct {
	Name     string
	Start    time.Time
	Duration time.Duration
	// Category and Texts are the tickets it causes, TicketRate of them per
	// hour at its height (it ramps up over the first fifth).
	Category   string
	Texts      []string
	TicketRate float64
	// Region, when set, is where its tickets come from.
	Region string
	// Service logs ErrorTemplate at ErrorRate lines per minute during the
	// incident, starting LogLead before it.
	Service       string
	ErrorTemplate string
	ErrorRate     float64
	LogLead       time.Duration
}

// Config is the traffic to generate.
type Config struct {
	Start    time.Time
	Duration time.Duration
	Seed     uint64
	// TicketsPerHour, CallsPerHour and LogsPerMinute are the mean rates
	// over a week; the hour of day and the day of week modulate them.
	TicketsPerHour float64
	CallsPerHour   float64
	LogsPerMinute  float64
	Incidents      []Incident
}

// DefaultConfig is a mid-sized e-commerce help desk for a week.
func DefaultConfig(start time.Time) Config {
	return Config{Start: start, Duration: 7 * 24 * time.Hour, Seed: 1, TicketsPerHour: 40, CallsPerHour: 60, LogsPerMinute: 30}
}

// PaymentOutage is the demo incident: the payment gateway times out for
// duration from start, customers cannot pay, and they say so.
func PaymentOutage(start time.Time, duration time.Duration) Incident {
	return Incident{
		Name: "payment-gateway-outage", Start: start, Duration: duration,
		Category: "payment_problem", TicketRate: 60,
		Texts: []string{
			"支付失败，钱扣了但是订单没成功", "付款一直提示支付失败", "微信支付失败，请尽快处理", "刚才下单支付失败了三次",
			"Payment failed at checkout but my card was charged", "I keep getting payment failed when I try to pay",
			"payment failed, order not placed", "支付页面一直转圈然后支付失败",
		},
		Service: "payment-gw", ErrorTemplate: "pay-timeout", ErrorRate: 40, LogLead: 3 * time.Minute,
	}
}

// Validate reports a config that cannot generate.
func (c Config) Validate() error {
	switch {
	case c.Duration <= 0:
		return errors.New("simulate: duration must be positive")
	case c.TicketsPerHour < 0 || c.CallsPerHour < 0 || c.LogsPerMinute < 0:
		return errors.New("simulate: rates must not be negative")
	}
	for _, in := range c.Incidents {
		if in.Name == "" || in.Duration <= 0 {
			return fmt.Errorf("simulate: incident %q needs a name and a duration", in.Name)
		}
	}
	return nil
}

// seasonal is the traffic level at t relative to the weekly mean: a daily
// curve (quiet at 4 am, peaks late morning and evening) and busier
// weekends, as online shops see.
func seasonal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := 0.25 + 0.9*math.Exp(-sq((h-10.5)/3)) + 1.0*math.Exp(-sq((h-20.5)/2.5)) + 0.35*math.Exp(-sq((h-15)/3))
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		day *= 1.25
	}
	return day / 0.83 // the week's mean of the curve above is about 0.83
}

func sq(x float64) float64 { return x * x }

// Generate emits the traffic in time order, minute by minute, until emit
// returns an error or the duration is over.
func Generate(cfg Config, emit func(Event) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))
	for m := time.Duration(0); m < cfg.Duration; m += time.Minute {
		minute := cfg.Start.Add(m)
		var batch []Event
		s := seasonal(minute)
		for range poisson(r, cfg.TicketsPerHour/60*s) {
			batch = append(batch, ordinaryTicket(r, minute))
		}
		for range poisson(r, cfg.CallsPerHour/60*s) {
			batch = append(batch, ordinaryCall(r, minute))
		}
		for range poisson(r, cfg.LogsPerMinute*(0.3+0.7*s)) {
			batch = append(batch, ordinaryLog(r, minute))
		}
		for _, in := range cfg.Incidents {
			batch = append(batch, incidentEvents(r, in, minute)...)
		}
		// Spread the minute's events over its seconds, in order.
		for i := range batch {
			batch[i].At = minute.Add(time.Duration(r.Int64N(int64(time.Minute))))
		}
		sortByTime(batch)
		for _, ev := range batch {
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

func incidentEvents(r *rand.Rand, in Incident, minute time.Time) []Event {
	var out []Event
	since := minute.Sub(in.Start)
	if since >= 0 && since < in.Duration && in.TicketRate > 0 && len(in.Texts) > 0 {
		ramp := math.Min(1, float64(since)/float64(in.Duration/5+time.Minute))
		for range poisson(r, in.TicketRate/60*ramp) {
			text := in.Texts[r.IntN(len(in.Texts))]
			region := in.Region
			if region == "" {
				region = regions[r.IntN(len(regions))]
			}
			out = append(out, Event{Kind: KindTicket, Incident: in.Name, Ticket: &Ticket{
				Subject: text, Language: lang(text), Category: in.Category, Region: region, Channel: channels[r.IntN(len(channels))],
			}})
		}
	}
	if since >= -in.LogLead && since < in.Duration && in.Service != "" && in.ErrorRate > 0 {
		for range poisson(r, in.ErrorRate) {
			msg, tmpl := errorLine(r, in)
			out = append(out, Event{Kind: KindLog, Incident: in.Name, Log: &Log{Service: in.Service, Level: "ERROR", Message: msg, Template: tmpl}})
		}
	}
	return out
}

func errorLine(r *rand.Rand, in Incident) (string, string) {
	switch in.ErrorTemplate {
	case "pay-timeout":
		return fmt.Sprintf("upstream timeout after %dms calling acquirer host=10.0.%d.%d:8443 txn=%016x",
			3000+r.IntN(2000), r.IntN(4), 2+r.IntN(200), r.Uint64()), "pay-timeout"
	default:
		return fmt.Sprintf("%s failed: error code %d", in.ErrorTemplate, 500+r.IntN(4)), in.ErrorTemplate
	}
}

// poisson draws a Poisson count (Knuth's method; the rates here are small).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 { // normal approximation, to keep the loop short
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func sortByTime(evs []Event) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
}

func lang(text string) string {
	for _, r := range text {
		if r >= 0x4e00 && r <= 0x9fff {
			return "zh"
		}
	}
	return "en"
}
