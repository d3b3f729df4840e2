package ctc

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// WordMarker is the symbol prefix (U+2581) that starts a word: a standalone
// "▁" token is a word boundary, a BPE piece such as "▁the" begins a word.
const WordMarker = "▁"

// DetectBlank asks NewVocab to find the blank by name (<blk> or <blank>).
const DetectBlank = -1

// Vocab is the token table of a CTC model (tokens.txt). It is immutable
// and safe for concurrent use.
type Vocab struct {
	symbols []string
	ids     map[string]int
	blank   int
	space   int // id of the standalone WordMarker token, -1 if none

	// match holds the symbols Encode may produce: everything except the
	// blank and <...> specials such as <unk> or <sos/eos>, which no
	// spoken text spells.
	match    map[string]int
	maxMatch int  // longest matchable symbol, in bytes
	pieces   bool // some matchable symbol is WordMarker + text (BPE)
	upper    bool // letters are upper case only (e.g. LibriSpeech BPE)
}

// ReadTokens reads tokens.txt: one "symbol id" per line, ids dense
// 0..V-1. The blank is the symbol <blk> or <blank>; use ReadTokensBlank
// when the model's metadata names another id.
func ReadTokens(r io.Reader) (*Vocab, error) {
	return ReadTokensBlank(r, DetectBlank)
}

// ReadTokensBlank is ReadTokens with the blank id given (DetectBlank to
// find it by name), for models whose metadata sets blank_id.
func ReadTokensBlank(r io.Reader, blank int) (*Vocab, error) {
	byID := map[int]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \t\r")
		if text == "" {
			continue
		}
		// The id is the last field; everything before the separator is the
		// symbol, so a symbol that is itself a space (" 3") survives.
		i := strings.LastIndexAny(text, " \t")
		if i <= 0 {
			return nil, fmt.Errorf("%w: line %d %q: want \"symbol id\"", ErrInvalidVocab, line, text)
		}
		sym := text[:i]
		id, err := strconv.Atoi(text[i+1:])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("%w: line %d %q: bad id", ErrInvalidVocab, line, text)
		}
		if prev, dup := byID[id]; dup {
			return nil, fmt.Errorf("%w: line %d: id %d used by %q and %q", ErrInvalidVocab, line, id, prev, sym)
		}
		byID[id] = sym
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ctc: read tokens: %w", err)
	}
	symbols := make([]string, len(byID))
	for id := range symbols {
		sym, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%w: ids are not dense: %d tokens but id %d is missing", ErrInvalidVocab, len(byID), id)
		}
		symbols[id] = sym
	}
	return NewVocab(symbols, blank)
}

// NewVocab builds a vocabulary whose token i is symbols[i]. blank is the
// blank's id, or DetectBlank to find <blk> or <blank>.
func NewVocab(symbols []string, blank int) (*Vocab, error) {
	if len(symbols) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrInvalidVocab)
	}
	v := &Vocab{
		symbols: slices.Clone(symbols),
		ids:     make(map[string]int, len(symbols)),
		match:   make(map[string]int, len(symbols)),
		blank:   blank,
		space:   -1,
	}
	lower, upper := false, false
	for id, sym := range v.symbols {
		if sym == "" {
			return nil, fmt.Errorf("%w: token %d has an empty symbol", ErrInvalidVocab, id)
		}
		if prev, dup := v.ids[sym]; dup {
			return nil, fmt.Errorf("%w: symbol %q has ids %d and %d", ErrInvalidVocab, sym, prev, id)
		}
		v.ids[sym] = id
		if blank == DetectBlank && (sym == "<blk>" || sym == "<blank>") {
			v.blank = id
		}
		for _, r := range sym {
			if !isSpecial(sym) { // <blk>, <unk> say nothing of the case
				lower = lower || ('a' <= r && r <= 'z')
				upper = upper || ('A' <= r && r <= 'Z')
			}
		}
	}
	if v.blank < 0 || v.blank >= len(v.symbols) {
		if blank == DetectBlank {
			return nil, fmt.Errorf("%w: no <blk> or <blank> symbol", ErrInvalidVocab)
		}
		return nil, fmt.Errorf("%w: blank id %d outside 0..%d", ErrInvalidVocab, blank, len(v.symbols)-1)
	}
	v.upper = upper && !lower
	for id, sym := range v.symbols {
		if id == v.blank || isSpecial(sym) {
			continue
		}
		v.match[sym] = id
		v.maxMatch = max(v.maxMatch, len(sym))
		if sym == WordMarker {
			v.space = id
		} else if strings.HasPrefix(sym, WordMarker) {
			v.pieces = true
		}
	}
	return v, nil
}

func isSpecial(sym string) bool {
	return len(sym) > 2 && sym[0] == '<' && sym[len(sym)-1] == '>'
}

// Size is the number of tokens, V.
func (v *Vocab) Size() int { return len(v.symbols) }

// Blank is the blank's token id.
func (v *Vocab) Blank() int { return v.blank }

// Symbol is token id's symbol, or "" when id is out of range.
func (v *Vocab) Symbol(id int) string {
	if id < 0 || id >= len(v.symbols) {
		return ""
	}
	return v.symbols[id]
}

// ID is the id of symbol sym.
func (v *Vocab) ID(sym string) (int, bool) {
	id, ok := v.ids[sym]
	return id, ok
}

// Detokenize turns token ids into text: symbols are joined, WordMarker
// starts a new word (a space), the result is trimmed with single spaces,
// and no space is left between two CJK characters, which Chinese does not
// write. Blanks and out-of-range ids are skipped.
func (v *Vocab) Detokenize(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id == v.blank || id < 0 || id >= len(v.symbols) {
			continue
		}
		sym := v.symbols[id]
		if rest, ok := strings.CutPrefix(sym, WordMarker); ok {
			b.WriteByte(' ')
			sym = rest
		}
		b.WriteString(sym)
	}
	return joinWords(strings.Fields(b.String()))
}

// joinWords joins words with a space except between two CJK characters.
func joinWords(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(words[i-1])
			next, _ := utf8.DecodeRuneInString(w)
			if !isCJK(prev) || !isCJK(next) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(w)
	}
	return b.String()
}

// isCJK reports whether r is written without spaces around it: Han,
// kana. Hangul is not: Korean separates words with spaces.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// Encode turns text into token ids by greedy longest match over the
// symbols, the way the model would spell it. English is folded to the
// vocabulary's case first (lower case, or upper case for vocabularies with
// only upper-case letters). White space separates words: a word starts
// with the longest "▁…" piece when the vocabulary has BPE pieces; otherwise
// words after the first are preceded by the standalone "▁" token when there
// is one (our character vocabulary). No other normalisation is done
// (punctuation, full-width forms): an uncovered character is an error
// wrapping ErrUnencodable that names every such character.
func (v *Vocab) Encode(text string) ([]int, error) {
	if v.upper {
		text = strings.ToUpper(text)
	} else {
		text = strings.ToLower(text)
	}
	var ids []int
	var bad []rune
	for wi, w := range strings.Fields(text) {
		pos := 0
		if v.pieces {
			if id, n := v.longest(WordMarker + w); n > len(WordMarker) {
				ids = append(ids, id)
				pos = n - len(WordMarker)
			}
		}
		if pos == 0 && wi > 0 && v.space >= 0 {
			ids = append(ids, v.space)
		}
		for pos < len(w) {
			id, n := v.longest(w[pos:])
			if n == 0 {
				r, size := utf8.DecodeRuneInString(w[pos:])
				if !slices.Contains(bad, r) {
					bad = append(bad, r)
				}
				pos += size
				continue
			}
			ids = append(ids, id)
			pos += n
		}
	}
	if len(bad) > 0 {
		quoted := make([]string, len(bad))
		for i, r := range bad {
			quoted[i] = strconv.QuoteRune(r)
		}
		return nil, fmt.Errorf("%w: %q: no token for %s", ErrUnencodable, text, strings.Join(quoted, ", "))
	}
	return ids, nil
}

// longest finds the longest matchable symbol that prefixes s; n is its
// length in bytes, 0 when none does.
func (v *Vocab) longest(s string) (id, n int) {
	for l := min(v.maxMatch, len(s)); l > 0; l-- {
		if l < len(s) && !utf8.RuneStart(s[l]) {
			continue
		}
		if id, ok := v.match[s[:l]]; ok {
			return id, l
		}
	}
	return 0, 0
}
