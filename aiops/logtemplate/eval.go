package logtemplate

import (
	"regexp"
	"strings"
)

// GroupingAccuracy is the fraction of lines whose predicted group holds
// exactly the lines of their true group (loghub's GA). truth and pred are
// per-line group keys (templates or ids) of the same length.
func GroupingAccuracy(truth, pred []string) float64 {
	if len(truth) == 0 || len(truth) != len(pred) {
		return 0
	}
	// A true group is correct when all its lines share one predicted
	// group and that group has no other lines.
	predSize := map[string]int{}
	for _, p := range pred {
		predSize[p]++
	}
	type grp struct {
		n     int
		pred  string
		mixed bool
	}
	groups := map[string]*grp{}
	for i, t := range truth {
		g := groups[t]
		if g == nil {
			g = &grp{pred: pred[i]}
			groups[t] = g
		}
		g.n++
		if pred[i] != g.pred {
			g.mixed = true
		}
	}
	correct := 0
	for _, g := range groups {
		if !g.mixed && predSize[g.pred] == g.n {
			correct += g.n
		}
	}
	return float64(correct) / float64(len(truth))
}

// ParsingAccuracy is the fraction of lines whose predicted template equals
// the true one after NormalizeTemplate.
func ParsingAccuracy(truth, pred []string) float64 {
	if len(truth) == 0 || len(truth) != len(pred) {
		return 0
	}
	norm := map[string]string{}
	n := func(s string) string {
		if v, ok := norm[s]; ok {
			return v
		}
		v := NormalizeTemplate(s)
		norm[s] = v
		return v
	}
	correct := 0
	for i := range truth {
		if n(truth[i]) == n(pred[i]) {
			correct++
		}
	}
	return float64(correct) / float64(len(truth))
}

var wildRun = regexp.MustCompile(`<\*>(?:\s*<\*>)+`)

// NormalizeTemplate collapses white space and runs of consecutive
// wildcards, so that templates that differ only there compare equal.
func NormalizeTemplate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return wildRun.ReplaceAllString(s, Wildcard)
}
