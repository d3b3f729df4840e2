package ctc_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

func TestContext(t *testing.T) {
	v := charVocab(t)
	tests := []struct {
		name       string
		phrases    []ctc.Phrase
		frames     []string
		partialAt  int    // frames before checking Partial; 0: no check
		partial    string // the best hypothesis mid-way, bonus in progress
		want       string
		wantBonus  float64
		unbiasedIs string // the transcript without the context
	}{
		{
			name:    "near miss becomes the phrase",
			phrases: []ctc.Phrase{{Text: "是的"}},
			frames:  []string{"事=.5 是=.4 _=.1", "-", "的=.9 _=.1", "-"},
			want:    "是的", wantBonus: 2 * ctc.DefaultBoost, unbiasedIs: "事的",
		},
		{
			name:    "english phrase",
			phrases: []ctc.Phrase{{Text: "yes", Boost: 2}},
			frames:  []string{"y=.9", "-", "a=.5 e=.4 _=.1", "-", "s=.9"},
			want:    "yes", wantBonus: 6, unbiasedIs: "yas",
		},
		{
			// 不 gets the bonus while it may begin 不是, so it leads mid-way;
			// 对 leaves the phrase, the bonus is taken back and the
			// acoustically better 布对 wins with no bonus at all.
			name:      "half a phrase is not rewarded",
			phrases:   []ctc.Phrase{{Text: "不是"}},
			frames:    []string{"布=.5 不=.45 _=.05", "-", "对=.9 _=.1", "-"},
			partialAt: 2, partial: "不",
			want: "布对", wantBonus: 0, unbiasedIs: "布对",
		},
		{
			name:      "phrase unfinished at the end is taken back",
			phrases:   []ctc.Phrase{{Text: "不是"}},
			frames:    []string{"布=.5 不=.45 _=.05", "-"},
			partialAt: 1, partial: "不",
			want: "布", wantBonus: 0, unbiasedIs: "布",
		},
		{
			name:    "a boost does not override a clear answer",
			phrases: []ctc.Phrase{{Text: "是的"}},
			frames:  []string{"事=.97 是=.01 _=.02", "-", "的=.9 _=.1"},
			want:    "事的", wantBonus: 0, unbiasedIs: "事的",
		},
		{
			// Aho-Corasick: after 不不, falling off "不是" at the second
			// 不 keeps the match of its suffix 不.
			name:    "failure link keeps a suffix match",
			phrases: []ctc.Phrase{{Text: "不是"}},
			frames:  []string{"不=.9", "-", "不=.9", "事=.5 是=.4 _=.1", "-"},
			want:    "不不是", wantBonus: 2 * ctc.DefaultBoost, unbiasedIs: "不不事",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ctc.NewContext(v, tt.phrases)
			if err != nil {
				t.Fatal(err)
			}
			m := matrix(t, v, tt.frames...)
			plain, err := newBeam(t, v, ctc.BeamOptions{}).Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			if plain.Text != tt.unbiasedIs {
				t.Fatalf("without context: %q, want %q", plain.Text, tt.unbiasedIs)
			}
			s := newBeam(t, v, ctc.BeamOptions{Context: c}).NewStream()
			if tt.partialAt > 0 {
				if err := s.Accept(m[:tt.partialAt]); err != nil {
					t.Fatal(err)
				}
				if p := s.Partial(); p.Text != tt.partial || p.Bonus <= 0 {
					t.Errorf("partial %q bonus %v, want %q with a bonus", p.Text, p.Bonus, tt.partial)
				}
				m = m[tt.partialAt:]
			}
			if err := s.Accept(m); err != nil {
				t.Fatal(err)
			}
			r := s.Final()
			if r.Text != tt.want || math.Abs(r.Bonus-tt.wantBonus) > 1e-6 {
				t.Errorf("got %q bonus %v, want %q bonus %v", r.Text, r.Bonus, tt.want, tt.wantBonus)
			}
		})
	}
}

func TestContextErrors(t *testing.T) {
	v := charVocab(t)
	_, err := ctc.NewContext(v, []ctc.Phrase{{Text: "是的"}, {Text: "你好"}, {Text: "ok!"}})
	if !errors.Is(err, ctc.ErrUnencodable) || !strings.Contains(err.Error(), "你好") || !strings.Contains(err.Error(), "'!'") {
		t.Errorf("unencodable phrases: %v", err)
	}
	for _, p := range []ctc.Phrase{{Text: " "}, {Text: "是", Boost: -1}} {
		if _, err := ctc.NewContext(v, []ctc.Phrase{p}); !errors.Is(err, ctc.ErrInvalid) {
			t.Errorf("phrase %+v: err = %v, want ErrInvalid", p, err)
		}
	}
}
