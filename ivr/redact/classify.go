package redact

import (
	"bytes"
	"slices"
	"time"
)

// candidate is a stretch of whole digit groups, normalised to ASCII.
type candidate struct {
	digits []byte // '0'..'9', 'X' possible only as an ID check character
	lens   []int  // digits per group, to check the usual ways of writing
	spoken bool   // some digit was a word: ASR does not group, skip layout checks
	plus   bool   // preceded by '+' (E.164)
	seps   uint8  // sepBit of every separator between its groups
}

// classify says which kind c is and how many leading and trailing digits
// StylePartial keeps. The order matters: a checksum-valid ID beats
// everything, the numbering plan of a phone beats a Luhn hit (a 13-digit
// 86138… is a phone with a country code, not a card).
func classify(c *candidate, now time.Time) (kind Kind, head, tail int, ok bool) {
	d := c.digits
	if len(d) == 18 && validID18(d, now) &&
		(c.spoken || len(c.lens) == 1 || slices.Equal(c.lens, []int{6, 8, 4}) && onlySeps(c, ' ')) {
		return KindCNID, 0, 4, true
	}
	if bytes.IndexByte(d, 'X') >= 0 {
		return 0, 0, 0, false
	}
	if h, ok := phone(c); ok {
		return KindPhone, h, 4, true
	}
	if card(c) {
		return KindBankCard, 0, 4, true
	}
	if len(d) == 15 && len(c.lens) == 1 && !c.plus && validID15(d, now) {
		return KindCNID, 0, 4, true
	}
	return 0, 0, 0, false
}

func onlySeps(c *candidate, allowed byte) bool {
	return c.seps&^sepBit(allowed) == 0
}

// phone recognises mainland mobiles, landlines with area code and E.164
// numbers; head is how many leading digits StylePartial keeps.
func phone(c *candidate) (head int, ok bool) {
	d := c.digits
	prefix := 0
	switch {
	case c.plus && bytes.HasPrefix(d, []byte("86")):
		prefix = 2
	case !c.plus && bytes.HasPrefix(d, []byte("0086")) && len(d) >= 14:
		prefix = 4
	case !c.plus && bytes.HasPrefix(d, []byte("86")) && len(d) == 13 && d[2] == '1':
		prefix = 2
	}
	nat, natLens := d[prefix:], c.lens
	if prefix > 0 {
		switch {
		case c.lens[0] == prefix:
			natLens = c.lens[1:]
		case c.lens[0] > prefix:
			natLens = append([]int{c.lens[0] - prefix}, c.lens[1:]...)
		default:
			prefix, nat = 0, d // the country code would split a group
		}
	}
	// Mainland mobile: 1[3-9] and 11 digits.
	if len(nat) == 11 && nat[0] == '1' && nat[1] >= '3' && nat[1] <= '9' &&
		(prefix > 0 || !c.plus) &&
		(c.spoken || slices.Equal(natLens, []int{11}) || slices.Equal(natLens, []int{3, 4, 4}) || slices.Equal(natLens, []int{3, 8})) {
		return prefix + 3, true
	}
	// Landline: area code 010, 02X or 0[3-9]XX, local number of 7–8 digits
	// not starting 0. The area code must stand apart (a separator, brackets or
	// a country code) unless spoken, so a bare 0-led order number is left.
	if prefix > 0 || !c.plus {
		z := nat
		virtual := 0
		if prefix > 0 && len(nat) > 0 && nat[0] != '0' {
			z = append([]byte{'0'}, nat...)
			virtual = 1
		}
		if a := areaLen(z); a > 0 {
			local := len(z) - a
			okLen := local == 8 || a == 4 && local == 7
			if okLen && z[a] != '0' {
				rest := natLens
				split := c.spoken
				if !split && len(natLens) > 1 && natLens[0] == a-virtual {
					rest = natLens[1:]
					split = len(rest) == 1 || slices.Equal(rest, []int{4, 4}) || slices.Equal(rest, []int{3, 4})
				} else if !split && len(natLens) == 1 && prefix > 0 {
					split = true
				}
				if split {
					return prefix + a - virtual, true
				}
			}
		}
	}
	// E.164 elsewhere: '+', a country code of 1–3 digits, 8–15 digits in all.
	if c.plus && len(d) >= 8 && len(d) <= 15 && d[0] != '0' && (c.spoken || len(c.lens) == 1 || c.lens[0] <= 3) {
		return 0, true
	}
	return 0, false
}

func areaLen(z []byte) int {
	if len(z) < 4 || z[0] != '0' {
		return 0
	}
	switch {
	case z[1] == '1' && z[2] == '0':
		return 3
	case z[1] == '2':
		return 3
	case z[1] >= '3' && z[1] <= '9':
		return 4
	}
	return 0
}

// card recognises a Luhn-valid card number written whole, in groups of 4, or
// 4-6-5 / 4-6-4, separated by spaces or by hyphens.
func card(c *candidate) bool {
	d := c.digits
	if c.plus || len(d) < 13 || len(d) > 19 || d[0] == '0' || allSame(d) || !luhn(d) {
		return false
	}
	if c.spoken || len(c.lens) == 1 {
		return true
	}
	if !onlySeps(c, ' ') && !onlySeps(c, '-') {
		return false
	}
	if slices.Equal(c.lens, []int{4, 6, 5}) || slices.Equal(c.lens, []int{4, 6, 4}) {
		return true
	}
	for i, n := range c.lens {
		if n != 4 && (i < len(c.lens)-1 || n > 4) {
			return false
		}
	}
	return true
}

func allSame(d []byte) bool {
	for _, b := range d {
		if b != d[0] {
			return false
		}
	}
	return true
}

func luhn(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if (len(d)-1-i)%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// idWeights and idCheck are the GB 11643-1999 (ISO 7064 MOD 11-2) tables.
var (
	idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idCheck   = "10X98765432"
)

func validID18(d []byte, now time.Time) bool {
	sum := 0
	for i := 0; i < 17; i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
		sum += int(d[i]-'0') * idWeights[i]
	}
	if idCheck[sum%11] != d[17] {
		return false
	}
	return province(d) && birthDate(atoi(d[6:10]), atoi(d[10:12]), atoi(d[12:14]), now)
}

// validID15 accepts the legacy 15-digit number (issued until 2004, still
// seen on old accounts): province, YYMMDD birth date in the 1900s, no check
// digit. Without a checksum the province and date are all that keep order
// numbers out, so it is only taken written as one unbroken group.
func validID15(d []byte, now time.Time) bool {
	return province(d) && birthDate(1900+atoi(d[6:8]), atoi(d[8:10]), atoi(d[10:12]), now)
}

func province(d []byte) bool {
	switch atoi(d[:2]) {
	case 11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
		41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
		71, 81, 82, 83, 91:
		return true
	}
	return false
}

func birthDate(y, m, d int, now time.Time) bool {
	if y < 1900 || y > now.Year() || m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && t.Month() == time.Month(m) && !t.After(now)
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}
