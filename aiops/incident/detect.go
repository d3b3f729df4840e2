package incident

import (
	"math"
	"slices"
	"sort"
	"time"
)

// DetectorConfig says when a cluster's volume is a burst.
type DetectorConfig struct {
	Cluster Config
	// Recent is the window a burst is counted in (30 min).
	Recent time.Duration
	// MinTickets is the fewest tickets in Recent that make an incident (5).
	MinTickets int
	// BaseRate is the lowest ticket rate per hour a topic is expected to
	// have (1 per hour); the baseline is otherwise the cluster's share of
	// all tickets (see Add).
	BaseRate float64
	// TopicShare is the share of all tickets assumed for a cluster too
	// young to have one of its own (0.05).
	TopicShare float64
	// PValue is how unlikely the recent count must be under the baseline
	// (Poisson upper tail) to be a burst (1e-4).
	PValue float64
	// Keywords is the label length (5).
	Keywords int
}

func (c DetectorConfig) withDefaults() DetectorConfig {
	if c.Recent <= 0 {
		c.Recent = 30 * time.Minute
	}
	if c.MinTickets <= 0 {
		c.MinTickets = 5
	}
	if c.BaseRate <= 0 {
		c.BaseRate = 1
	}
	if c.TopicShare <= 0 {
		c.TopicShare = 0.05
	}
	if c.PValue <= 0 {
		c.PValue = 1e-4
	}
	if c.Keywords <= 0 {
		c.Keywords = 5
	}
	return c
}

// Incident is a burst of tickets about one thing.
type Incident struct {
	ClusterID  int
	Label      []string
	Tickets    []string // ids
	Start, End time.Time
	Categories map[string]int
	Regions    map[string]int
	Channels   map[string]int
	// Observed is the tickets in the burst window when the incident
	// formed; Expected what the baseline predicted there.
	Observed int
	Expected float64
	PValue   float64
}

// Detector clusters tickets and reports bursting clusters as incidents.
// It is not safe for concurrent use.
type Detector struct {
	cfg  DetectorConfig
	cl   *Clusterer
	open map[int]*Incident
	// vol counts all tickets per minute over the clusters' window.
	vol volume
}

// NewDetector returns a detector.
func NewDetector(cfg DetectorConfig) *Detector {
	cfg = cfg.withDefaults()
	d := &Detector{cfg: cfg, cl: NewClusterer(cfg.Cluster), open: map[int]*Incident{}}
	// An incident whose cluster is gone cannot grow: forget it.
	d.cl.dropped = func(id int) { delete(d.open, id) }
	return d
}

// Clusterer exposes the clusters, e.g. to evaluate them.
func (d *Detector) Clusterer() *Clusterer { return d.cl }

// Add takes one ticket. It returns the incident the ticket's cluster is
// in (nil if none), the cluster's id, and whether the incident formed with
// this ticket.
func (d *Detector) Add(t Ticket) (inc *Incident, cluster int, formed bool) {
	d.vol.add(t.At, d.cfg.Cluster.withDefaults().Window)
	cl := d.cl.Add(t)
	if inc, ok := d.open[cl.ID]; ok {
		inc.Tickets = append(inc.Tickets, t.ID)
		inc.End = maxTime(inc.End, t.At)
		count(inc, t)
		// The label weighs the cluster against every live cluster: too
		// dear for each ticket of a burst, so it is refreshed as the
		// incident doubles.
		if n := len(inc.Tickets); n&(n-1) == 0 {
			if l := d.label(d.groupOf(inc)); l != nil {
				inc.Label = l
			}
		}
		return inc, cl.ID, false
	}
	group := []*Cluster{cl}
	recent, expected := d.expect(group, t.At)
	p := PoissonTail(recent, expected)
	if p > d.cfg.PValue && d.young(cl, t.At) && t.Category != "" {
		// Complaints about one outage in two languages, or put two ways
		// the encoder does not bring together, start clusters side by
		// side: young clusters of the ticket's category are judged
		// together (clustering by meaning and metadata).
		for _, o := range d.cl.clusters {
			if o != cl && d.open[o.ID] == nil && d.young(o, t.At) && o.category() == t.Category {
				group = append(group, o)
			}
		}
		if len(group) > 1 {
			recent, expected = d.expect(group, t.At)
			p = PoissonTail(recent, expected)
		}
	}
	if recent < d.cfg.MinTickets || p > d.cfg.PValue {
		return nil, cl.ID, false
	}
	inc = &Incident{ClusterID: cl.ID, Observed: recent, Expected: expected, PValue: p,
		Categories: map[string]int{}, Regions: map[string]int{}, Channels: map[string]int{}}
	for _, g := range group {
		for _, m := range g.Members {
			if t.At.Sub(m.At) <= d.cfg.Recent {
				inc.Tickets = append(inc.Tickets, m.ID)
				count(inc, m)
				if inc.Start.IsZero() || m.At.Before(inc.Start) {
					inc.Start = m.At
				}
				inc.End = maxTime(inc.End, m.At)
			}
		}
		d.open[g.ID] = inc
	}
	inc.Label = d.label(group)
	return inc, cl.ID, true
}

// groupOf lists the live clusters of inc, its first cluster first.
func (d *Detector) groupOf(inc *Incident) []*Cluster {
	var group []*Cluster
	for _, cl := range d.cl.clusters {
		if d.open[cl.ID] == inc {
			if cl.ID == inc.ClusterID {
				group = append([]*Cluster{cl}, group...)
			} else {
				group = append(group, cl)
			}
		}
	}
	return group
}

// young reports whether cl was born within the burst window: a cluster
// an outage started, not an everyday topic.
func (d *Detector) young(cl *Cluster, now time.Time) bool {
	return now.Sub(cl.First) <= d.cfg.Recent
}

// expect counts the group's tickets in the burst window and what its
// baseline predicts there. The baseline is each cluster's share of all
// tickets: before the burst window it had share s of the traffic, so with
// the others' tickets in the window it is expected to have s/(1-s) times
// theirs. That follows the day's rhythm (an evening peak raises every
// topic) and is not inflated by the burst itself. A young cluster has no
// share of its own: TopicShare stands in.
func (d *Detector) expect(group []*Cluster, now time.Time) (recent int, expected float64) {
	shares := make([]float64, len(group))
	for i, cl := range group {
		older := 0
		for _, m := range cl.Members {
			if now.Sub(m.At) <= d.cfg.Recent {
				recent++
			} else {
				older++
			}
		}
		shares[i] = d.cfg.TopicShare
		if span := now.Sub(cl.First) - d.cfg.Recent; span > time.Hour && older >= 3 {
			if all := d.vol.sum(cl.First, now.Add(-d.cfg.Recent)); all > 0 {
				shares[i] = math.Min(0.9, math.Max(shares[i], float64(older)/float64(all)))
			}
		}
	}
	others := math.Max(0, float64(d.vol.sum(now.Add(-d.cfg.Recent), now.Add(time.Nanosecond))-recent))
	if len(group) > 1 {
		// The young clusters joined are taken for one new topic, so they
		// get one new topic's prior share, not one each: counting one per
		// way of phrasing the complaint would raise the bar with every
		// phrasing the burst brings.
		shares = shares[:1]
	}
	for _, s := range shares {
		expected += math.Max(d.cfg.BaseRate*d.cfg.Recent.Hours(), s/(1-s)*others)
	}
	return recent, expected
}

// label is the group's keywords, the group weighed as one cluster
// against the others, so that words every member cluster uses lead.
func (d *Detector) label(group []*Cluster) []string {
	if len(group) == 0 {
		return nil
	}
	if len(group) == 1 {
		return Keywords(d.cl.Clusters(), d.cfg.Keywords)[group[0].ID]
	}
	merged := &Cluster{ID: group[0].ID, terms: map[string]float64{}, docs: map[string]int{}}
	for _, g := range group {
		merged.Members = append(merged.Members, g.Members...)
		for t, n := range g.terms {
			merged.terms[t] += n
		}
		for t, n := range g.docs {
			merged.docs[t] += n
		}
	}
	all := []*Cluster{merged}
	for _, cl := range d.cl.clusters {
		if !slices.Contains(group, cl) {
			all = append(all, cl)
		}
	}
	return Keywords(all, d.cfg.Keywords)[merged.ID]
}

// volume is a per-minute count of arrivals over a sliding window.
type volume struct {
	start  time.Time // the minute of counts[0]
	counts []int
}

func (v *volume) add(at time.Time, window time.Duration) {
	m := at.Truncate(time.Minute)
	if v.counts == nil {
		v.start = m
	}
	i := int(m.Sub(v.start) / time.Minute)
	if i < 0 {
		return // older than what is kept
	}
	for len(v.counts) <= i {
		v.counts = append(v.counts, 0)
	}
	v.counts[i]++
	if keep := int(window/time.Minute) + 1; len(v.counts) > keep {
		drop := len(v.counts) - keep
		v.counts = v.counts[drop:]
		v.start = v.start.Add(time.Duration(drop) * time.Minute)
	}
}

// sum counts arrivals in [from, to), to the minute.
func (v *volume) sum(from, to time.Time) int {
	a := max(0, int(from.Truncate(time.Minute).Sub(v.start)/time.Minute))
	b := min(len(v.counts), int(to.Add(time.Minute-1).Truncate(time.Minute).Sub(v.start)/time.Minute))
	n := 0
	for i := a; i < b; i++ {
		n += v.counts[i]
	}
	return n
}

func count(inc *Incident, t Ticket) {
	if t.Category != "" {
		inc.Categories[t.Category]++
	}
	if t.Region != "" {
		inc.Regions[t.Region]++
	}
	if t.Channel != "" {
		inc.Channels[t.Channel]++
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// PoissonTail is P(X >= k) for X ~ Poisson(lambda), summed in log space so
// large counts neither overflow nor underflow to a wrong zero.
func PoissonTail(k int, lambda float64) float64 {
	if k <= 0 {
		return 1
	}
	if lambda <= 0 {
		return 0
	}
	// P(X < k) = sum_{i<k} e^-l l^i / i!
	var below float64
	for i := 0; i < k; i++ {
		lg, _ := math.Lgamma(float64(i) + 1)
		below += math.Exp(-lambda + float64(i)*math.Log(lambda) - lg)
	}
	return math.Max(0, 1-below)
}

// Series is the error count over time of one log template of one service
// (or of a whole service, Template empty), one value per Step from Start.
type Series struct {
	Service  string
	Template string // template id
	Text     string // the template, for people
	Start    time.Time
	Step     time.Duration
	Counts   []float64
	Samples  []string // a few lines, for the evidence
}

// Candidate is a root-cause candidate with its evidence.
type Candidate struct {
	Service, Template, Text string
	// Before and After are the counts in the windows before and after the
	// incident start; RateBefore and RateAfter the same per minute.
	Before, After         float64
	RateBefore, RateAfter float64
	// Lag is when the series changed relative to the incident's start
	// (negative: the logs changed first, as a cause's do).
	Lag     time.Duration
	Score   float64
	Samples []string
}

// RankCauses ranks series by how much their rate rose at the incident's
// start: a Poisson log-likelihood ratio of the counts in window before and
// after start (a rate that did not rise scores 0), discounted by how far
// the series' own change point is from start.
func RankCauses(series []Series, start time.Time, window time.Duration) []Candidate {
	var out []Candidate
	for _, s := range series {
		if s.Step <= 0 || len(s.Counts) == 0 {
			continue
		}
		idx := func(t time.Time) int { return int(t.Sub(s.Start) / s.Step) }
		// The "after" window opens a little before start: logs fail before
		// the first customer writes in.
		lead := window / 4
		b0, b1 := idx(start.Add(-lead-window)), idx(start.Add(-lead))
		a0, a1 := idx(start.Add(-lead)), idx(start.Add(window-lead))
		before, nb := sum(s.Counts, b0, b1)
		after, na := sum(s.Counts, a0, a1)
		if na == 0 || nb == 0 {
			continue
		}
		tb, ta := float64(nb)*s.Step.Minutes(), float64(na)*s.Step.Minutes()
		c := Candidate{Service: s.Service, Template: s.Template, Text: s.Text, Before: before, After: after,
			RateBefore: before / tb, RateAfter: after / ta, Samples: s.Samples}
		if c.RateAfter <= c.RateBefore {
			continue
		}
		llr := poissonLLR(before, tb, after, ta)
		cp := changePoint(s.Counts, b0, a1)
		c.Lag = s.Start.Add(time.Duration(cp) * s.Step).Sub(start)
		c.Score = llr * math.Exp(-math.Abs(c.Lag.Minutes())/window.Minutes())
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

func sum(xs []float64, from, to int) (float64, int) {
	from, to = max(from, 0), min(to, len(xs))
	var s float64
	for i := from; i < to; i++ {
		s += xs[i]
	}
	return s, max(to-from, 0)
}

// poissonLLR is the log-likelihood ratio of "the rate changed" against
// "one rate throughout" for counts b over time tb and a over ta.
func poissonLLR(b, tb, a, ta float64) float64 {
	l0 := (a + b) / (ta + tb)
	xlogy := func(x, y float64) float64 {
		if x == 0 {
			return 0
		}
		return x * math.Log(x/y)
	}
	return xlogy(a, l0*ta) + xlogy(b, l0*tb)
}

// changePoint is the index in [from, to) that best splits the counts into
// two Poisson rates.
func changePoint(xs []float64, from, to int) int {
	from, to = max(from, 0), min(to, len(xs))
	best, bestLLR := from, -1.0
	for k := from + 1; k < to; k++ {
		b, nb := sum(xs, from, k)
		a, na := sum(xs, k, to)
		if nb == 0 || na == 0 || a/float64(na) <= b/float64(nb) {
			continue
		}
		if llr := poissonLLR(b, float64(nb), a, float64(na)); llr > bestLLR {
			best, bestLLR = k, llr
		}
	}
	return best
}
