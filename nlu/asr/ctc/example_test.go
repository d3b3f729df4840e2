package ctc_test

import (
	"fmt"
	"math"
	"strings"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

func ExampleDigitGrammar() {
	var tokens strings.Builder
	for i, sym := range strings.Split("<blk> 衣 零 一 二 三 四 五 六 七 八 九", " ") {
		fmt.Fprintf(&tokens, "%s %d\n", sym, i)
	}
	v, err := ctc.ReadTokens(strings.NewReader(tokens.String()))
	if err != nil {
		panic(err)
	}
	// row spreads what the named tokens leave over the others.
	row := func(probs map[string]float64) []float32 {
		out := make([]float32, v.Size())
		rest := 1.0
		for _, p := range probs {
			rest -= p
		}
		for i := range out {
			p, ok := probs[v.Symbol(i)]
			if !ok {
				p = rest / float64(v.Size()-len(probs))
			}
			out[i] = float32(math.Log(p))
		}
		return out
	}
	// The model hears 四衣, "four clothes"; the IVR node asks for two
	// digits.
	frames := [][]float32{
		row(map[string]float64{"四": .9, "<blk>": .05}),
		row(map[string]float64{"<blk>": .99}),
		row(map[string]float64{"衣": .48, "一": .4, "<blk>": .1}),
	}
	digits, err := ctc.DigitGrammar(v, 2, 2)
	if err != nil {
		panic(err)
	}
	free, err := ctc.NewBeamSearch(v, ctc.BeamOptions{})
	if err != nil {
		panic(err)
	}
	r, _ := free.Decode(frames)
	fmt.Println(r.Text, r.GrammarMatched)
	r, _ = free.With(nil, digits).Decode(frames)
	fmt.Println(r.Text, r.GrammarMatched, r.Slot)
	// Output:
	// 四衣 false
	// 四一 true 41
}
