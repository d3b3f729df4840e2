package nlu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/nlu/onnxmodel"
)

// Sources of a classification.
const (
	// SourceAuto: the model is confident enough to act on its answer.
	SourceAuto = "auto"
	// SourceNeedsReview: the calibrated confidence is below the card's
	// thresholds.confidence; a person should check.
	SourceNeedsReview = "needs_review"
)

// OutOfScope is the intent label of an utterance no intent fits.
const OutOfScope = "out_of_scope"

// negativeLabel is the sentiment whose probability is the escalation risk.
const negativeLabel = "negative"

// alternatives is how many scored labels a classification lists.
const alternatives = 3

// Scored is a label with its calibrated probability.
type Scored struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// Classification is a classifier's calibrated answer.
type Classification struct {
	Label string `json:"label"`
	// Confidence is the winner's probability, softmax(logits / T).
	Confidence float64 `json:"confidence"`
	// Source is SourceAuto or SourceNeedsReview.
	Source       string `json:"source"`
	ModelVersion string `json:"model_version"`
	// Alternatives are the best labels, the winner first.
	Alternatives []Scored `json:"alternatives"`
}

// IntentResult is the intent of an utterance.
type IntentResult struct {
	Classification
	// OutOfScope is set when no intent fits: the model chose its
	// out-of-scope class, or its best probability is below the card's
	// thresholds.out_of_scope. Label is then OutOfScope; Alternatives
	// still say what the model considered.
	OutOfScope bool `json:"out_of_scope"`
}

// SentimentResult is the sentiment of a text.
type SentimentResult struct {
	Label string `json:"label"`
	// Score is the label's calibrated probability.
	Score float64 `json:"score"`
	// Probs holds every label's probability.
	Probs map[string]float64 `json:"probs"`
	// EscalationRisk is set when P(negative) reaches the card's
	// thresholds.escalation.
	EscalationRisk bool   `json:"escalation_risk"`
	ModelVersion   string `json:"model_version"`
}

// modelInfo is what the Service needs of a loaded version, copied from its
// card and labels once so the request path reads plain, immutable data.
type modelInfo struct {
	task, version, kind string
	labels              []string
	temperature         float64
	confidence          float64 // thresholds.confidence
	outOfScope          float64 // thresholds.out_of_scope
	escalation          float64 // thresholds.escalation
	oosIndex            int     // index of out_of_scope_label, or -1
	negIndex            int     // index of "negative", or -1
	dim                 int
	maxRunes            int
	card                []byte // card.json as written
}

// kindFor is the model kind each known task needs.
func kindFor(task string) string {
	switch task {
	case TaskCategory, TaskIntent, TaskSentiment:
		return onnxmodel.KindClassifier
	case TaskEmbed:
		return onnxmodel.KindEmbedder
	}
	return "" // a task this Service does not answer: any kind
}

// newModelInfo checks what onnxmodel cannot know: that the version suits
// its task.
func newModelInfo(task, version string, m *onnxmodel.Model) (*modelInfo, error) {
	c := m.Card()
	info := &modelInfo{
		task: task, version: version, kind: c.Kind,
		labels:      slices.Clone(m.Labels()),
		temperature: c.Calibration.Temperature,
		confidence:  c.Thresholds.Confidence,
		outOfScope:  c.Thresholds.OutOfScope,
		escalation:  c.Thresholds.Escalation,
		oosIndex:    -1,
		negIndex:    slices.Index(m.Labels(), negativeLabel),
		dim:         c.EmbeddingDim,
		// The models read max_length tokens; a token spans at least one
		// rune, and rarely more than a word, so the text beyond this
		// many runes cannot matter and is not worth tokenizing (a 1 MB
		// text would otherwise cost more than the inference).
		maxRunes: max(32*c.MaxLength, 1024),
		card:     slices.Clone(c.Raw),
	}
	if want := kindFor(task); want != "" && c.Kind != want {
		return nil, fmt.Errorf("task %s needs a %s, card.kind is %q", task, want, c.Kind)
	}
	switch t := info.temperature; {
	case t == 0:
		info.temperature = 1 // not calibrated: softmax as is
	case !(t > 0) || math.IsInf(t, 0):
		return nil, fmt.Errorf("calibration.temperature %v is not a positive number", t)
	}
	for name, v := range map[string]float64{"confidence": info.confidence, "out_of_scope": info.outOfScope, "escalation": info.escalation} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return nil, fmt.Errorf("thresholds.%s %v is not a probability", name, v)
		}
	}
	if c.OutOfScopeLabel != "" {
		info.oosIndex = slices.Index(info.labels, c.OutOfScopeLabel)
		if info.oosIndex < 0 {
			return nil, fmt.Errorf("out_of_scope_label %q is not one of the labels", c.OutOfScopeLabel)
		}
	}
	if task == TaskSentiment && info.escalation > 0 && info.negIndex < 0 {
		return nil, fmt.Errorf("thresholds.escalation is set but no label is %q", negativeLabel)
	}
	return info, nil
}

// probs returns the calibrated probabilities of logits.
func (i *modelInfo) probs(logits []float32) ([]float64, error) {
	if len(logits) != len(i.labels) {
		return nil, fmt.Errorf("nlu: %s %s returned %d scores for %d labels", i.task, i.version, len(logits), len(i.labels))
	}
	p := onnxmodel.Softmax(logits, i.temperature)
	for _, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("nlu: %s %s returned a non-finite score", i.task, i.version)
		}
	}
	return p, nil
}

// classify turns logits into a Classification.
func (i *modelInfo) classify(logits []float32) (Classification, error) {
	p, err := i.probs(logits)
	if err != nil {
		return Classification{}, err
	}
	order := make([]int, len(p))
	for k := range order {
		order[k] = k
	}
	// Stable, so ties keep label order and answers are deterministic.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	c := Classification{
		Label: i.labels[order[0]], Confidence: p[order[0]], Source: SourceAuto, ModelVersion: i.version,
	}
	if c.Confidence < i.confidence {
		c.Source = SourceNeedsReview
	}
	for _, k := range order[:min(alternatives, len(order))] {
		c.Alternatives = append(c.Alternatives, Scored{Label: i.labels[k], Score: p[k]})
	}
	return c, nil
}

// intent turns logits into an IntentResult; raw is the model's own top
// label, before out-of-scope is decided.
func (i *modelInfo) intent(logits []float32) (r IntentResult, raw string, err error) {
	c, err := i.classify(logits)
	if err != nil {
		return IntentResult{}, "", err
	}
	r = IntentResult{Classification: c}
	raw = c.Label
	if (i.oosIndex >= 0 && c.Label == i.labels[i.oosIndex]) || c.Confidence < i.outOfScope {
		r.OutOfScope, r.Label = true, OutOfScope
	}
	return r, raw, nil
}

// sentiment turns logits into a SentimentResult.
func (i *modelInfo) sentiment(logits []float32) (SentimentResult, error) {
	c, err := i.classify(logits)
	if err != nil {
		return SentimentResult{}, err
	}
	p, _ := i.probs(logits)
	r := SentimentResult{Label: c.Label, Score: c.Confidence, Probs: make(map[string]float64, len(p)), ModelVersion: i.version}
	for k, v := range p {
		r.Probs[i.labels[k]] = v
	}
	// A zero threshold means the card sets none: no escalations, rather
	// than every text escalated.
	r.EscalationRisk = i.negIndex >= 0 && i.escalation > 0 && p[i.negIndex] >= i.escalation
	return r, nil
}

// label is the answer shadow replays compare; "" for embedders, whose
// vectors from two models live in different spaces.
func (i *modelInfo) label(out []float32) string {
	switch i.task {
	case TaskIntent:
		r, _, err := i.intent(out)
		if err != nil {
			return ""
		}
		return r.Label
	case TaskEmbed:
		return ""
	}
	if i.kind != onnxmodel.KindClassifier {
		return ""
	}
	c, err := i.classify(out)
	if err != nil {
		return ""
	}
	return c.Label
}

// checkTexts refuses empty texts; in a batch the error names the index.
func checkTexts(texts []string) error {
	for k, t := range texts {
		if strings.TrimSpace(t) == "" {
			if len(texts) == 1 {
				return ErrEmptyText
			}
			return fmt.Errorf("nlu: text %d: %w", k, ErrEmptyText)
		}
	}
	return nil
}

// prepare makes a text safe for the tokenizer: valid UTF-8, and no longer
// than the model can read.
func prepare(text string, maxRunes int) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if len(text) <= maxRunes { // bytes ≥ runes
		return text
	}
	n := 0
	for k := range text {
		if n == maxRunes {
			return text[:k]
		}
		n++
	}
	return text
}

// infer runs task's production model on texts (one request; single
// selects the micro-batched path), counts and times it, and queues a
// shadow replay on the candidate.
func (s *Service) infer(ctx context.Context, task string, texts []string, single bool) ([][]float32, *modelInfo, error) {
	if err := checkTexts(texts); err != nil {
		s.m.requests.WithLabelValues(task, outcomeEmpty).Inc()
		return nil, nil, err
	}
	prod, cand, stats, err := s.acquire(task)
	if err != nil {
		s.m.requests.WithLabelValues(task, outcomeUnavailable).Inc()
		return nil, nil, err
	}
	defer prod.release()
	in := make([]string, len(texts))
	for k, t := range texts {
		in[k] = prepare(t, prod.info.maxRunes)
	}
	start := s.cfg.Now()
	var outs [][]float32
	if single {
		var out []float32
		out, err = prod.model.Run(ctx, in[0])
		outs = [][]float32{out}
	} else {
		outs, err = prod.model.RunMany(ctx, in)
	}
	took := s.cfg.Now().Sub(start)
	if err == nil && len(outs) != len(in) {
		err = fmt.Errorf("model returned %d results for %d texts", len(outs), len(in))
	}
	if err != nil {
		if cand != nil {
			cand.release()
		}
		outcome := outcomeError
		if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			outcome = outcomeCanceled
		}
		s.m.requests.WithLabelValues(task, outcome).Inc()
		return nil, nil, fmt.Errorf("nlu: %s %s: %w", task, prod.info.version, err)
	}
	s.m.latency.WithLabelValues(task, prod.info.version).Observe(took.Seconds())
	s.m.requests.WithLabelValues(task, outcomeOK).Inc()
	if cand != nil {
		s.shadow.offer(shadowJob{
			texts: in, single: single, prod: prod.info, prodOut: outs, prodTook: took,
			cand: cand, stats: stats,
		})
	}
	return outs, prod.info, nil
}

// Classify returns the ticket category of text.
func (s *Service) Classify(ctx context.Context, text string) (Classification, error) {
	outs, info, err := s.infer(ctx, TaskCategory, []string{text}, true)
	if err != nil {
		return Classification{}, err
	}
	return info.classify(outs[0])
}

// ClassifyMany classifies texts in one batch, for bulk paths; the results
// are in the order of texts.
func (s *Service) ClassifyMany(ctx context.Context, texts []string) ([]Classification, error) {
	outs, info, err := s.infer(ctx, TaskCategory, texts, false)
	if err != nil {
		return nil, err
	}
	res := make([]Classification, len(outs))
	for k, o := range outs {
		if res[k], err = info.classify(o); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Intent returns the intent of an utterance. Out-of-scope and
// low-confidence utterances are recorded for IntentHealth.
func (s *Service) Intent(ctx context.Context, text string) (IntentResult, error) {
	res, err := s.IntentMany(ctx, []string{text})
	if err != nil {
		return IntentResult{}, err
	}
	return res[0], nil
}

// IntentMany returns the intents of utterances in one batch.
func (s *Service) IntentMany(ctx context.Context, texts []string) ([]IntentResult, error) {
	outs, info, err := s.infer(ctx, TaskIntent, texts, len(texts) == 1)
	if err != nil {
		return nil, err
	}
	res := make([]IntentResult, len(outs))
	now := s.cfg.Now()
	for k, o := range outs {
		r, raw, err := info.intent(o)
		if err != nil {
			return nil, err
		}
		res[k] = r
		if s.rec != nil && (r.OutOfScope || r.Confidence < info.confidence) {
			s.rec.offer(utterance{
				Text: clip(texts[k], maxRecordedRunes), Task: TaskIntent, Label: raw, OutOfScope: r.OutOfScope,
				Confidence: r.Confidence, ModelVersion: info.version, At: now,
			})
		}
	}
	return res, nil
}

// Sentiment returns the sentiment of text.
func (s *Service) Sentiment(ctx context.Context, text string) (SentimentResult, error) {
	res, err := s.SentimentMany(ctx, []string{text})
	if err != nil {
		return SentimentResult{}, err
	}
	return res[0], nil
}

// SentimentMany returns the sentiments of texts in one batch.
func (s *Service) SentimentMany(ctx context.Context, texts []string) ([]SentimentResult, error) {
	outs, info, err := s.infer(ctx, TaskSentiment, texts, len(texts) == 1)
	if err != nil {
		return nil, err
	}
	res := make([]SentimentResult, len(outs))
	for k, o := range outs {
		if res[k], err = info.sentiment(o); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Embed returns the L2-normalised sentence vectors of texts, in order, and
// the embedding model's version: vectors from different versions must not
// be compared.
func (s *Service) Embed(ctx context.Context, texts []string) ([][]float32, string, error) {
	if len(texts) == 0 {
		return [][]float32{}, "", nil
	}
	outs, info, err := s.infer(ctx, TaskEmbed, texts, len(texts) == 1)
	if err != nil {
		return nil, "", err
	}
	for _, o := range outs {
		if err := checkVector(o, info); err != nil {
			return nil, "", err
		}
	}
	return outs, info.version, nil
}

// MinKnown is the least share of a text's word pieces the embedding model
// must know for Readable. Digits and Latin words in a Chinese ticket
// ("订单0123456789没到") are known pieces among unknown ones, so the bar is
// high: English text scores 1.
const MinKnown = 0.8

// Readable reports whether the production embedding model can read text:
// at least MinKnown of its word pieces are in the model's vocabulary.
// Vectors of texts it cannot read are all alike (a Chinese sentence through
// an English vocabulary is mostly [UNK]), so whoever compares vectors to
// group texts (incident clustering) should use something else for those.
// False when no embedding model serves.
func (s *Service) Readable(text string) bool {
	prod, err := s.acquireQuiet(TaskEmbed)
	if err != nil {
		return false
	}
	defer prod.release()
	share, err := prod.model.Known(prepare(text, prod.info.maxRunes))
	return err == nil && share >= MinKnown
}

// EmbedOne returns the sentence vector of one text and the model version.
func (s *Service) EmbedOne(ctx context.Context, text string) ([]float32, string, error) {
	vs, version, err := s.Embed(ctx, []string{text})
	if err != nil {
		return nil, "", err
	}
	return vs[0], version, nil
}

func checkVector(v []float32, info *modelInfo) error {
	if info.dim > 0 && len(v) != info.dim {
		return fmt.Errorf("nlu: embed %s returned %d dimensions, card says %d", info.version, len(v), info.dim)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("nlu: embed %s returned a non-finite vector", info.version)
		}
	}
	return nil
}

// maxRecordedRunes bounds a recorded utterance: enough to read what the
// caller said, not a place to store documents.
const maxRecordedRunes = 1000

// clip returns text's first n runes, as valid UTF-8.
func clip(text string, n int) string {
	return prepare(strings.TrimSpace(text), n)
}
