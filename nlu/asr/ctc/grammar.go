package ctc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// State is a grammar state. Its meaning belongs to the Grammar.
type State int32

// Grammar constrains beam search to the token sequences it accepts: a
// hypothesis is extended by a token only when Next allows it, and a final
// result must end in a Final state. The grammar sees tokens after CTC
// collapse (no blanks, no repeats of one emission). It must be
// deterministic (a token sequence reaches one state) and, shared between
// streams, read-only and safe for concurrent use.
type Grammar interface {
	// Start is the state before any token.
	Start() State
	// Next is the state after token, false when the grammar forbids it.
	Next(s State, token int) (State, bool)
	// Final reports whether a sequence may end in s.
	Final(s State) bool
	// Value is the normalised slot value of an accepted token sequence,
	// e.g. "4096" for digits spoken as "四零九六" or "four oh nine six".
	Value(tokens []int) string
}

// Automaton is a deterministic token-level automaton with outputs, the
// building block of the slot grammars: arcs carry an output string, final
// states a label, and Value is the arcs' outputs along the path followed
// by the final state's label. State 0 is the start.
//
// A new slot type (amounts, dates, menu choices) is a function that builds
// an Automaton from a Vocab, as DigitGrammar and PhraseGrammar do: encode
// each spoken form with Vocab.Encode, add it with AddPath between the
// states that count or order the slot's parts, put the normalised value on
// the arcs or the final labels, and mark the final states. Build it once
// (AddState, AddArc, AddPath and SetFinal are not safe for concurrent use),
// then share it: reading is.
type Automaton struct {
	arcs     []map[int]arc
	final    []bool
	label    []string
	internal []bool // created by AddPath, may be shared by later paths
}

type arc struct {
	to  State
	out string
}

// NewAutomaton returns an automaton with a start state only.
func NewAutomaton() *Automaton {
	a := &Automaton{}
	a.AddState()
	return a
}

// AddState adds a state and returns it.
func (a *Automaton) AddState() State {
	a.arcs = append(a.arcs, nil)
	a.final = append(a.final, false)
	a.label = append(a.label, "")
	a.internal = append(a.internal, false)
	return State(len(a.arcs) - 1)
}

// SetFinal makes s final; label is appended to Value for sequences ending
// there.
func (a *Automaton) SetFinal(s State, label string) {
	a.final[s] = true
	a.label[s] = label
}

// AddArc adds from --token/out--> to. Adding an existing arc again is a
// no-op; an arc on the same state and token with another target or output
// is an error wrapping ErrNondeterministic.
func (a *Automaton) AddArc(from State, token int, to State, out string) error {
	if !a.valid(from) || !a.valid(to) {
		return fmt.Errorf("%w: arc %d->%d: no such state", ErrInvalid, from, to)
	}
	if old, ok := a.arcs[from][token]; ok {
		if old != (arc{to, out}) {
			return fmt.Errorf("%w: state %d token %d goes to %d (%q) and %d (%q)", ErrNondeterministic, from, token, old.to, old.out, to, out)
		}
		return nil
	}
	if a.arcs[from] == nil {
		a.arcs[from] = map[int]arc{}
	}
	a.arcs[from][token] = arc{to, out}
	return nil
}

// AddPath adds a path spelling tokens from from to to, with out on its
// last arc. Intermediate states are shared with other AddPath paths that
// begin the same way from the same state, so forms such as "oh" and "one"
// may share their first letter; a form that is a proper prefix of another
// from the same state is nondeterministic, an error.
func (a *Automaton) AddPath(from State, tokens []int, to State, out string) error {
	if len(tokens) == 0 {
		return fmt.Errorf("%w: empty path", ErrInvalid)
	}
	s := from
	for _, tok := range tokens[:len(tokens)-1] {
		if !a.valid(s) {
			return fmt.Errorf("%w: no state %d", ErrInvalid, s)
		}
		if old, ok := a.arcs[s][tok]; ok {
			if !a.internal[old.to] || old.out != "" {
				return fmt.Errorf("%w: path %v from state %d runs into an existing arc", ErrNondeterministic, tokens, from)
			}
			s = old.to
			continue
		}
		n := a.AddState()
		a.internal[n] = true
		if err := a.AddArc(s, tok, n, ""); err != nil {
			return err
		}
		s = n
	}
	return a.AddArc(s, tokens[len(tokens)-1], to, out)
}

func (a *Automaton) valid(s State) bool { return s >= 0 && int(s) < len(a.arcs) }

// Start implements Grammar.
func (a *Automaton) Start() State { return 0 }

// Next implements Grammar.
func (a *Automaton) Next(s State, token int) (State, bool) {
	if !a.valid(s) {
		return 0, false
	}
	t, ok := a.arcs[s][token]
	return t.to, ok
}

// Final implements Grammar.
func (a *Automaton) Final(s State) bool { return a.valid(s) && a.final[s] }

// Value implements Grammar; it is "" for a sequence the automaton does not
// accept.
func (a *Automaton) Value(tokens []int) string {
	var b strings.Builder
	s := a.Start()
	for _, tok := range tokens {
		t, ok := a.arcs[s][tok]
		if !ok {
			return ""
		}
		b.WriteString(t.out)
		s = t.to
	}
	if !a.final[s] {
		return ""
	}
	b.WriteString(a.label[s])
	return b.String()
}

var _ Grammar = (*Automaton)(nil)

// digitForms are the spoken forms of each digit. Chinese telephone
// speech says 幺 for 1 and 洞 for 0 so that 1 and 7, 0 and 6 do not sound
// alike; 两 is the counting form of 2. Forms a vocabulary cannot encode
// are left out: a Chinese-only model does not hear "four".
var digitForms = [10][]string{
	{"0", "零", "〇", "洞", "zero", "oh"},
	{"1", "一", "幺", "one"},
	{"2", "二", "两", "two"},
	{"3", "三", "three"},
	{"4", "四", "four"},
	{"5", "五", "five"},
	{"6", "六", "six"},
	{"7", "七", "seven"},
	{"8", "八", "eight"},
	{"9", "九", "nine"},
}

// MaxDigits bounds DigitGrammar's maxLen; the automaton grows with it.
const MaxDigits = 64

// DigitGrammar accepts minLen to maxLen digits, each spoken in any of its
// forms (Chinese 零/〇/洞, 一/幺, 二/两, 三 … 九; English zero/oh, one …
// nine; the digit characters when the vocabulary has them), optionally
// separated (and preceded) by the standalone word marker. Value is the
// digit string, e.g. "4096". It is an error when a digit has no form the
// vocabulary can encode.
func DigitGrammar(vocab *Vocab, minLen, maxLen int) (*Automaton, error) {
	if vocab == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrInvalid)
	}
	if minLen < 1 || maxLen < minLen || maxLen > MaxDigits {
		return nil, fmt.Errorf("%w: digit lengths %d..%d, want 1 <= min <= max <= %d", ErrInvalid, minLen, maxLen, MaxDigits)
	}
	var forms [10][][]int
	for d, texts := range digitForms {
		for _, text := range texts {
			if ids, err := vocab.Encode(text); err == nil && len(ids) > 0 {
				forms[d] = append(forms[d], ids)
			}
		}
		if len(forms[d]) == 0 {
			return nil, fmt.Errorf("%w: digit %d: the vocabulary encodes none of %q", ErrUnencodable, d, texts)
		}
	}
	// boundary[c] is "c digits heard", spaced[c] the same after a word
	// marker (at most one in a row, as CTC emits them).
	a := NewAutomaton()
	boundary := make([]State, maxLen+1)
	spaced := make([]State, maxLen+1)
	for c := range boundary {
		if c == 0 {
			boundary[c] = a.Start()
		} else {
			boundary[c] = a.AddState()
		}
		spaced[c] = a.AddState()
		if c >= minLen {
			a.SetFinal(boundary[c], "")
			a.SetFinal(spaced[c], "")
		}
		if vocab.space >= 0 {
			if err := a.AddArc(boundary[c], vocab.space, spaced[c], ""); err != nil {
				return nil, err
			}
		}
	}
	for c := range maxLen {
		for d, fs := range forms {
			for _, ids := range fs {
				for _, from := range []State{boundary[c], spaced[c]} {
					if err := a.AddPath(from, ids, boundary[c+1], strconv.Itoa(d)); err != nil {
						return nil, fmt.Errorf("ctc: digit grammar: digit %d: %w", d, err)
					}
				}
			}
		}
	}
	return a, nil
}

// PhraseGrammar accepts exactly one of phrases (each encoded with
// vocab.Encode), e.g. the yes/no answers "是的", "对", "不是", "yes", "no".
// Value is the phrase as given. A phrase that is a prefix of another is
// fine ("对", "对的"); phrases with the same encoding keep the first. Any
// unencodable phrase is an error wrapping ErrUnencodable, for the same
// reason as in NewContext.
func PhraseGrammar(vocab *Vocab, phrases []string) (*Automaton, error) {
	if vocab == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrInvalid)
	}
	if len(phrases) == 0 {
		return nil, fmt.Errorf("%w: no phrases", ErrInvalid)
	}
	a := NewAutomaton()
	var bad []error
	for _, p := range phrases {
		ids, err := vocab.Encode(p)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%w: empty phrase %q", ErrInvalid, p)
		}
		s := a.Start()
		for _, id := range ids {
			next, ok := a.Next(s, id)
			if !ok {
				next = a.AddState()
				if err := a.AddArc(s, id, next, ""); err != nil {
					return nil, err
				}
			}
			s = next
		}
		if !a.Final(s) {
			a.SetFinal(s, p)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("ctc: phrase grammar: %w", errors.Join(bad...))
	}
	return a, nil
}
