package nlu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-cc/switchboard/es"
)

// Bounds of IntentHealth's limit. Grouping compares each utterance with
// every group, so its cost grows with the square of the limit.
const (
	DefaultHealthLimit = 500
	MaxHealthLimit     = 2000
	// DefaultHealthWindow is how far back IntentHealth looks when since
	// is zero.
	DefaultHealthWindow = 7 * 24 * time.Hour
	maxExamples         = 5
	maxNameWords        = 3
)

// HealthReport groups the recent utterances no intent fitted well: each
// group is a candidate for a new intent (or for more training data for an
// existing one).
type HealthReport struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Utterances is how many recorded utterances were grouped (the most
	// recent, at most the limit).
	Utterances int `json:"utterances"`
	// Embedded counts those embedded now because they were recorded
	// without a vector, or with another embedding model's.
	Embedded int `json:"embedded"`
	// EmbedModel is the embedding model version the grouping used.
	EmbedModel string `json:"embed_model"`
	// Threshold is the cosine similarity that joins a group.
	Threshold float64 `json:"threshold"`
	// Groups are the largest first.
	Groups []IntentGroup `json:"groups"`
}

// IntentGroup is a set of similar utterances.
type IntentGroup struct {
	// Name is a suggestion made of the group's most frequent content
	// words, e.g. "weather_forecast".
	Name  string `json:"name"`
	Count int    `json:"count"`
	// Label is the intent the model most often gave them; Labels counts
	// each.
	Label  string         `json:"label"`
	Labels map[string]int `json:"labels"`
	// OutOfScope counts those judged out of scope (the rest were in scope
	// but below the confidence threshold).
	OutOfScope     int     `json:"out_of_scope"`
	MeanConfidence float64 `json:"mean_confidence"`
	// Examples are up to five distinct texts, the most typical first.
	Examples []string  `json:"examples"`
	FirstAt  time.Time `json:"first_at"`
	LastAt   time.Time `json:"last_at"`
}

// IntentHealth groups the out-of-scope and low-confidence utterances
// recorded since since (zero: the last DefaultHealthWindow), at most limit
// of them (zero: DefaultHealthLimit), the most recent first, by the cosine
// similarity of their embeddings. It needs Elasticsearch (Deps.Utterances)
// and an embedding model; without either it returns ErrUnavailable.
func (s *Service) IntentHealth(ctx context.Context, since time.Time, limit int) (HealthReport, error) {
	if limit == 0 {
		limit = DefaultHealthLimit
	}
	if limit < 1 || limit > MaxHealthLimit {
		return HealthReport{}, fmt.Errorf("nlu: intent health: limit %d is not between 1 and %d: %w", limit, MaxHealthLimit, ErrInvalid)
	}
	now := s.cfg.Now()
	if since.IsZero() {
		since = now.Add(-DefaultHealthWindow)
	}
	if s.rec == nil {
		return HealthReport{}, fmt.Errorf("nlu: intent health needs Elasticsearch, which is not configured: %w", ErrUnavailable)
	}
	embed, err := s.acquireQuiet(TaskEmbed)
	if err != nil {
		return HealthReport{}, fmt.Errorf("nlu: intent health groups by embedding: %w", err)
	}
	defer embed.release()

	us, err := s.recentUtterances(ctx, since, limit)
	if err != nil {
		return HealthReport{}, err
	}
	rep := HealthReport{
		Since: since, Until: now, Utterances: len(us), EmbedModel: embed.info.version,
		Threshold: s.cfg.ClusterThreshold, Groups: []IntentGroup{},
	}
	// Vectors of another model live in another space: embed again.
	var missing []int
	for k, u := range us {
		if u.EmbedModel != embed.info.version || len(u.Embedding) == 0 {
			missing = append(missing, k)
		}
	}
	const chunk = 64
	for lo := 0; lo < len(missing); lo += chunk {
		idx := missing[lo:min(lo+chunk, len(missing))]
		texts := make([]string, len(idx))
		for k, i := range idx {
			texts[k] = prepare(us[i].Text, embed.info.maxRunes)
		}
		vecs, err := embed.model.RunMany(ctx, texts)
		if err != nil {
			return HealthReport{}, fmt.Errorf("nlu: intent health: embed: %w", err)
		}
		if len(vecs) != len(idx) {
			return HealthReport{}, fmt.Errorf("nlu: intent health: embed returned %d vectors for %d texts", len(vecs), len(idx))
		}
		for k, i := range idx {
			if err := checkVector(vecs[k], embed.info); err != nil {
				return HealthReport{}, err
			}
			us[i].Embedding = vecs[k]
		}
	}
	rep.Embedded = len(missing)
	for _, g := range cluster(us, s.cfg.ClusterThreshold) {
		rep.Groups = append(rep.Groups, describe(us, g))
	}
	slices.SortStableFunc(rep.Groups, func(a, b IntentGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), b.LastAt.Compare(a.LastAt), cmp.Compare(a.Name, b.Name))
	})
	return rep, nil
}

// recentUtterances reads the most recent recorded intent utterances.
func (s *Service) recentUtterances(ctx context.Context, since time.Time, limit int) ([]utterance, error) {
	q := map[string]any{
		"size": limit,
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"term": map[string]any{"task": TaskIntent}},
			map[string]any{"range": map[string]any{"at": map[string]any{"gte": since.UTC().Format(time.RFC3339Nano)}}},
		}}},
		"sort": []any{map[string]any{"at": "desc"}},
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source utterance `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	path := "/" + url.PathEscape(s.rec.es.Name(UtterancesIndex)) + "/_search"
	err := s.rec.es.Do(ctx, http.MethodPost, path, q, &res)
	if es.IsType(err, "index_not_found_exception") {
		return nil, nil // nothing recorded yet
	}
	if errors.Is(err, es.ErrUnavailable) {
		return nil, fmt.Errorf("nlu: intent health: read utterances: %w: %w", ErrUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("nlu: intent health: read utterances: %w", err)
	}
	us := make([]utterance, len(res.Hits.Hits))
	for k, h := range res.Hits.Hits {
		us[k] = h.Source
	}
	return us, nil
}

// group is a cluster under construction: its members and the sum of
// their unit vectors, whose direction is the centroid.
type group struct {
	members []int
	sum     []float64
}

func (g *group) add(v []float32, i int) {
	if g.sum == nil {
		g.sum = make([]float64, len(v))
	}
	for k, x := range v {
		g.sum[k] += float64(x)
	}
	g.members = append(g.members, i)
}

// cosine returns the cosine similarity between v and the group's centroid.
func (g *group) cosine(v []float32) float64 {
	var dot, nv, ns float64
	for k, x := range v {
		if k >= len(g.sum) {
			break
		}
		dot += float64(x) * g.sum[k]
		nv += float64(x) * float64(x)
		ns += g.sum[k] * g.sum[k]
	}
	if nv == 0 || ns == 0 {
		return 0
	}
	return dot / math.Sqrt(nv*ns)
}

// cluster groups utterances greedily: each joins the group whose centroid
// is most similar, at threshold or above, or starts a new one; then groups
// whose centroids are that similar merge. Simple and order-dependent, but
// for suggesting intents to a person it is enough, and it costs
// O(utterances × groups).
func cluster(us []utterance, threshold float64) []*group {
	var gs []*group
	for i, u := range us {
		best, bestSim := -1, threshold
		for k, g := range gs {
			if sim := g.cosine(u.Embedding); sim >= bestSim {
				best, bestSim = k, sim
			}
		}
		if best < 0 {
			gs = append(gs, &group{})
			best = len(gs) - 1
		}
		gs[best].add(u.Embedding, i)
	}
	var merged []*group
	for _, g := range gs {
		joined := false
		for _, m := range merged {
			if m.cosineGroup(g) >= threshold {
				for k, x := range g.sum {
					m.sum[k] += x
				}
				m.members = append(m.members, g.members...)
				joined = true
				break
			}
		}
		if !joined {
			merged = append(merged, g)
		}
	}
	return merged
}

func (g *group) cosineGroup(o *group) float64 {
	v := make([]float32, len(o.sum))
	for k, x := range o.sum {
		v[k] = float32(x)
	}
	return g.cosine(v)
}

// describe summarises a group.
func describe(us []utterance, g *group) IntentGroup {
	out := IntentGroup{Count: len(g.members), Labels: map[string]int{}}
	var conf float64
	for _, i := range g.members {
		u := us[i]
		out.Labels[u.Label]++
		if u.OutOfScope {
			out.OutOfScope++
		}
		conf += u.Confidence
		if out.FirstAt.IsZero() || u.At.Before(out.FirstAt) {
			out.FirstAt = u.At
		}
		if u.At.After(out.LastAt) {
			out.LastAt = u.At
		}
	}
	out.MeanConfidence = conf / float64(len(g.members))
	for l, n := range out.Labels {
		if n > out.Labels[out.Label] || (n == out.Labels[out.Label] && l < out.Label) {
			out.Label = l
		}
	}
	// The most typical texts first: nearest the centroid.
	byTypical := slices.Clone(g.members)
	sim := make(map[int]float64, len(byTypical))
	for _, i := range byTypical {
		sim[i] = g.cosine(us[i].Embedding)
	}
	slices.SortStableFunc(byTypical, func(a, b int) int { return cmp.Compare(sim[b], sim[a]) })
	seen := map[string]bool{}
	for _, i := range byTypical {
		key := strings.ToLower(strings.Join(strings.Fields(us[i].Text), " "))
		if seen[key] {
			continue
		}
		seen[key] = true
		out.Examples = append(out.Examples, us[i].Text)
		if len(out.Examples) == maxExamples {
			break
		}
	}
	texts := make([]string, len(g.members))
	for k, i := range g.members {
		texts[k] = us[i].Text
	}
	out.Name = suggestName(texts)
	if out.Name == "" {
		out.Name = out.Label
	}
	return out
}

// suggestName joins the most frequent content words of texts (counted once
// per text) with underscores.
func suggestName(texts []string) string {
	df := map[string]int{}
	for _, t := range texts {
		seen := map[string]bool{}
		for _, w := range contentWords(t) {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	words := make([]string, 0, len(df))
	for w := range df {
		words = append(words, w)
	}
	slices.SortFunc(words, func(a, b string) int { return cmp.Or(cmp.Compare(df[b], df[a]), cmp.Compare(a, b)) })
	// Words most texts share name the group; a word only one text of
	// many uses says nothing about the rest.
	floor := max(1, (len(texts)+3)/4)
	var name []string
	for _, w := range words {
		if len(name) == maxNameWords || df[w] < floor {
			break
		}
		name = append(name, w)
	}
	return strings.Join(name, "_")
}

// contentWords splits text into lower-case words without stop words.
// Runs of Han characters have no spaces between words; they yield their
// bigrams, which is how most Chinese words are spelt.
func contentWords(text string) []string {
	var out []string
	var word []rune
	var han []rune
	flushWord := func() {
		if len(word) >= 3 && !stopWords[string(word)] && !allDigits(word) {
			out = append(out, string(word))
		}
		word = word[:0]
	}
	flushHan := func() {
		switch {
		case len(han) == 1:
			if !stopWords[string(han)] {
				out = append(out, string(han))
			}
		case len(han) >= 2:
			for k := 0; k+1 < len(han); k++ {
				bi := string(han[k : k+2])
				if !stopWords[bi] && !stopWords[string(han[k])] && !stopWords[string(han[k+1])] {
					out = append(out, bi)
				}
			}
		}
		han = han[:0]
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			flushHan()
			if r != '\'' {
				word = append(word, unicode.ToLower(r))
			}
		default:
			flushWord()
			flushHan()
		}
	}
	flushWord()
	flushHan()
	return out
}

func allDigits(w []rune) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// stopWords are words too common to name an intent: English function
// words, call-centre pleasantries, and Chinese particles and pronouns.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		the and for are but not you your yours all any can could would should will shall
		with this that these those there their them they what when where which who whom why how
		was were been being have has had having does did doing done from into onto about above below
		over under again further then once here more most other some such only own same than too very
		just also because while until ours ourselves yourself yourselves himself herself itself
		themselves his her hers its our she him myself off out get got let lets like want wants wanted
		need needs please thanks thank hello hey hi yes yeah okay can't don't won't didn't isn't i'm
		im ive dont cant wont didnt isnt its it's one two know tell say said make sure still now today
		我 你 他 她 它 们 的 了 是 在 吗 呢 吧 啊 呀 和 与 有 没 不 这 那 个 就 都 也 还 要 想 请 谢 好
	`) {
		m[w] = true
	}
	return m
}()
