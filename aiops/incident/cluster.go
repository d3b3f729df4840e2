// Package incident provides incident detection from tickets: tickets in a
// sliding window are clustered by meaning (sentence embeddings, with their
// category as a tie-breaker), a cluster whose volume bursts becomes an
// incident with a label of its distinctive words, its member tickets, time
// span and affected categories and regions, and root-cause candidates are
// ranked from the error series of log templates and services that changed
// at the same time, each with its evidence.
//
// Clustering is online (a leader algorithm): a ticket joins the cluster
// whose centroid is most similar, if similar enough, or starts a new one.
// It suits a stream — one pass, no number of clusters to choose — and its
// threshold has a direct meaning (how alike two complaints about the same
// outage are). Clusters whose newest ticket left the window are dropped.
package incident

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Ticket is what clustering needs of a ticket.
type Ticket struct {
	ID       string
	At       time.Time
	Text     string
	Vector   []float32 // sentence embedding, any dimension; nil falls back to the text's terms
	Category string
	Region   string
	Channel  string
}

// Config tunes the clusterer. Zero values mean the defaults.
type Config struct {
	// Similarity is the cosine similarity a ticket needs to a cluster's
	// centroid to join it (0.72 for embeddings; the term-vector fallback
	// uses TermSimilarity).
	Similarity float64
	// TermSimilarity is the same for the term-vector fallback (0.35).
	TermSimilarity float64
	// Window is how long a cluster lives after its newest ticket (24 h:
	// an everyday topic keeps its cluster, and its rate, overnight).
	Window time.Duration
	// MaxClusters bounds memory: the stalest cluster goes first (5,000).
	MaxClusters int
}

func (c Config) withDefaults() Config {
	if c.Similarity <= 0 {
		c.Similarity = 0.72
	}
	if c.TermSimilarity <= 0 {
		c.TermSimilarity = 0.35
	}
	if c.Window <= 0 {
		c.Window = 24 * time.Hour
	}
	if c.MaxClusters <= 0 {
		c.MaxClusters = 5000
	}
	return c
}

// Cluster is a group of tickets about the same thing.
type Cluster struct {
	ID      int
	Members []Ticket
	First   time.Time
	Last    time.Time

	centroid []float64          // mean embedding, normalised on use
	terms    map[string]float64 // term counts, for the fallback and the label
	docs     map[string]int     // members using each term, for the label
}

// Clusterer assigns tickets to clusters as they arrive. It is not safe for
// concurrent use; the incident detector owns one.
type Clusterer struct {
	cfg      Config
	clusters []*Cluster
	next     int
	// dropped, if set, is told the id of each cluster dropped (Detector
	// forgets its incident).
	dropped func(id int)
}

// NewClusterer returns an empty clusterer.
func NewClusterer(cfg Config) *Clusterer { return &Clusterer{cfg: cfg.withDefaults(), next: 1} }

// Add places t in a cluster and returns it.
func (c *Clusterer) Add(t Ticket) *Cluster {
	c.expire(t.At)
	terms := termCounts(t.Text)
	var best *Cluster
	bestSim := -1.0
	for _, cl := range c.clusters {
		var sim float64
		var need float64
		if t.Vector != nil && cl.centroid != nil {
			sim, need = cosine(cl.centroid, t.Vector), c.cfg.Similarity
		} else {
			sim, need = termCosine(cl.terms, terms), c.cfg.TermSimilarity
		}
		// The same category is weak evidence of the same cause: it breaks
		// near-ties, never overrides meaning.
		if t.Category != "" && cl.Members[len(cl.Members)-1].Category == t.Category {
			sim += 0.02
		}
		if sim >= need && sim > bestSim {
			best, bestSim = cl, sim
		}
	}
	if best == nil {
		best = &Cluster{ID: c.next, First: t.At, terms: map[string]float64{}, docs: map[string]int{}}
		c.next++
		c.clusters = append(c.clusters, best)
		if len(c.clusters) > c.cfg.MaxClusters {
			c.dropStalest()
		}
	}
	best.add(t, terms)
	return best
}

// Clusters returns the live clusters, largest first.
func (c *Clusterer) Clusters() []*Cluster {
	out := slices.Clone(c.clusters)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Members) > len(out[j].Members) })
	return out
}

func (cl *Cluster) add(t Ticket, terms map[string]float64) {
	n := float64(len(cl.Members))
	if t.Vector != nil {
		if cl.centroid == nil {
			cl.centroid = make([]float64, len(t.Vector))
		}
		if len(cl.centroid) == len(t.Vector) {
			u := unit(t.Vector)
			for i := range cl.centroid {
				cl.centroid[i] = (cl.centroid[i]*n + u[i]) / (n + 1)
			}
		}
	}
	for k, v := range terms {
		cl.terms[k] += v
		cl.docs[k]++
	}
	cl.Members = append(cl.Members, t)
	if t.At.Before(cl.First) {
		cl.First = t.At
	}
	if t.At.After(cl.Last) {
		cl.Last = t.At
	}
}

// category is the most common category of the cluster's tickets.
func (cl *Cluster) category() string {
	n := map[string]int{}
	best := ""
	for _, m := range cl.Members {
		n[m.Category]++
		if c := m.Category; n[c] > n[best] || n[c] == n[best] && c < best {
			best = c
		}
	}
	return best
}

func (c *Clusterer) expire(now time.Time) {
	c.clusters = slices.DeleteFunc(c.clusters, func(cl *Cluster) bool {
		if now.Sub(cl.Last) > c.cfg.Window {
			c.drop(cl.ID)
			return true
		}
		return false
	})
}

func (c *Clusterer) dropStalest() {
	i := 0
	for j, cl := range c.clusters {
		if cl.Last.Before(c.clusters[i].Last) {
			i = j
		}
	}
	c.drop(c.clusters[i].ID)
	c.clusters = slices.Delete(c.clusters, i, i+1)
}

func (c *Clusterer) drop(id int) {
	if c.dropped != nil {
		c.dropped(id)
	}
}

func unit(v []float32) []float64 {
	out := make([]float64, len(v))
	var n float64
	for i, x := range v {
		out[i] = float64(x)
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return out
	}
	n = math.Sqrt(n)
	for i := range out {
		out[i] /= n
	}
	return out
}

func cosine(centroid []float64, v []float32) float64 {
	if len(centroid) != len(v) {
		return -1
	}
	var dot, nc, nv float64
	for i, c := range centroid {
		x := float64(v[i])
		dot += c * x
		nc += c * c
		nv += x * x
	}
	if nc == 0 || nv == 0 {
		return 0
	}
	return dot / math.Sqrt(nc*nv)
}

func termCosine(a, b map[string]float64) float64 {
	var dot, na, nb float64
	for k, x := range a {
		na += x * x
		dot += x * b[k]
	}
	for _, y := range b {
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
