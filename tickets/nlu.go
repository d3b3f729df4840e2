package tickets

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Analyzer is the language understanding the Service asks about a ticket's
// text: its category, the customer's sentiment and a sentence vector for
// similar-ticket search. Each part may be missing (no model deployed for
// it). It must bound its own time; its failure never fails a ticket.
type Analyzer interface {
	Analyze(ctx context.Context, text string) (Analysis, error)
}

// Analysis is what an Analyzer found in a ticket's text.
type Analysis struct {
	Category       *Category  // Source auto or needs_review; nil: no model
	Sentiment      *Sentiment // nil: no model
	Embedding      []float32  // nil: no model
	EmbeddingModel string
}

// LabelFeedback is told each time a person sets the category of a ticket a
// model had classified, so that the model's online accuracy can be
// counted (e.g. as a metric).
type LabelFeedback interface {
	CategoryLabelled(p Prediction, label string)
}

// VectorStore finds tickets by embedding similarity.
type VectorStore interface {
	// Nearest returns up to k tickets whose embeddings are closest to vec,
	// most similar first, leaving out the ticket Exclude names. With
	// Labelled, only tickets whose category a person set (source agent or
	// import) are considered.
	Nearest(ctx context.Context, vec []float32, k int, f NearestFilter) ([]Neighbor, error)
}

// NearestFilter narrows a vector search.
type NearestFilter struct {
	Exclude  string
	Labelled bool
}

// Neighbor is a ticket found by similarity.
type Neighbor struct {
	TicketID string  `json:"ticket_id"`
	Number   int64   `json:"number"`
	Subject  string  `json:"subject"`
	Status   Status  `json:"status"`
	Label    string  `json:"label,omitempty"`
	Source   string  `json:"source,omitempty"`
	Score    float64 `json:"score"` // cosine similarity, higher is closer
}

// Actor of changes the models make.
const actorNLU = "nlu"

// Tags set from the analysis.
const (
	TagEscalationRisk = "escalation-risk"
	TagNeedsReview    = "category-needs-review"
)

// maxAnalyzedRunes bounds the text sent to the models; they read far less
// (their max_length in tokens), and this keeps a 64 KiB description cheap.
const maxAnalyzedRunes = 4000

// AnalysisText is the text of t the models read: subject, then description.
func AnalysisText(t *Ticket) string {
	s := strings.TrimSpace(t.Subject + "\n" + t.Description)
	if utf8.RuneCountInString(s) <= maxAnalyzedRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxAnalyzedRunes])
}

// analyze classifies, scores and embeds t. A category or sentiment set by
// a person (or an import) is kept; the model's view of the category is
// then only used for the online accuracy. It returns the changes it made,
// by actor "nlu", for the history.
func (s *Service) analyze(ctx context.Context, t *Ticket) []Change {
	if s.d.Analyzer == nil {
		return nil
	}
	a, err := s.d.Analyzer.Analyze(ctx, AnalysisText(t))
	if err != nil {
		// Like enrichment: a model outage must not stop tickets.
		s.d.Logger.WarnContext(ctx, "ticket analysis failed", "ticket_id", t.ID, "err", err)
		return nil
	}
	var ch []Change
	note := func(field, from, to string) {
		ch = append(ch, Change{Actor: actorNLU, Action: "updated", Field: field, From: from, To: to})
	}
	if a.Category != nil {
		switch {
		case t.Category == nil || t.Category.Source == SourceAuto || t.Category.Source == SourceNeedsReview:
			from := t.CategoryLabel()
			c := *a.Category
			t.Category = &c
			if from != c.Label {
				note("category", from, c.Label)
			}
			if c.Source == SourceNeedsReview {
				t.AddTags(TagNeedsReview)
			}
		case t.Category.Predicted == nil:
			// A person's label: remember what the model would have said.
			p := Prediction{Label: a.Category.Label, Confidence: a.Category.Confidence, ModelVersion: a.Category.ModelVersion}
			ok := p.Label == t.Category.Label
			t.Category.Predicted, t.Category.ModelCorrect = &p, &ok
		}
	}
	if a.Sentiment != nil && (t.Sentiment == nil || t.Sentiment.Source != SourceAgent) {
		sent := *a.Sentiment
		sent.Source = SourceAuto
		t.Sentiment = &sent
		if sent.EscalationRisk && !t.HasTag(TagEscalationRisk) {
			// An angry customer gets a faster queue and a supervisor's
			// eye: one priority step up, once, and a tag rules can route.
			t.AddTags(TagEscalationRisk)
			if p := t.Priority.Raise(); p != t.Priority {
				note("priority", string(t.Priority), string(p))
				t.Priority = p
			}
		}
	}
	if len(a.Embedding) > 0 {
		t.Embedding = a.Embedding
		t.EmbeddingModel = a.EmbeddingModel
	}
	return ch
}

// labelled records a person's category on t: the model's earlier answer is
// kept as Predicted and compared, and LabelFeedback is told.
func (s *Service) labelled(t *Ticket, c Category) {
	c.Source = SourceAgent
	c.Alternatives = nil
	c.Predicted, c.ModelCorrect = t.Category.prediction(), nil
	if c.Predicted != nil {
		ok := c.Predicted.Label == c.Label
		c.ModelCorrect = &ok
		if s.d.Feedback != nil {
			s.d.Feedback.CategoryLabelled(*c.Predicted, c.Label)
		}
	}
	t.Category = &c
}

// Similar returns up to k tickets most similar to ticket id by embedding;
// with labelled, only tickets whose category a person set, which is the
// evidence behind a classification. ErrPrecondition when the ticket has no
// embedding (no embedding model was deployed when it was written).
func (s *Service) Similar(ctx context.Context, id string, k int, labelled bool) ([]Neighbor, error) {
	if k < 1 || k > 50 {
		v := ValidationError{}
		v.Add("k", "must be between 1 and 50")
		return nil, &v
	}
	if s.d.Vectors == nil {
		return nil, fmt.Errorf("tickets: similar-ticket search is not configured: %w", ErrUnavailable)
	}
	t, _, err := s.d.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(t.Embedding) == 0 {
		return nil, fmt.Errorf("tickets: %s has no embedding (no embedding model was deployed when it was last written): %w", id, ErrPrecondition)
	}
	return s.d.Vectors.Nearest(ctx, t.Embedding, k, NearestFilter{Exclude: id, Labelled: labelled})
}
