package logtemplate

import "strings"

// shape reduces a token to its structure: each run of word characters
// (letters, digits, '_', wildcards, and '.' or '-' inside the run)
// becomes 'a' and punctuation stays. "rhost=<*>" is "a=a", "rhost=" is
// "a=", "LOGIN(uid=<*>)" is "a(a=a)", "(<*>-54.dsl.example.net)" is "(a)".
func shape(tok string) string {
	var b strings.Builder
	inWord := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		word := isWordByte(c) || c >= 0x80
		if strings.HasPrefix(tok[i:], Wildcard) {
			word = true
			i += len(Wildcard) - 1
		} else if inWord && (c == '.' || c == '-') && i+1 < len(tok) {
			n := tok[i+1]
			word = isWordByte(n) || n >= 0x80 || n == Wildcard[0]
		}
		if word && !inWord {
			b.WriteByte('a')
		} else if !word {
			b.WriteByte(c)
		}
		inWord = word
	}
	return b.String()
}

// hasLetter reports whether tok holds a letter outside its wildcards.
func hasLetter(tok string) bool {
	tok = strings.ReplaceAll(tok, Wildcard, "")
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

// sameShape reports whether a line's token l may stand where a template
// has the constant token t, that is, whether the two look like values of
// one field. A token without letters ("<*>", "<*>:<*>", "(<*>)") is a
// value of any kind; otherwise their shapes must be equal.
//
// Why: Drain's similarity alone joins lines that differ in one token,
// which wrongly merges events whose difference is structural: a field
// present or empty ("rhost=" vs "rhost=<*>"), a word glued to a value
// ("LOGIN(uid=<*>)" vs "(uid=<*>)"). Words of the same shape ("user
// cyrus" vs "user news") still differ as values do.
func sameShape(t, l string) bool {
	if !hasLetter(t) || !hasLetter(l) {
		return true
	}
	return shape(t) == shape(l)
}

// fits reports whether the line token l is an instance of the template
// token t: t's wildcards stand for one or more characters each, and the
// rest is equal ("rhost=<*>" fits "rhost=<*>" and "rhost=localhost", not
// "rhost=").
func fits(t, l string) bool {
	if t == l || t == Wildcard {
		return true
	}
	parts := strings.Split(t, Wildcard)
	if len(parts) == 1 || !strings.HasPrefix(l, parts[0]) {
		return false
	}
	return fitsRest(parts[1:], l[len(parts[0]):])
}

// fitsRest matches s against parts, each preceded by a wildcard.
func fitsRest(parts []string, s string) bool {
	if len(parts) == 1 {
		return len(s) > len(parts[0]) && strings.HasSuffix(s, parts[0])
	}
	for k := 1; k+len(parts[0]) <= len(s); k++ {
		if strings.HasPrefix(s[k:], parts[0]) && fitsRest(parts[1:], s[k+len(parts[0]):]) {
			return true
		}
	}
	return false
}

// generalise returns the token that covers both t and l: one wildcard
// between their common head, cut back to a key or an opening bracket or
// quote, and their common tail, cut back to closing brackets and quotes.
// "rhost=<*>" and "rhost=localhost" give "rhost=<*>", "(usable)" and
// "(reserved)" give "(<*>)", "cyrus" and "news" give "<*>". Anything
// else in common (".../part-1." and ".../part-2.") is taken as part of
// the value, as a path or a sentence's last word is.
func generalise(t, l string) string {
	n := min(len(t), len(l))
	head := 0
	for head < n && t[head] == l[head] {
		head++
	}
	for head > 0 && strings.IndexByte("=:([{'\"", t[head-1]) < 0 {
		head--
	}
	if strings.Contains(t[:head], Wildcard) {
		head = 0
	}
	tail := 0
	for tail < n-head && t[len(t)-1-tail] == l[len(l)-1-tail] {
		tail++
	}
	for tail > 0 && strings.IndexByte(")]}'\"", t[len(t)-tail]) < 0 {
		tail--
	}
	if strings.Contains(t[len(t)-tail:], Wildcard) {
		tail = 0
	}
	return t[:head] + Wildcard + t[len(t)-tail:]
}
