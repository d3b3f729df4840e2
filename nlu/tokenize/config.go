package tokenize

import (
	"encoding/json"
	"fmt"
	"os"
)

// fileConfig is the part of a Hugging Face tokenizer.json this package
// reproduces. Everything else in the file must be absent or equivalent,
// which parse checks, so an unsupported pipeline is refused at load time
// instead of silently producing different ids than Python.
type fileConfig struct {
	AddedTokens   []addedTokenConfig   `json:"added_tokens"`
	Normalizer    *normalizerConfig    `json:"normalizer"`
	PreTokenizer  *typedConfig         `json:"pre_tokenizer"`
	PostProcessor *postProcessorConfig `json:"post_processor"`
	Padding       *struct {
		PadID *int64 `json:"pad_id"`
	} `json:"padding"`
	Model modelConfig `json:"model"`
}

type addedTokenConfig struct {
	ID         int64  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type typedConfig struct {
	Type string `json:"type"`
}

// normalizerConfig uses pointers because Rust's serde defaults differ from
// Go's zero values: a missing clean_text, handle_chinese_chars or lowercase
// means true, and a null strip_accents means "same as lowercase".
type normalizerConfig struct {
	Type               string `json:"type"`
	CleanText          *bool  `json:"clean_text"`
	HandleChineseChars *bool  `json:"handle_chinese_chars"`
	StripAccents       *bool  `json:"strip_accents"`
	Lowercase          *bool  `json:"lowercase"`
}

type postProcessorConfig struct {
	Type   string `json:"type"`
	Single []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int64 `json:"ids"`
	} `json:"special_tokens"`
	// BertProcessing: ["[SEP]", 102].
	Sep []any `json:"sep"`
	Cls []any `json:"cls"`
}

type modelConfig struct {
	Type                    string           `json:"type"`
	UnkToken                string           `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    *int             `json:"max_input_chars_per_word"`
	Vocab                   map[string]int64 `json:"vocab"`
}

// bertFlags are the resolved BertNormalizer switches.
type bertFlags struct {
	clean, chinese, strip, lower bool
}

// readConfig reads and checks path; the errors name the offending field.
func readConfig(path string) (*fileConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var c fileConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	if c.Model.Type != "WordPiece" {
		return nil, fmt.Errorf("%w: %s: model.type %q (only WordPiece)", ErrUnsupported, path, c.Model.Type)
	}
	if len(c.Model.Vocab) == 0 {
		return nil, fmt.Errorf("%w: %s: model.vocab is empty", ErrInvalid, path)
	}
	if _, ok := c.Model.Vocab[c.Model.UnkToken]; !ok {
		return nil, fmt.Errorf("%w: %s: model.unk_token %q is not in the vocabulary", ErrInvalid, path, c.Model.UnkToken)
	}
	// sugarme ignores continuing_subword_prefix and always uses "##".
	if p := c.Model.ContinuingSubwordPrefix; p != nil && *p != "##" {
		return nil, fmt.Errorf("%w: %s: model.continuing_subword_prefix %q (only \"##\")", ErrUnsupported, path, *p)
	}
	if c.PreTokenizer == nil || c.PreTokenizer.Type != "BertPreTokenizer" {
		got := "null"
		if c.PreTokenizer != nil {
			got = c.PreTokenizer.Type
		}
		return nil, fmt.Errorf("%w: %s: pre_tokenizer %s (only BertPreTokenizer)", ErrUnsupported, path, got)
	}
	if n := c.Normalizer; n != nil && n.Type != "BertNormalizer" {
		return nil, fmt.Errorf("%w: %s: normalizer %s (only BertNormalizer or none)", ErrUnsupported, path, n.Type)
	}
	for _, t := range c.AddedTokens {
		if t.Content == "" {
			return nil, fmt.Errorf("%w: %s: added token %d has empty content", ErrInvalid, path, t.ID)
		}
		// These change where Python cuts the text around the token; none of
		// the tokenizers we serve use them, so refuse rather than guess.
		if t.Normalized || t.Lstrip || t.Rstrip || t.SingleWord {
			return nil, fmt.Errorf("%w: %s: added token %q uses normalized/lstrip/rstrip/single_word", ErrUnsupported, path, t.Content)
		}
	}
	return &c, nil
}

// flags resolves the normalizer switches with the Rust defaults.
func (c *fileConfig) flags() bertFlags {
	n := c.Normalizer
	if n == nil {
		return bertFlags{}
	}
	get := func(p *bool, def bool) bool {
		if p == nil {
			return def
		}
		return *p
	}
	f := bertFlags{
		clean:   get(n.CleanText, true),
		chinese: get(n.HandleChineseChars, true),
		lower:   get(n.Lowercase, true),
	}
	f.strip = get(n.StripAccents, f.lower)
	return f
}

// template returns the ids the post-processor puts before and after the
// sequence of a single input.
func (c *fileConfig) template(path string) (prefix, suffix []int64, err error) {
	p := c.PostProcessor
	if p == nil {
		return nil, nil, nil
	}
	switch p.Type {
	case "TemplateProcessing":
		seen := false
		for _, piece := range p.Single {
			switch {
			case piece.Sequence != nil:
				if seen || piece.Sequence.ID != "A" {
					return nil, nil, fmt.Errorf("%w: %s: post_processor.single must contain $A once", ErrUnsupported, path)
				}
				seen = true
			case piece.SpecialToken != nil:
				st, ok := p.SpecialTokens[piece.SpecialToken.ID]
				if !ok || len(st.IDs) == 0 {
					return nil, nil, fmt.Errorf("%w: %s: post_processor special token %q has no ids", ErrInvalid, path, piece.SpecialToken.ID)
				}
				if seen {
					suffix = append(suffix, st.IDs...)
				} else {
					prefix = append(prefix, st.IDs...)
				}
			}
		}
		if !seen {
			return nil, nil, fmt.Errorf("%w: %s: post_processor.single has no $A", ErrInvalid, path)
		}
		return prefix, suffix, nil
	case "BertProcessing":
		cls, err1 := postToken(p.Cls)
		sep, err2 := postToken(p.Sep)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("%w: %s: post_processor cls/sep must be [token, id]", ErrInvalid, path)
		}
		return []int64{cls}, []int64{sep}, nil
	default:
		return nil, nil, fmt.Errorf("%w: %s: post_processor %s (only TemplateProcessing, BertProcessing or none)", ErrUnsupported, path, p.Type)
	}
}

func postToken(v []any) (int64, error) {
	if len(v) != 2 {
		return 0, fmt.Errorf("want [token, id], got %v", v)
	}
	f, ok := v[1].(float64)
	if !ok {
		return 0, fmt.Errorf("id %v is not a number", v[1])
	}
	return int64(f), nil
}

// padID is the padding id the file declares, else the id of [PAD], else 0.
func (c *fileConfig) padID() int64 {
	if c.Padding != nil && c.Padding.PadID != nil {
		return *c.Padding.PadID
	}
	for _, t := range c.AddedTokens {
		if t.Content == "[PAD]" {
			return t.ID
		}
	}
	if id, ok := c.Model.Vocab["[PAD]"]; ok {
		return id
	}
	return 0
}
