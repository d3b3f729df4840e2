package ctc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

func newBeam(t testing.TB, v *ctc.Vocab, opts ctc.BeamOptions) *ctc.BeamSearch {
	t.Helper()
	d, err := ctc.NewBeamSearch(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGreedyAndBeam(t *testing.T) {
	v := charVocab(t)
	g, err := ctc.NewGreedy(v)
	if err != nil {
		t.Fatal(err)
	}
	b := newBeam(t, v, ctc.BeamOptions{})
	tests := []struct {
		name       string
		frames     []string
		greedy     string
		beam       string
		greedyLogP float64 // checked when not 0
		beamLogP   float64
	}{
		{
			// No single path spells "a" as well as "--" is spelled (0.36),
			// but the three paths "aa", "a-", "-a" together hold 0.64.
			name:   "beam sums paths",
			frames: []string{"_=.6 a=.4", "_=.6 a=.4"},
			greedy: "", beam: "a",
			greedyLogP: math.Log(.36), beamLogP: math.Log(.64),
		},
		{name: "repeat without blank collapses", frames: []string{"a=.9 _=.1", "a=.9 _=.1"}, greedy: "a", beam: "a"},
		{name: "repeat with blank between is two tokens", frames: []string{"a=.9 _=.1", "-", "a=.9 _=.1"}, greedy: "aa", beam: "aa"},
		{name: "held token then another", frames: []string{"o=.9", "o=.9", "-", "n=.9", "e=.9", "e=.8"}, greedy: "one", beam: "one"},
		{name: "words", frames: []string{"是=.9", "-", "y=.9", "e=.9", "s=.9", "▁=.9", "n=.9", "o=.9", "-"}, greedy: "是yes no", beam: "是yes no"},
		{name: "silence", frames: []string{"-", "-", "-"}, greedy: "", beam: ""},
		{name: "no frames", frames: nil, greedy: "", beam: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := matrix(t, v, tt.frames...)
			gr, err := g.Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			br, err := b.Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			if gr.Text != tt.greedy || br.Text != tt.beam {
				t.Errorf("greedy %q, beam %q; want %q, %q", gr.Text, br.Text, tt.greedy, tt.beam)
			}
			if tt.greedyLogP != 0 && math.Abs(gr.Score-tt.greedyLogP) > 1e-4 {
				t.Errorf("greedy score %v, want %v", gr.Score, tt.greedyLogP)
			}
			if tt.beamLogP != 0 && math.Abs(br.Score-tt.beamLogP) > 1e-4 {
				t.Errorf("beam score %v, want %v", br.Score, tt.beamLogP)
			}
			if gr.Frames != len(m) || br.Frames != len(m) {
				t.Errorf("frames %d, %d; want %d", gr.Frames, br.Frames, len(m))
			}
		})
	}
}

func TestTimestampsAndConfidence(t *testing.T) {
	v := charVocab(t)
	m := matrix(t, v,
		"-",
		"n=.6 _=.4", // n spikes at 1, held at 2 more confidently
		"n=.8 _=.2",
		"-",
		"o=.7 _=.3", // o at 4
		"▁=.9 _=.1", // word break at 5
		"-",
		"是=.5 事=.3 _=.2", // 是 at 7
		"-",
	)
	want := struct {
		text   string
		tokens []ctc.Token
		words  []ctc.Word
	}{
		text: "no 是",
		tokens: []ctc.Token{
			{ID: id(t, v, "n"), Symbol: "n", Frame: 1, Confidence: .8},
			{ID: id(t, v, "o"), Symbol: "o", Frame: 4, Confidence: .7},
			{ID: id(t, v, "▁"), Symbol: "▁", Frame: 5, Confidence: .9},
			{ID: id(t, v, "是"), Symbol: "是", Frame: 7, Confidence: .5},
		},
		words: []ctc.Word{
			{Text: "no", Start: 1, End: 5, Confidence: .7},
			{Text: "是", Start: 7, End: 8, Confidence: .5},
		},
	}
	g, _ := ctc.NewGreedy(v)
	for name, dec := range map[string]func([][]float32) (ctc.Result, error){
		"greedy": g.Decode,
		"beam":   newBeam(t, v, ctc.BeamOptions{}).Decode,
	} {
		r, err := dec(m)
		if err != nil {
			t.Fatal(err)
		}
		if r.Text != want.text {
			t.Errorf("%s: text %q, want %q", name, r.Text, want.text)
		}
		if !tokensNear(r.Tokens, want.tokens) {
			t.Errorf("%s: tokens %+v\nwant %+v", name, r.Tokens, want.tokens)
		}
		if len(r.Words) != len(want.words) {
			t.Fatalf("%s: words %+v, want %+v", name, r.Words, want.words)
		}
		for i, w := range r.Words {
			ww := want.words[i]
			if w.Text != ww.Text || w.Start != ww.Start || w.End != ww.End || math.Abs(float64(w.Confidence-ww.Confidence)) > 1e-3 {
				t.Errorf("%s: word %d = %+v, want %+v", name, i, w, ww)
			}
		}
	}
	fd := ctc.FrameDuration(10*time.Millisecond, 4)
	start, end := want.words[0].Time(fd)
	if fd != 40*time.Millisecond || start != 40*time.Millisecond || end != 200*time.Millisecond {
		t.Errorf("times: frame %v, word %v-%v", fd, start, end)
	}
}

func id(t testing.TB, v *ctc.Vocab, sym string) int {
	t.Helper()
	i, ok := v.ID(sym)
	if !ok {
		t.Fatalf("no %q", sym)
	}
	return i
}

func tokensNear(got, want []ctc.Token) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Symbol != w.Symbol || g.Frame != w.Frame || math.Abs(float64(g.Confidence-w.Confidence)) > 1e-3 {
			return false
		}
	}
	return true
}

// TestStreamingEqualsBatch feeds random peaky utterances in random chunks
// to every decoder configuration and expects the whole-utterance result,
// bit for bit.
func TestStreamingEqualsBatch(t *testing.T) {
	v := charVocab(t)
	bias, err := ctc.NewContext(v, []ctc.Phrase{{Text: "是的"}, {Text: "yes"}, {Text: "one two", Boost: 2}})
	if err != nil {
		t.Fatal(err)
	}
	digits, err := ctc.DigitGrammar(v, 1, 6)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := ctc.NewGreedy(v)
	configs := map[string]ctc.BeamOptions{
		"default":         {},
		"wide, no skip":   {BeamSize: 16, TopK: 20, BlankSkip: 1, PruneLogProb: math.Inf(1)},
		"context":         {Context: bias},
		"grammar":         {Grammar: digits},
		"context+grammar": {Context: bias, Grammar: digits, BeamSize: 4},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20 {
		m := peaky(rng, v.Size(), v.Blank(), 40+rng.IntN(80))
		var cuts []int // chunk sizes, 0 included: an empty chunk is no-op
		for rest := len(m); rest > 0; {
			c := min(rest, rng.IntN(9))
			cuts = append(cuts, c)
			rest -= c
		}
		feed := func(accept func([][]float32) error) {
			at := 0
			for _, c := range cuts {
				if err := accept(m[at : at+c]); err != nil {
					t.Fatal(err)
				}
				at += c
			}
		}
		whole, _ := g.Decode(m)
		gs := g.NewStream()
		feed(gs.Accept)
		if got := gs.Final(); !reflect.DeepEqual(got, whole) {
			t.Errorf("utterance %d greedy: chunked %+v\nwhole %+v", n, got, whole)
		}
		for name, opts := range configs {
			d := newBeam(t, v, opts)
			all := d.NewStream()
			if err := all.Accept(m); err != nil {
				t.Fatal(err)
			}
			s := d.NewStream()
			feed(s.Accept)
			if !reflect.DeepEqual(s.NBest(), all.NBest()) || !reflect.DeepEqual(s.Partial(), all.Partial()) {
				t.Errorf("utterance %d %s: chunked %q, whole %q", n, name, texts(s.NBest()), texts(all.NBest()))
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	v := charVocab(t)
	good := frame(t, v, "a=.9")
	nan := frame(t, v, "a=.9")
	nan[3] = float32(math.NaN())
	inf := frame(t, v, "a=.9")
	inf[0] = float32(math.Inf(1))
	allNegInf := make([]float32, v.Size())
	for i := range allNegInf {
		allNegInf[i] = float32(math.Inf(-1))
	}
	someNegInf := frame(t, v, "b=.9")
	someNegInf[5] = float32(math.Inf(-1))
	tests := []struct {
		name    string
		frames  [][]float32
		wantErr error
	}{
		{"empty chunk", nil, nil},
		{"-Inf entries are log(0)", [][]float32{someNegInf}, nil},
		{"short row", [][]float32{good, good[:10]}, ctc.ErrShape},
		{"empty row", [][]float32{{}}, ctc.ErrShape},
		{"NaN", [][]float32{good, nan}, ctc.ErrInvalidFrame},
		{"+Inf", [][]float32{inf}, ctc.ErrInvalidFrame},
		{"all -Inf", [][]float32{allNegInf}, ctc.ErrInvalidFrame},
	}
	g, _ := ctc.NewGreedy(v)
	b := newBeam(t, v, ctc.BeamOptions{})
	for _, tt := range tests {
		gs, bs := g.NewStream(), b.NewStream()
		// A refused chunk leaves the stream as it was: the good frame
		// before it is still the whole transcript.
		for _, accept := range []func([][]float32) error{gs.Accept, bs.Accept} {
			if err := accept([][]float32{good}); err != nil {
				t.Fatal(err)
			}
			if err := accept(tt.frames); !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			}
		}
		want := "a"
		if tt.wantErr == nil && len(tt.frames) > 0 {
			want = "ab"
		}
		if gs.Final().Text != want || bs.Final().Text != want {
			t.Errorf("%s: after: greedy %q, beam %q, want %q", tt.name, gs.Final().Text, bs.Final().Text, want)
		}
	}

	flat := append(append([]float32(nil), good...), good...)
	s := b.NewStream()
	if err := s.AcceptFlat(flat, 2, v.Size()); err != nil || s.Frames() != 2 {
		t.Errorf("AcceptFlat: %v, %d frames", err, s.Frames())
	}
	for _, bad := range []struct{ frames, v int }{{3, v.Size()}, {2, v.Size() + 1}, {-1, v.Size()}} {
		if err := s.AcceptFlat(flat, bad.frames, bad.v); !errors.Is(err, ctc.ErrShape) {
			t.Errorf("AcceptFlat(%d×%d): err = %v, want ErrShape", bad.frames, bad.v, err)
		}
	}

	if r := b.NewStream().Final(); r.Text != "" || r.Tokens != nil || r.Score != 0 {
		t.Errorf("fresh stream: %+v", r)
	}
	for _, opts := range []ctc.BeamOptions{{BeamSize: -1}, {BlankSkip: 2}, {BlankSkip: 0.3}, {PruneLogProb: math.NaN()}} {
		if _, err := ctc.NewBeamSearch(v, opts); !errors.Is(err, ctc.ErrInvalid) {
			t.Errorf("options %+v: err = %v", opts, err)
		}
	}
	if _, err := ctc.NewBeamSearch(nil, ctc.BeamOptions{}); !errors.Is(err, ctc.ErrInvalid) {
		t.Errorf("nil vocab: err = %v", err)
	}
}

func TestNBest(t *testing.T) {
	v := charVocab(t)
	d := newBeam(t, v, ctc.BeamOptions{NBest: 3})
	s := d.NewStream()
	if err := s.Accept(matrix(t, v, "是=.5 事=.3 _=.2", "-", "的=.9")); err != nil {
		t.Fatal(err)
	}
	got := s.NBest()
	if len(got) != 3 || got[0].Text != "是的" || got[1].Text != "事的" || !(got[0].Score > got[1].Score && got[1].Score > got[2].Score) {
		t.Errorf("NBest = %q", texts(got))
	}
	if !reflect.DeepEqual(s.Final(), got[0]) {
		t.Errorf("Final %+v != NBest[0] %+v", s.Final(), got[0])
	}
}
