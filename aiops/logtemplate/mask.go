package logtemplate

import (
	"regexp"
	"strings"
)

// Wildcard is the placeholder that stands for a variable part of a line.
const Wildcard = "<*>"

// A Mask replaces one kind of variable text (an IP, a number, a path) with
// Wildcard before the line is tokenised. Masks see the raw content, so they
// can recognise values that whitespace splitting would not isolate
// ("10.0.0.1:50010," or "rhost=host-1.example.net").
type Mask struct {
	Name string
	re   *regexp.Regexp
	// repl expands the match (as regexp.Expand does); "" means Wildcard.
	repl string
	// keep, if set, vets a match: the core regexp cannot express the
	// boundaries we want because Go's regexp has no look-around.
	keep func(s string, start, end int) bool
	// slash lets the match absorb a '/' that opens a whitespace-separated
	// token ("/10.0.0.1:50010" is one value, not a path and an address).
	slash bool
	// need, if set, is a cheap test every match's text passes (a digit, a
	// '/'): the regexp runs only on the space-separated tokens that pass it,
	// or, with spaces, only if the whole line passes it. Regexp
	// backtracking is nearly all of the miner's time, and most tokens are
	// words no numeric mask can match.
	need func(string) bool
	// spaces says a match may hold white space (dates like "Jun 17
	// 07:07:00"), so the mask runs on the whole line.
	spaces bool
}

// NewMask builds a mask from a regular expression and a replacement
// template (regexp.Expand syntax; "" means Wildcard).
func NewMask(name, expr, repl string) (Mask, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return Mask{}, err
	}
	return Mask{Name: name, re: re, repl: repl}, nil
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func isAlnum(b byte) bool { return b != '_' && isWordByte(b) }

// standalone accepts a match not glued to letters, digits or a '.' (so
// "ssh2", "e820" and "1.2.3" parts are not numbers on their own).
func standalone(s string, start, end int) bool {
	if start > 0 && (isWordByte(s[start-1]) || s[start-1] == '.') {
		return false
	}
	if end < len(s) && (isWordByte(s[end]) || end+1 < len(s) && s[end] == '.' && isAlnum(s[end+1])) {
		return false
	}
	return true
}

// alnumBounded accepts a match with no letter or digit on either side.
func alnumBounded(s string, start, end int) bool {
	return (start == 0 || !isAlnum(s[start-1])) && (end == len(s) || !isAlnum(s[end]))
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// tokenStart accepts a match that begins a token: at the start, after
// white space, or after a quote, bracket or '='.
func tokenStart(s string, start, _ int) bool {
	return start == 0 || strings.IndexByte(" \t=\"'([{,", s[start-1]) >= 0
}

// DefaultMasks is the one generic masking table: values almost every
// system prints and that never carry the meaning of the event. Order
// matters: the more specific shapes (URLs, addresses, ids) come before
// the plain numbers they contain.
func DefaultMasks() []Mask {
	// Most masks match only text with a digit in it.
	m := func(name, expr, repl string, keep func(string, int, int) bool) Mask {
		return Mask{Name: name, re: regexp.MustCompile(expr), repl: repl, keep: keep, need: hasDigit}
	}
	with := func(mk Mask, need func(string) bool) Mask { mk.need = need; return mk }
	contains := func(sub string) func(string) bool { return func(s string) bool { return strings.Contains(s, sub) } }
	spaced := func(mk Mask) Mask { mk.spaces = true; return mk }
	ip := m("ipport", `\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}`, Wildcard+":"+Wildcard, standalone)
	ip.slash = true
	ip4 := m("ip", `\d{1,3}(?:\.\d{1,3}){3}`, "", standalone)
	ip4.slash = true
	return []Mask{
		// scheme://anything keeps the scheme: "hdfs://<*>".
		with(m("url", `([A-Za-z][\w+.-]*://)[^\s\]\)"'>,]+`, "${1}"+Wildcard, nil), contains("://")),
		// key=value whose value holds a digit: "uid=0", "rhost=1-2-3-4.isp.net".
		m("kv", `(\w+)=[^\s,;\)\]"']*\d[^\s,;\)\]"']*`, "${1}="+Wildcard, nil),
		with(m("uuid", `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`, "", alnumBounded), contains("-")),
		// Dates and times, before their numbers are masked one by one.
		spaced(m("datetime", `\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?`, "", alnumBounded)),
		spaced(m("syslogtime", `(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2},?\s+(?:\d{4}\s+)?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s+\d{4})?`, "", alnumBounded)),
		m("date", `\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}`, "", alnumBounded),
		m("time", `\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?`, "", alnumBounded),
		ip, ip4,
		m("ipv6", `(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}`, "", func(s string, a, b int) bool {
			return alnumBounded(s, a, b) && hasDigit(s[a:b]) && strings.Count(s[a:b], ":") >= 3
		}),
		with(m("mac", `[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}`, "", alnumBounded), contains(":")),
		m("hex", `0[xX][0-9a-fA-F]+`, "", alnumBounded),
		// Bare hex ids (session ids, hashes): long, and at least one digit
		// so that plain words ("deadbeef" aside) survive.
		m("hexid", `[0-9a-fA-F]{8,}`, "", func(s string, a, b int) bool {
			if !strings.ContainsAny(s[a:b], "abcdefABCDEF") {
				return false
			}
			return alnumBounded(s, a, b) && hasDigit(s[a:b])
		}),
		// Identifiers with numeric parts: blk_-123, rdd_4_2, attempt_2017_0001_m_01_3, x86_64.
		m("numid", `[A-Za-z][A-Za-z0-9]*(?:[_-]+[A-Za-z0-9]*)*[_-]+-?\d+(?:[_-]+[A-Za-z0-9]+)*`, "", func(s string, a, b int) bool {
			return alnumBounded(s, a, b) && (a == 0 || s[a-1] != '.') && (b == len(s) || s[b] != '.')
		}),
		// Absolute paths, which start a token: Unix, and Windows drive or
		// UNC paths (their depth varies, so their shape must not count).
		with(m("path", `/[\w.@%~+:/-]*[\w@%~+/-]`, "", tokenStart), contains("/")),
		with(m("winpath", `(?:[A-Za-z]:|\\\\[\w.$-]+)\\[^\s"'<>|]*`, "", tokenStart), contains(`\`)),
		m("size", `\d+(?:\.\d+)?(?:[KMGTP]i?B|[KMGTP]|[kK]?bytes|B)`, "", alnumBounded),
		m("duration", `\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|h)`, "", alnumBounded),
		m("number", `[-+]?\d+(?:[.,]\d+)*`, "", standalone),
	}
}

// Masker applies an ordered table of masks.
type Masker struct{ masks []Mask }

// NewMasker returns a masker over masks; nil means DefaultMasks.
func NewMasker(masks []Mask) *Masker {
	if masks == nil {
		masks = DefaultMasks()
	}
	return &Masker{masks: masks}
}

// Mask replaces every variable value in s with Wildcard.
func (mk *Masker) Mask(s string) string {
	for _, m := range mk.masks {
		s = m.apply(s)
	}
	return s
}

func (m Mask) apply(s string) string {
	switch {
	case m.need == nil:
		return m.applyAll(s)
	case m.spaces:
		if !m.need(s) {
			return s
		}
		return m.applyAll(s)
	}
	// No match holds white space, so each token is masked on its own; the
	// keep tests see white space where the token ends either way.
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		if tok := s[i:j]; tok != "" && m.need(tok) {
			if r := m.applyAll(tok); r != tok {
				b.WriteString(s[last:i])
				b.WriteString(r)
				last = j
			}
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// applyAll masks every match in s.
func (m Mask) applyAll(s string) string {
	idx := m.re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range idx {
		start, end := loc[0], loc[1]
		if start < last || s[start:end] == "" {
			continue
		}
		// A match inside an earlier placeholder ("<*>") is no value.
		if m.keep != nil && !m.keep(s, start, end) {
			continue
		}
		if m.slash && start > 0 && s[start-1] == '/' && (start == 1 || s[start-2] == ' ' || s[start-2] == '\t') {
			start--
		}
		b.WriteString(s[last:start])
		if m.repl == "" {
			b.WriteString(Wildcard)
		} else {
			b.Write(m.re.ExpandString(nil, m.repl, s, loc))
		}
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
