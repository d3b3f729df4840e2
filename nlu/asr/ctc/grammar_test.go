package ctc_test

import (
	"errors"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

func TestDigitGrammar(t *testing.T) {
	v := charVocab(t)
	tests := []struct {
		name     string
		min, max int
		frames   []string
		free     string // unconstrained beam search
		matched  bool
		text     string
		slot     string
	}{
		{
			name: "一 over 衣", min: 4, max: 4,
			frames: []string{"四=.9", "-", "衣=.5 一=.4 _=.1", "-", "九=.9", "-", "六=.9", "-"},
			free:   "四衣九六", matched: true, text: "四一九六", slot: "4196",
		},
		{
			name: "telephone forms", min: 3, max: 3,
			frames: []string{"幺=.9", "-", "洞=.8", "-", "两=.9"},
			free:   "幺洞两", matched: true, text: "幺洞两", slot: "102",
		},
		{
			name: "four over for", min: 1, max: 1,
			frames: []string{"f=.9", "o=.9", "u=.35 _=.65", "r=.9", "-"},
			free:   "for", matched: true, text: "four", slot: "4",
		},
		{
			name: "english digits with and without word breaks", min: 3, max: 3,
			frames: []string{"o=.9", "h=.9", "▁=.9", "t=.9", "w=.9", "o=.9", "-", "n=.9", "i=.9", "n=.9", "e=.9"},
			free:   "oh twonine", matched: true, text: "oh twonine", slot: "029",
		},
		{
			name: "mixed languages", min: 2, max: 2,
			frames: []string{"八=.9", "-", "s=.9", "i=.9", "x=.9"},
			free:   "八six", matched: true, text: "八six", slot: "86",
		},
		{
			name: "too short", min: 4, max: 4,
			frames: []string{"四=.9", "-", "一=.9", "-", "九=.9"},
			free:   "四一九", matched: false, text: "四一九", slot: "",
		},
		{
			name: "too long keeps the best allowed reading", min: 1, max: 2,
			frames: []string{"四=.9", "-", "一=.6 _=.4", "-", "九=.9"},
			free:   "四一九", matched: true, text: "四九", slot: "49",
		},
		{
			name: "no digits", min: 1, max: 4,
			frames: []string{"是=.9", "-", "的=.9"},
			free:   "是的", matched: false, text: "", slot: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ctc.DigitGrammar(v, tt.min, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			m := matrix(t, v, tt.frames...)
			free, err := newBeam(t, v, ctc.BeamOptions{}).Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			r, err := newBeam(t, v, ctc.BeamOptions{Grammar: g}).Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			if free.Text != tt.free || free.GrammarMatched {
				t.Errorf("unconstrained %q (matched %v), want %q", free.Text, free.GrammarMatched, tt.free)
			}
			if r.GrammarMatched != tt.matched || r.Text != tt.text || r.Slot != tt.slot {
				t.Errorf("got %q matched %v slot %q; want %q %v %q", r.Text, r.GrammarMatched, r.Slot, tt.text, tt.matched, tt.slot)
			}
		})
	}
}

func TestPhraseGrammar(t *testing.T) {
	v := charVocab(t)
	g, err := ctc.PhraseGrammar(v, []string{"是的", "对", "对的", "不是", "Yes", "no"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		frames  []string
		matched bool
		slot    string
	}{
		{"near miss", []string{"事=.5 是=.4 _=.1", "-", "的=.9"}, true, "是的"},
		{"prefix phrase", []string{"对=.9", "-"}, true, "对"},
		{"longer phrase", []string{"对=.9", "-", "的=.8 _=.2"}, true, "对的"},
		{"phrase as given", []string{"y=.9", "e=.9", "s=.9"}, true, "Yes"},
		{"none", []string{"-", "-"}, false, ""},
	}
	for _, tt := range tests {
		r, err := newBeam(t, v, ctc.BeamOptions{Grammar: g}).Decode(matrix(t, v, tt.frames...))
		if err != nil {
			t.Fatal(err)
		}
		if r.GrammarMatched != tt.matched || r.Slot != tt.slot {
			t.Errorf("%s: %q matched %v slot %q; want %v %q", tt.name, r.Text, r.GrammarMatched, r.Slot, tt.matched, tt.slot)
		}
		if tt.matched && r.Score-r.BestPath < -1.5 {
			t.Errorf("%s: a heard phrase cost %v nats", tt.name, r.Score-r.BestPath)
		}
	}

	// 不对 is no answer in the list; the constraint still finds the
	// closest one, 对, and BestPath shows it was forced.
	r, err := newBeam(t, v, ctc.BeamOptions{Grammar: g}).Decode(matrix(t, v, "不=.9 _=.1", "-", "对=.9", "-"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Slot != "对" || r.Score-r.BestPath > -2 {
		t.Errorf("forced match: slot %q, cost %v nats", r.Slot, r.Score-r.BestPath)
	}
}

func TestGrammarErrors(t *testing.T) {
	v := charVocab(t)
	zh, err := ctc.NewVocab([]string{"<blk>", "一", "二"}, ctc.DetectBlank)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"min 0", second(ctc.DigitGrammar(v, 0, 3)), ctc.ErrInvalid},
		{"max < min", second(ctc.DigitGrammar(v, 4, 3)), ctc.ErrInvalid},
		{"too long", second(ctc.DigitGrammar(v, 1, ctc.MaxDigits+1)), ctc.ErrInvalid},
		{"digits the vocabulary cannot say", second(ctc.DigitGrammar(zh, 1, 3)), ctc.ErrUnencodable},
		{"no phrases", second(ctc.PhraseGrammar(v, nil)), ctc.ErrInvalid},
		{"unencodable phrase", second(ctc.PhraseGrammar(v, []string{"对", "好的"})), ctc.ErrUnencodable},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}

	a := ctc.NewAutomaton()
	s := a.AddState()
	if err := a.AddPath(a.Start(), []int{1, 2}, s, "x"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPath(a.Start(), []int{1}, s, "y"); !errors.Is(err, ctc.ErrNondeterministic) {
		t.Errorf("prefix path: err = %v", err)
	}
	if err := a.AddArc(a.Start(), 1, s, "z"); !errors.Is(err, ctc.ErrNondeterministic) {
		t.Errorf("conflicting arc: err = %v", err)
	}
	if err := a.AddArc(s, 1, 99, ""); !errors.Is(err, ctc.ErrInvalid) {
		t.Errorf("missing state: err = %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
