// Package redact provides a Redactor that masks phone numbers, Chinese
// resident ID numbers, bank card numbers and e-mail addresses in call
// transcripts, ticket texts and log lines (Chinese, English or mixed, typed
// or produced by speech recognition) before they are stored.
//
// How it works: e-mail addresses are found first with an ASCII regular
// expression. The rest of the text is then read as a sequence of digit units
// (ASCII and full-width digits, spoken Chinese digits 零〇洞一幺二两三四五六七八九,
// spoken English digit words "zero"/"oh"/"one" … "nine"), separators (space,
// full-width space, hyphen, dot, parentheses, plus) and everything else, which
// breaks a run. Every unit keeps its byte span in the input, so a number
// spoken as 幺三八零零幺三八零零零 is normalised to 13800138000 for matching
// but masked in place. Candidates are whole groups (digits not split by a
// separator) or consecutive groups of a run, never a slice of a group: an
// 11-digit stretch inside an 18-digit run is not a phone number. Each
// candidate must pass a validator (GB 11643 checksum and birth date for ID
// numbers, Luhn for cards, numbering-plan shape for phones), which is what
// keeps order numbers, amounts, dates, times and versions alone.
//
// Limits: positional Chinese numbers (一千三百), "double eight"/"triple
// zero", commas between spoken digits, spelled-out e-mail addresses ("zhang
// san at example dot com") and non-ASCII e-mail addresses are not
// recognised. A run glued to an ASCII letter or underscore (SN13800138000,
// user_13800138000) is treated as an identifier and left alone.
package redact

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is a category of personal data the Redactor can mask.
type Kind uint8

// The kinds of personal data; the zero value is not a kind.
const (
	KindPhone    Kind = iota + 1 // mainland mobile, landline with area code, E.164
	KindCNID                     // Chinese resident ID number (GB 11643-1999, and 15-digit legacy)
	KindBankCard                 // Luhn-valid card number, 13–19 digits
	KindEmail                    // e-mail address
)

// AllKinds lists every kind, in a stable order.
func AllKinds() []Kind { return []Kind{KindPhone, KindCNID, KindBankCard, KindEmail} }

// String returns the configuration name of k: phone, cn_id, bank_card, email.
func (k Kind) String() string {
	switch k {
	case KindPhone:
		return "phone"
	case KindCNID:
		return "cn_id"
	case KindBankCard:
		return "bank_card"
	case KindEmail:
		return "email"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind returns the Kind whose String is s.
func ParseKind(s string) (Kind, error) {
	for _, k := range AllKinds() {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("redact: kind %q: %w", s, ErrInvalidConfig)
}

func (k Kind) token() string {
	switch k {
	case KindPhone:
		return "[PHONE]"
	case KindCNID:
		return "[CN_ID]"
	case KindBankCard:
		return "[BANK_CARD]"
	}
	return "[EMAIL]"
}

// Style selects how a finding is replaced.
type Style uint8

const (
	// StylePartial, the default, replaces digits with '*' in place and keeps
	// the separators, the last 4 digits of phones, cards and ID numbers, the
	// country prefix and first 3 digits of a mainland mobile (138****8000)
	// and the area code of a landline; an e-mail keeps the first character
	// of its local part and its domain (z***@example.com). Agents can still
	// confirm "the card ending 1234" with the caller.
	StylePartial Style = iota
	// StyleToken replaces the whole finding with [PHONE], [CN_ID],
	// [BANK_CARD] or [EMAIL]; use it where no hint may remain in the text.
	StyleToken
)

// Errors callers can branch on.
var (
	// ErrInvalidConfig reports a Config that Validate rejects.
	ErrInvalidConfig = errors.New("invalid redaction config")
)

// Config says what a Redactor masks and how.
type Config struct {
	// Kinds to mask; empty means all kinds.
	Kinds []Kind
	// Style of the replacement; the zero value is StylePartial.
	Style Style
	// Now bounds plausible birth dates in ID numbers; nil means time.Now.
	Now func() time.Time
}

// Validate reports whether c names only known kinds and styles.
func (c Config) Validate() error {
	for _, k := range c.Kinds {
		if k < KindPhone || k > KindEmail {
			return fmt.Errorf("redact: kind %d: %w", uint8(k), ErrInvalidConfig)
		}
	}
	if c.Style > StyleToken {
		return fmt.Errorf("redact: style %d: %w", uint8(c.Style), ErrInvalidConfig)
	}
	return nil
}

// Finding is one masked value. It never holds the value itself, so it can be
// logged and counted for audits.
type Finding struct {
	Kind Kind
	// Start and End are the byte span of the value in the input text.
	Start, End int
	// Hint is a non-reversible reminder: the last 4 digits (or the check
	// character) of a number, the lower-cased domain of an e-mail.
	Hint string
}

// Redactor masks personal data in text. It is immutable after New and safe
// for concurrent use.
type Redactor struct {
	enabled [KindEmail + 1]bool
	style   Style
	now     func() time.Time
}

// New returns a Redactor for cfg.
func New(cfg Config) (*Redactor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Redactor{style: cfg.Style, now: cfg.Now}
	if r.now == nil {
		r.now = time.Now
	}
	kinds := cfg.Kinds
	if len(kinds) == 0 {
		kinds = AllKinds()
	}
	for _, k := range kinds {
		r.enabled[k] = true
	}
	return r, nil
}

// match is a finding plus what is needed to write its replacement.
type match struct {
	Finding
	units          []unit // digit and separator units, for digit kinds
	keepHead       int    // leading digit units kept by StylePartial
	keepTail       int    // trailing digit units kept by StylePartial
	emailLocalKeep int    // bytes of the local part kept by StylePartial
	atOff          int    // offset of '@' from Start, for e-mail
}

// Redact returns text with every enabled kind masked, and the findings in
// input order. Invalid UTF-8 in text is replaced by U+FFFD, so the result is
// always valid UTF-8 and at most 3×len(text) bytes long (masks never grow a
// value by more than half; only U+FFFD for a stray byte triples it).
func (r *Redactor) Redact(text string) (string, []Finding) {
	var ms []match
	emails := findEmails(text)
	for _, e := range emails {
		if r.enabled[KindEmail] {
			ms = append(ms, e)
		}
	}
	for _, m := range scanNumbers(text, emails, r.now()) {
		if r.enabled[m.Kind] {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		if utf8.ValidString(text) {
			return text, nil
		}
		return strings.ToValidUTF8(text, "\uFFFD"), nil
	}
	slices.SortFunc(ms, func(a, b match) int { return a.Start - b.Start })

	var b strings.Builder
	b.Grow(len(text))
	findings := make([]Finding, 0, len(ms))
	prev := 0
	for _, m := range ms {
		writeValid(&b, text[prev:m.Start])
		r.writeMask(&b, text, m)
		prev = m.End
		findings = append(findings, m.Finding)
	}
	writeValid(&b, text[prev:])
	return b.String(), findings
}

func (r *Redactor) writeMask(b *strings.Builder, text string, m match) {
	if r.style == StyleToken {
		b.WriteString(m.Kind.token())
		return
	}
	if m.Kind == KindEmail {
		b.WriteString(text[m.Start : m.Start+m.emailLocalKeep])
		b.WriteString("***")
		b.WriteString(text[m.Start+m.atOff : m.End])
		return
	}
	ndig := 0
	for _, u := range m.units {
		if u.kind == uDigit {
			ndig++
		}
	}
	i := 0
	for _, u := range m.units {
		if u.kind != uDigit {
			b.WriteString(text[u.start:u.end])
			continue
		}
		if i < m.keepHead || i >= ndig-m.keepTail {
			b.WriteString(text[u.start:u.end])
		} else {
			b.WriteByte('*')
		}
		i++
	}
}

// writeValid writes s with each invalid byte replaced by U+FFFD, so that
// a masked log line can always be stored as UTF-8.
func writeValid(b *strings.Builder, s string) {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
}
