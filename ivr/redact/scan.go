package redact

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// emailRE is a practical ASCII subset of RFC 5322 addr-spec. Its classes are
// ASCII only, so Chinese text glued to an address (邮箱是a@b.com谢谢) ends the
// match. '*' is left out of the local part on purpose: it is what StylePartial
// writes, and leaving it out keeps redaction idempotent. Immutable.
var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}`)

func findEmails(text string) []match {
	if !strings.Contains(text, "@") {
		return nil
	}
	var ms []match
	for _, loc := range emailRE.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		for s < e && text[s] == '.' { // a sentence dot is not part of the address
			s++
		}
		at := strings.IndexByte(text[s:e], '@')
		if at <= 0 {
			continue
		}
		keep := 0
		if at >= 2 {
			keep = 1
		}
		ms = append(ms, match{
			Finding:        Finding{Kind: KindEmail, Start: s, End: e, Hint: strings.ToLower(text[s+at+1 : e])},
			emailLocalKeep: keep,
			atOff:          at,
		})
	}
	return ms
}

type unitKind uint8

const (
	uBreak unitKind = iota // anything that ends a run
	uDigit
	uSep
	uMask // '*', written by StylePartial
)

// unit is one digit, separator or mask character with its byte span.
type unit struct {
	start, end int
	kind       unitKind
	d          byte // '0'..'9' or 'X' for uDigit; the ASCII form of a separator
	spoken     bool // a digit written as a word or a Chinese numeral
	letterNext bool // for uBreak: it is an ASCII letter or '_'
}

func chineseDigit(r rune) (byte, bool) {
	switch r {
	case '零', '〇', '洞':
		return '0', true
	case '一', '幺':
		return '1', true
	case '二', '两':
		return '2', true
	case '三':
		return '3', true
	case '四':
		return '4', true
	case '五':
		return '5', true
	case '六':
		return '6', true
	case '七':
		return '7', true
	case '八':
		return '8', true
	case '九':
		return '9', true
	}
	return 0, false
}

func englishDigit(w string) (byte, bool) {
	if len(w) < 2 || len(w) > 5 {
		return 0, false
	}
	for i, d := range [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"} {
		if strings.EqualFold(w, d) {
			return byte('0' + i), true
		}
	}
	if strings.EqualFold(w, "oh") {
		return '0', true
	}
	return 0, false
}

func separator(r rune) (byte, bool) {
	switch r {
	case ' ', '\u3000', '\u00a0':
		return ' ', true
	case '-', '－':
		return '-', true
	case '.':
		return '.', true
	case '(', '（':
		return '(', true
	case ')', '）':
		return ')', true
	case '+', '＋':
		return '+', true
	}
	return 0, false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// tokenize turns text outside the e-mail spans into units.
func tokenize(text string, emails []match) []unit {
	us := make([]unit, 0, len(text)/2)
	push := func(u unit) {
		if u.kind == uBreak && len(us) > 0 && us[len(us)-1].kind == uBreak {
			us[len(us)-1].letterNext = us[len(us)-1].letterNext || u.letterNext
			us[len(us)-1].end = u.end
			return
		}
		us = append(us, u)
	}
	ei := 0
	for i := 0; i < len(text); {
		if ei < len(emails) && i >= emails[ei].Start {
			push(unit{start: i, end: emails[ei].End, kind: uBreak})
			i = emails[ei].End
			ei++
			continue
		}
		c := text[i]
		if isWordByte(c) {
			j := i + 1
			for j < len(text) && isWordByte(text[j]) {
				j++
			}
			w := text[i:j]
			if d, ok := englishDigit(w); ok {
				push(unit{start: i, end: j, kind: uDigit, d: d, spoken: true})
			} else if (w == "x" || w == "X") && len(us) > 0 && us[len(us)-1].kind == uDigit &&
				us[len(us)-1].end == i && (j == len(text) || text[j] < '0' || text[j] > '9') {
				// The check character of an ID number; the validator
				// rejects an X anywhere but at position 18.
				push(unit{start: i, end: j, kind: uDigit, d: 'X'})
			} else {
				push(unit{start: i, end: j, kind: uBreak, letterNext: true})
			}
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case c >= '0' && c <= '9':
			push(unit{start: i, end: i + 1, kind: uDigit, d: c})
		case r >= '０' && r <= '９':
			push(unit{start: i, end: i + n, kind: uDigit, d: byte('0' + r - '０')})
		case c == '*':
			push(unit{start: i, end: i + 1, kind: uMask})
		default:
			if d, ok := chineseDigit(r); ok {
				push(unit{start: i, end: i + n, kind: uDigit, d: d, spoken: true})
			} else if s, ok := separator(r); ok {
				push(unit{start: i, end: i + n, kind: uSep, d: s})
			} else {
				push(unit{start: i, end: i + n, kind: uBreak})
			}
		}
		i += n
	}
	return us
}

// sepBit is the bit of an ASCII separator in candidate.seps.
func sepBit(s byte) uint8 {
	return 1 << uint8(strings.IndexByte(" -.()+", s))
}

// group is a stretch of digit (or mask) units with no separator inside.
type group struct {
	first, last int // unit indexes, inclusive
	ndig        int
	mask        bool
	spoken      bool
}

// maxDigits is the longest candidate: a 19-digit card.
const maxDigits = 19

// minDigits is the shortest candidate: an E.164 number of 8 digits.
const minDigits = 8

// maxSepRun is how many separators may stand between two groups of one run,
// enough for "(021) 1234" and "+86 (10)".
const maxSepRun = 2

func scanNumbers(text string, emails []match, now time.Time) []match {
	us := tokenize(text, emails)
	var out []match
	var groups []group
	flush := func() {
		if len(groups) > 0 {
			out = matchRun(text, us, groups, now, out)
		}
		groups = groups[:0]
	}
	seps := 0
	for i := 0; i < len(us); i++ {
		u := us[i]
		switch u.kind {
		case uBreak:
			flush()
			seps = 0
		case uSep:
			seps++
			if seps > maxSepRun {
				flush()
			}
		case uDigit, uMask:
			isMask := u.kind == uMask
			if len(groups) > 0 && seps == 0 && groups[len(groups)-1].mask == isMask {
				g := &groups[len(groups)-1]
				g.last = i
				if !isMask {
					g.ndig++
				}
				g.spoken = g.spoken || u.spoken
			} else {
				g := group{first: i, last: i, mask: isMask, spoken: u.spoken}
				if !isMask {
					g.ndig = 1
				}
				groups = append(groups, g)
			}
			seps = 0
		}
	}
	flush()
	return out
}

// matchRun greedily takes the longest valid candidate from each group on.
func matchRun(text string, us []unit, gs []group, now time.Time, out []match) []match {
	var digits []byte
	var lens []int
	for i := 0; i < len(gs); {
		if gs[i].mask || gs[i].ndig > maxDigits || (i > 0 && gs[i-1].mask) || gluedBefore(text, us[gs[i].first].start) {
			i++
			continue
		}
		// The furthest group a candidate starting at i may reach; the work
		// per group is bounded by maxDigits, so a run costs linear time.
		end, n := i, 0
		var upto [maxDigits + 1]int // digits in groups i..i+k
		for j := i; j < len(gs) && !gs[j].mask; j++ {
			if n+gs[j].ndig > maxDigits {
				break
			}
			n += gs[j].ndig
			upto[j-i] = n
			end = j
		}
		found := false
		for j := end; j >= i; j-- {
			if upto[j-i] < minDigits || j+1 < len(gs) && gs[j+1].mask || gluedAfter(text, us[gs[j].last].end) {
				continue
			}
			digits, lens = digits[:0], lens[:0]
			spoken := false
			var sepSet uint8
			for k := i; k <= j; k++ {
				for x := gs[k].first; x <= gs[k].last; x++ {
					digits = append(digits, us[x].d)
				}
				lens = append(lens, gs[k].ndig)
				spoken = spoken || gs[k].spoken
				if k > i {
					for x := gs[k-1].last + 1; x < gs[k].first; x++ {
						sepSet |= sepBit(us[x].d)
					}
				}
			}
			first := gs[i].first
			plus := false
			for x := first - 1; x >= 0 && x >= first-maxSepRun && us[x].kind == uSep; x-- {
				plus = plus || us[x].d == '+'
			}
			c := candidate{digits: digits, lens: lens, spoken: spoken, plus: plus, seps: sepSet}
			kind, head, tail, ok := classify(&c, now)
			if !ok {
				continue
			}
			start := first
			for start > 0 && us[start-1].kind == uSep && (us[start-1].d == '+' || us[start-1].d == '(') && first-start < maxSepRun {
				start--
			}
			last := gs[j].last
			d := string(digits)
			if len(d) > 4 {
				d = d[len(d)-4:]
			}
			out = append(out, match{
				Finding:  Finding{Kind: kind, Start: us[start].start, End: us[last].end, Hint: d},
				units:    us[start : last+1],
				keepHead: head,
				keepTail: tail,
			})
			found = true
			i = j + 1
			break
		}
		if !found {
			i++
		}
	}
	return out
}

// gluedBefore reports whether the byte before off makes the run part of an
// identifier such as SN13800138000 or user_138….
func gluedBefore(text string, off int) bool {
	return off > 0 && isWordByte(text[off-1])
}

func gluedAfter(text string, off int) bool {
	return off < len(text) && isWordByte(text[off])
}
