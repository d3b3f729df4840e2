package incident

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// termCounts splits a ticket's text into terms: lower-cased Latin words of
// two letters or more, and Chinese character bigrams (a word segmenter
// would do better; bigrams need none and catch 支付, 失败, 超时).
func termCounts(text string) map[string]float64 {
	out := map[string]float64{}
	var word []rune
	var han []rune
	flushWord := func() {
		if len(word) >= 2 {
			w := strings.ToLower(string(word))
			if !stopWords[w] {
				out[w]++
			}
		}
		word = word[:0]
	}
	flushHan := func() {
		for i := 0; i+1 < len(han); i++ {
			out[string(han[i:i+2])]++
		}
		if len(han) == 1 {
			out[string(han)]++
		}
		han = han[:0]
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushHan()
			word = append(word, r)
		default:
			flushWord()
			flushHan()
		}
	}
	flushWord()
	flushHan()
	return out
}

var stopWords = map[string]bool{
	"the": true, "and": true, "is": true, "to": true, "my": true, "it": true, "of": true, "in": true,
	"for": true, "on": true, "not": true, "was": true, "is not": true, "me": true, "have": true, "has": true,
	"this": true, "that": true, "with": true, "but": true, "can": true, "be": true, "an": true, "at": true,
	"please": true, "hi": true, "hello": true, "we": true, "you": true, "your": true, "are": true, "am": true,
}

// LabelShare is the least share of a cluster's tickets that must use a
// term for it to join the cluster's label (the first term always does).
const LabelShare = 0.4

// Keywords labels clusters with class-based TF-IDF (c-TF-IDF): a term's
// weight in a cluster is its frequency there times log(1 + A / f), where A
// is the average number of terms per cluster and f the term's frequency
// over all clusters given. The label of one cluster therefore depends on
// the others: words every cluster shares ("order", "您好") score low.
func Keywords(clusters []*Cluster, k int) map[int][]string {
	total := map[string]float64{}
	var sum float64
	for _, cl := range clusters {
		for t, n := range cl.terms {
			total[t] += n
			sum += n
		}
	}
	out := map[int][]string{}
	if len(clusters) == 0 || sum == 0 {
		return out
	}
	avg := sum / float64(len(clusters))
	for _, cl := range clusters {
		var size float64
		for _, n := range cl.terms {
			size += n
		}
		type scored struct {
			term string
			w    float64
		}
		var ws []scored
		for t, n := range cl.terms {
			ws = append(ws, scored{t, n / size * math.Log(1+avg/total[t])})
		}
		sort.Slice(ws, func(i, j int) bool {
			if ws[i].w != ws[j].w {
				return ws[i].w > ws[j].w
			}
			return ws[i].term < ws[j].term
		})
		// A label word is one many of the tickets use: a phrase that only
		// one way of putting the complaint has ("转圈", "placed") would
		// otherwise make up the tail of the label.
		common := func(t string) bool { return float64(cl.docs[t]) >= LabelShare*float64(len(cl.Members)) }
		// A chained phrase must itself be common: "提示" + "支付失败" is
		// not a phrase the tickets use just because both halves are.
		phrase := func(p string) bool {
			n := 0
			for _, m := range cl.Members {
				if strings.Contains(m.Text, p) {
					n++
				}
			}
			return float64(n) >= LabelShare*float64(len(cl.Members))
		}
		var label []string
		for _, s := range ws {
			if len(label) == k {
				break
			}
			if common(s.term) || len(label) == 0 {
				label = addTerm(label, s.term, phrase)
			}
		}
		out[cl.ID] = label
	}
	return out
}

// addTerm adds a term to a label. Chinese bigrams that chain onto a
// phrase already there extend it (付失 then 失败 then 支付 make 支付失败),
// since a bigram alone often cuts a word in half, if phrase accepts the
// longer phrase; one that shares a character otherwise says nothing new
// and is left out.
func addTerm(label []string, term string, phrase func(string) bool) []string {
	if !isHan(term) || len([]rune(term)) != 2 {
		return append(label, term)
	}
	t := []rune(term)
	for i, l := range label {
		if !isHan(l) {
			continue
		}
		p := []rune(l)
		switch {
		case strings.Contains(l, term):
			return label
		case p[len(p)-1] == t[0] && phrase(l+string(t[1])):
			label[i] = l + string(t[1])
			return label
		case p[0] == t[1] && phrase(string(t[0])+l):
			label[i] = string(t[0]) + l
			return label
		case strings.ContainsAny(l, term):
			return label
		}
	}
	return append(label, term)
}

func isHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}
