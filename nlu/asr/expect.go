package asr

import (
	"errors"
	"fmt"
	"strings"
)

// Expect is what the listener expects to hear; an IVR node passes it with
// each ask. The zero value is open dictation with the default beam.
//
// Phrases bias the search toward expected wordings (intent phrases, menu
// options) without forbidding anything else. OneOf and Digits are
// grammars: only hypotheses they accept can win, which is how an IVR reads
// a yes/no or an order number reliably; when nothing fits, the Result says
// GrammarMatched=false and the node reprompts.
type Expect struct {
	Phrases []string `json:"phrases,omitempty"`
	// Boost is the bonus in nats per matched token of a phrase (0: the
	// decoder's default).
	Boost float32 `json:"boost,omitempty"`
	// OneOf: the answer must be exactly one of these phrases.
	OneOf []string `json:"one_of,omitempty"`
	// Digits: the answer must be a digit string of Min..Max digits, spoken
	// digit by digit in Chinese or English.
	Digits *DigitRange `json:"digits,omitempty"`
	// Beam is the beam width; 1 is greedy decoding, 0 the default (8).
	Beam int `json:"beam,omitempty"`
}

// DigitRange bounds a digit string's length.
type DigitRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Limits on what a request may ask of the decoder: each phrase becomes
// paths in a graph every hypothesis walks.
const (
	MaxPhrases   = 200
	MaxPhraseLen = 64 // runes
	MaxDigits    = 32
	DefaultBeam  = 8
	MaxBeam      = 64
)

// Validate checks the expectation's shape; whether its phrases can be
// spelled with a model's tokens is checked when a stream is made.
func (e Expect) Validate() error {
	var errs []error
	if len(e.Phrases) > MaxPhrases || len(e.OneOf) > MaxPhrases {
		errs = append(errs, fmt.Errorf("at most %d phrases", MaxPhrases))
	}
	for _, list := range [][]string{e.Phrases, e.OneOf} {
		for _, p := range list {
			if strings.TrimSpace(p) == "" {
				errs = append(errs, errors.New("empty phrase"))
			} else if n := len([]rune(p)); n > MaxPhraseLen {
				errs = append(errs, fmt.Errorf("phrase %.20q… is %d characters, more than %d", p, n, MaxPhraseLen))
			}
		}
	}
	if e.OneOf != nil && e.Digits != nil {
		errs = append(errs, errors.New("one_of and digits are both grammars; give one"))
	}
	if d := e.Digits; d != nil && (d.Min < 1 || d.Max < d.Min || d.Max > MaxDigits) {
		errs = append(errs, fmt.Errorf("digits: want 1 <= min <= max <= %d, got %d..%d", MaxDigits, d.Min, d.Max))
	}
	if e.Boost < 0 || e.Boost > 10 {
		errs = append(errs, fmt.Errorf("boost %.2f is outside 0..10", e.Boost))
	}
	if e.Beam < 0 || e.Beam > MaxBeam {
		errs = append(errs, fmt.Errorf("beam %d is outside 0..%d", e.Beam, MaxBeam))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("asr: expect: %w", err)
	}
	return nil
}
