package onnxmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/switchboard-cc/switchboard/nlu/ort"
)

// Kinds of model (card.kind).
const (
	KindClassifier = "classifier"
	KindEmbedder   = "embedder"
)

// Card is card.json (docs/models.md): what the model is, how it was trained
// and how well it does. Numbers the training side may write as 12 or 12.0
// are float64 so a cosmetic difference never refuses a model.
type Card struct {
	Task            string         `json:"task"`
	Version         string         `json:"version"`
	Kind            string         `json:"kind"`
	Architecture    string         `json:"architecture"`
	CreatedAt       string         `json:"created_at"`
	Inputs          []ort.IO       `json:"inputs"`
	Outputs         []ort.IO       `json:"outputs"`
	MaxLength       int            `json:"max_length"`
	MinLength       int            `json:"min_length"`
	PadID           int64          `json:"pad_id"`
	Calibration     Calibration    `json:"calibration"`
	Thresholds      Thresholds     `json:"thresholds"`
	OutOfScopeLabel string         `json:"out_of_scope_label,omitempty"`
	EmbeddingDim    int            `json:"embedding_dim,omitempty"`
	Data            Data           `json:"data"`
	Training        map[string]any `json:"training,omitempty"`
	Metrics         Metrics        `json:"metrics"`
	ONNX            ONNXInfo       `json:"onnx"`
	License         string         `json:"license,omitempty"`
	Notes           string         `json:"notes,omitempty"`

	// Extra holds the top-level fields this version does not know;
	// MarshalJSON writes them back.
	Extra map[string]json.RawMessage `json:"-"`
	// Raw is card.json exactly as read (nothing lost, nested unknown
	// fields included): serve it when the whole card is wanted.
	Raw json.RawMessage `json:"-"`
}

// Calibration is card.calibration.
type Calibration struct {
	// Temperature T: softmax(logits / T) gives calibrated probabilities.
	Temperature float64 `json:"temperature"`
}

// Thresholds is card.thresholds; a threshold the card does not set is 0.
type Thresholds struct {
	Confidence float64 `json:"confidence,omitempty"`   // classifiers: below it, needs review
	OutOfScope float64 `json:"out_of_scope,omitempty"` // intent: max prob below it is out of scope
	Escalation float64 `json:"escalation,omitempty"`   // sentiment: P(negative) at or above it escalates
}

// Data is card.data.
type Data struct {
	Source    string `json:"source"`
	TrainRows int    `json:"train_rows"`
	TestRows  int    `json:"test_rows"`
	Split     string `json:"split"`
}

// Metrics is card.metrics.
type Metrics struct {
	Accuracy  float64                 `json:"accuracy"`
	MacroF1   float64                 `json:"macro_f1"`
	ECE       float64                 `json:"ece"`
	OOSRecall float64                 `json:"oos_recall,omitempty"`
	PerClass  map[string]ClassMetrics `json:"per_class,omitempty"`
	Confusion [][]float64             `json:"confusion,omitempty"`
	LatencyMS Latency                 `json:"latency_ms"`
}

// ClassMetrics is one entry of card.metrics.per_class.
type ClassMetrics struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   float64 `json:"support"`
}

// Latency is card.metrics.latency_ms.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// ONNXInfo is card.onnx.
type ONNXInfo struct {
	Opset            int     `json:"opset"`
	ParityMaxAbsDiff float64 `json:"parity_max_abs_diff"`
	Quantized        bool    `json:"quantized"`
}

// cardAlias has Card's fields without its methods, for (un)marshalling.
type cardAlias Card

// UnmarshalJSON decodes the known fields and keeps the others in Extra.
func (c *Card) UnmarshalJSON(b []byte) error {
	var a cardAlias
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for _, k := range cardKeys() {
		delete(all, k)
	}
	if len(all) == 0 {
		all = nil
	}
	*c = Card(a)
	c.Extra = all
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the known fields and Extra.
func (c Card) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(cardAlias(c))
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range c.Extra {
		if _, known := all[k]; !known {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// cardKeys lists the json names of Card's known fields.
func cardKeys() []string {
	t := reflect.TypeFor[cardAlias]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// ReadCard reads dir/card.json. Errors wrap ErrInvalidModel and name the file.
func ReadCard(dir string) (*Card, error) {
	path := filepath.Join(dir, cardFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	var c Card
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidModel, path, err)
	}
	return &c, nil
}

var (
	_ json.Marshaler   = Card{}
	_ json.Unmarshaler = (*Card)(nil)
)
