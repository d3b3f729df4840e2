package ctc_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

// charSymbols is a small vocabulary of our character-level kind: blank,
// the word marker, English letters and Chinese characters, including
// confusable pairs (一/衣, 是/事, 不/布).
func charSymbols() []string {
	syms := []string{"<blk>", "▁"}
	for c := 'a'; c <= 'z'; c++ {
		syms = append(syms, string(c))
	}
	syms = append(syms, "'")
	for _, r := range "零〇洞一幺二两三四五六七八九衣是的对不事布" {
		syms = append(syms, string(r))
	}
	return append(syms, "<unk>")
}

func charVocab(t testing.TB) *ctc.Vocab {
	t.Helper()
	v, err := ctc.NewVocab(charSymbols(), ctc.DetectBlank)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// frame builds one log-prob row from "symbol=prob" pairs ("_" is the
// blank); every other token gets 1e-6 before normalisation.
func frame(t testing.TB, v *ctc.Vocab, spec string) []float32 {
	t.Helper()
	p := make([]float64, v.Size())
	for i := range p {
		p[i] = 1e-6
	}
	for _, f := range strings.Fields(spec) {
		sym, val, ok := strings.Cut(f, "=")
		x, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil {
			t.Fatalf("bad frame spec %q", f)
		}
		if sym == "_" {
			sym = v.Symbol(v.Blank())
		}
		id, ok := v.ID(sym)
		if !ok {
			t.Fatalf("no symbol %q", sym)
		}
		p[id] = x
	}
	return normalize(p)
}

func normalize(p []float64) []float32 {
	sum := 0.0
	for _, x := range p {
		sum += x
	}
	row := make([]float32, len(p))
	for i, x := range p {
		row[i] = float32(math.Log(x / sum))
	}
	return row
}

// matrix builds frames from specs; "-" is a silent (blank) frame.
func matrix(t testing.TB, v *ctc.Vocab, specs ...string) [][]float32 {
	t.Helper()
	out := make([][]float32, len(specs))
	for i, s := range specs {
		if s == "-" {
			s = "_=1"
		}
		out[i] = frame(t, v, s)
	}
	return out
}

// peaky is a random utterance of a peaky model: mostly confident blanks,
// token spikes every few frames, sometimes held or contested.
func peaky(rng *rand.Rand, size, blank, frames int) [][]float32 {
	out := make([][]float32, frames)
	for t := range out {
		p := make([]float64, size)
		for i := range p {
			p[i] = 1e-7 * rng.Float64()
		}
		switch r := rng.Float64(); {
		case r < 0.6:
			p[blank] = 1
		case r < 0.75:
			p[blank] = 0.5 + 0.5*rng.Float64()
			p[rng.IntN(size)] += 0.5 * rng.Float64()
		default:
			for range 1 + rng.IntN(3) {
				p[rng.IntN(size)] += rng.Float64()
			}
			p[blank] += 0.2 * rng.Float64()
		}
		out[t] = normalize(p)
	}
	return out
}

func texts(rs []ctc.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}
