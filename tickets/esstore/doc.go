package esstore

import (
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-cc/switchboard/tickets"
)

// doc is what the store writes: the ticket plus fields derived from it that
// this Elasticsearch distribution cannot compute itself (no analysis-common
// for CJK bigrams, no scripts for a rank or a minimum). They stay in
// _source, so that an index migration, which re-indexes _source, keeps
// them; reads strip them with derivedFields.
type doc struct {
	*tickets.Ticket
	// SearchBigrams holds the CJK bigrams of subject, description and
	// comment bodies, space-separated for the whitespace analyzer.
	SearchBigrams string `json:"search_bigrams,omitempty"`
	// KeywordTerms holds the subject's words and CJK bigrams, for the
	// dashboard's significant_text keywords.
	KeywordTerms string `json:"keyword_terms,omitempty"`
	// PriorityRank sorts most urgent first (keyword order is alphabetical).
	PriorityRank int `json:"priority_rank"`
	// SLANextDue is the earliest SLA clock still running, so that the
	// overdue query can sort by it.
	SLANextDue *time.Time `json:"sla_next_due,omitempty"`
	// Embedding is Ticket.Embedding, which the ticket's own JSON (the API's
	// too) leaves out.
	Embedding []float32 `json:"embedding,omitempty"`
}

// derivedFields are excluded from every read so that only Ticket fields
// come back. Get reads the embedding too (a Replace must not drop it);
// searches leave it out, as it is a large part of a document.
const (
	derivedFields    = "search_bigrams,keyword_terms,priority_rank,sla_next_due"
	excludedOnSearch = derivedFields + ",embedding"
)

func newDoc(t *tickets.Ticket) doc {
	texts := []string{t.Subject, t.Description}
	for _, c := range t.Comments {
		texts = append(texts, c.Body)
	}
	return doc{
		Ticket:        t,
		SearchBigrams: strings.Join(cjkBigrams(texts...), " "),
		KeywordTerms:  strings.Join(keywordTerms(t.Subject), " "),
		PriorityRank:  t.Priority.Rank(),
		SLANextDue:    nextDue(t),
		Embedding:     t.Embedding,
	}
}

// openStatuses are those whose SLA clocks the monitor watches.
var openStatuses = []string{string(tickets.StatusNew), string(tickets.StatusOpen), string(tickets.StatusPending)}

func nextDue(t *tickets.Ticket) *time.Time {
	if t.Status != tickets.StatusNew && t.Status != tickets.StatusOpen && t.Status != tickets.StatusPending {
		return nil
	}
	var due *time.Time
	consider := func(d *time.Time) {
		if d != nil && (due == nil || d.Before(*due)) {
			due = d
		}
	}
	if t.FirstResponseAt == nil && !t.SLA.FirstResponseBreached {
		consider(t.SLA.FirstResponseDue)
	}
	if !t.SLA.ResolutionBreached {
		consider(t.SLA.ResolutionDue)
	}
	return due
}

// isCJK reports whether r belongs to a script written without spaces
// between words, which the standard tokenizer splits into single characters.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r == 'ー' // the prolonged sound mark is Common script but part of Katakana words
}

// cjkBigrams does what Lucene's cjk analyzer does to CJK text: every run of
// consecutive CJK characters becomes its overlapping bigrams, and a run of
// one character becomes that character. Other characters end a run; runs
// never span two texts. Matching bigrams rather than single characters is
// what makes "包裹没到" find 包裹…没到 and not every text using 包 and 到.
func cjkBigrams(texts ...string) []string {
	var out []string
	var run []rune
	flush := func() {
		switch len(run) {
		case 0:
		case 1:
			out = append(out, string(run))
		default:
			for i := 0; i+1 < len(run); i++ {
				out = append(out, string(run[i:i+2]))
			}
		}
		run = run[:0]
	}
	for _, s := range texts {
		for _, r := range s {
			if isCJK(r) {
				run = append(run, unicode.ToLower(r))
			} else {
				flush()
			}
		}
		flush()
	}
	return out
}

// keywordTerms splits a subject into candidate dashboard keywords: lower-case
// words of two or more letters or digits (not all digits), and CJK bigrams.
// Single characters and bare numbers make poor keywords.
func keywordTerms(s string) []string {
	var out []string
	var word []rune
	flush := func() {
		if len(word) >= 2 && strings.IndexFunc(string(word), func(r rune) bool { return !unicode.IsDigit(r) }) >= 0 {
			out = append(out, string(word))
		}
		word = word[:0]
	}
	for _, r := range s {
		if (unicode.IsLetter(r) || unicode.IsDigit(r)) && !isCJK(r) {
			word = append(word, unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
	for _, b := range cjkBigrams(s) {
		if len([]rune(b)) == 2 {
			out = append(out, b)
		}
	}
	return out
}

// newDoc is the package-level newDoc, leaving out an embedding that does
// not fit the index mapping (another model's, or none mapped): the ticket
// is stored without it rather than refused.
func (s *Store) newDoc(t *tickets.Ticket) doc {
	d := newDoc(t)
	if len(d.Embedding) != s.cfg.EmbeddingDims {
		if len(d.Embedding) > 0 {
			s.log.Warn("ticket embedding dimension does not match the index; stored without it",
				"ticket_id", t.ID, "got", len(d.Embedding), "want", s.cfg.EmbeddingDims)
		}
		d.Embedding = nil
	}
	return d
}
