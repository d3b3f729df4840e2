// Package asreval scores recognition results the way speech benchmarks
// do: character error rate for Chinese, word error rate for English
// (Levenshtein alignment of reference and hypothesis units), and NIST
// trn files so the same pairs can be cross-checked with sclite.
package asreval

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Units splits a transcript into scoring units: each CJK character is
// one unit (CER), each run of other letters/digits one word (WER).
// Punctuation is dropped and Latin text lower-cased, the normalisation
// the training transcripts follow.
func Units(text string) []string {
	var out []string
	var word []rune
	flush := func() {
		if len(word) > 0 {
			out = append(out, string(word))
			word = word[:0]
		}
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			word = append(word, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// Counts are the edit operations of an alignment.
type Counts struct {
	Ref, Sub, Del, Ins int
}

// Add accumulates c2.
func (c *Counts) Add(c2 Counts) {
	c.Ref += c2.Ref
	c.Sub += c2.Sub
	c.Del += c2.Del
	c.Ins += c2.Ins
}

// Errors is substitutions + deletions + insertions.
func (c Counts) Errors() int { return c.Sub + c.Del + c.Ins }

// Rate is Errors/Ref (0 for an empty reference with no insertions).
func (c Counts) Rate() float64 {
	if c.Ref == 0 {
		if c.Ins == 0 {
			return 0
		}
		return 1
	}
	return float64(c.Errors()) / float64(c.Ref)
}

func (c Counts) String() string {
	return fmt.Sprintf("%.2f%% (%d sub, %d del, %d ins / %d)", 100*c.Rate(), c.Sub, c.Del, c.Ins, c.Ref)
}

// Align counts the minimum edits turning ref into hyp. Ties prefer
// substitutions, then deletions, as sclite's default costs do (sub 4,
// del 3, ins 3 give the same counts on all but rare ties).
func Align(ref, hyp []string) Counts {
	type cell struct{ cost, sub, del, ins int }
	prev := make([]cell, len(hyp)+1)
	cur := make([]cell, len(hyp)+1)
	for j := range prev {
		prev[j] = cell{cost: 3 * j, ins: j}
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = cell{cost: 3 * i, del: i}
		for j := 1; j <= len(hyp); j++ {
			best := prev[j-1]
			if ref[i-1] != hyp[j-1] {
				best.cost += 4
				best.sub++
			}
			if d := prev[j]; d.cost+3 < best.cost {
				best = d
				best.cost += 3
				best.del++
			}
			if in := cur[j-1]; in.cost+3 < best.cost {
				best = in
				best.cost += 3
				best.ins++
			}
			cur[j] = best
		}
		prev, cur = cur, prev
	}
	c := prev[len(hyp)]
	return Counts{Ref: len(ref), Sub: c.sub, Del: c.del, Ins: c.ins}
}

// WriteTrn writes one NIST trn line: the units separated by spaces and
// the utterance id in parentheses.
func WriteTrn(w io.Writer, units []string, id string) error {
	_, err := fmt.Fprintf(w, "%s (%s)\n", strings.Join(units, " "), id)
	return err
}
