package redact_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/ivr/redact"
)

// now pins the birth-date bound so the ID cases do not age.
func now() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }

// idWithCheck completes 17 digits with their GB 11643-1999 check character.
func idWithCheck(t testing.TB, d17 string) string {
	t.Helper()
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(d17[i]-'0') * w[i]
	}
	return d17 + string("10X98765432"[sum%11])
}

// badCheck returns id with a wrong check character.
func badCheck(id string) string {
	c := id[17]
	n := byte('0')
	if c == '0' {
		n = '1'
	}
	return id[:17] + string(n)
}

func luhnOK(d string) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if (len(d)-1-i)%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// luhnComplete appends the Luhn check digit to prefix.
func luhnComplete(prefix string) string {
	for c := '0'; c <= '9'; c++ {
		if luhnOK(prefix + string(c)) {
			return prefix + string(c)
		}
	}
	panic("unreachable")
}

// luhnBreak changes the last digit so the Luhn check fails.
func luhnBreak(card string) string {
	last := card[len(card)-1]
	return card[:len(card)-1] + string('0'+(last-'0'+1)%10)
}

// group4 writes d in groups of 4 joined by sep.
func group4(d, sep string) string {
	var parts []string
	for len(d) > 4 {
		parts = append(parts, d[:4])
		d = d[4:]
	}
	return strings.Join(append(parts, d), sep)
}

func stars(n int) string { return strings.Repeat("*", n) }

func newRedactor(t testing.TB, cfg redact.Config) *redact.Redactor {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = now
	}
	r, err := redact.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

type redactCase struct {
	name  string
	in    string
	want  string // StylePartial
	kinds []redact.Kind
}

func cases(t testing.TB) []redactCase {
	id := idWithCheck(t, "11010519491231002")
	idX := ""
	for seq := 100; idX == ""; seq++ { // find a real ID whose check is X
		if c := idWithCheck(t, "44030419880808"+string(rune('0'+seq/100%10))+string(rune('0'+seq/10%10))+string(rune('0'+seq%10))); c[17] == 'X' {
			idX = c
		}
	}
	idBadDate := idWithCheck(t, "11010519491331002")     // month 13
	idFuture := idWithCheck(t, "11010520300101002")      // born 2030
	idBadProvince := idWithCheck(t, "00010519491231002") // no province 00
	card16 := luhnComplete("622202123456789")            // UnionPay 62
	card19 := luhnComplete("622848001234567890")
	cardPhone := luhnComplete("621380013800012") // holds 13800138000
	last4 := func(s string) string { return s[len(s)-4:] }
	var (
		P = []redact.Kind{redact.KindPhone}
		I = []redact.Kind{redact.KindCNID}
		C = []redact.Kind{redact.KindBankCard}
		E = []redact.Kind{redact.KindEmail}
	)
	return []redactCase{
		// Phones.
		{"zh mobile", "我的手机号是13800138000，谢谢", "我的手机号是138****8000，谢谢", P},
		{"mobile hyphen", "手机138-0013-8000", "手机138-****-8000", P},
		{"mobile dots", "tel 138.0013.8000.", "tel 138.****.8000.", P},
		{"mobile +86 spaced", "call +86 138 0013 8000 now", "call +86 138 **** 8000 now", P},
		{"mobile 0086", "0086-13800138000", "0086-138****8000", P},
		{"mobile 86 glued", "8613800138000", "86138****8000", P},
		{"mobile 3-8", "手机 139 12345678", "手机 139 ****5678", P},
		{"landline beijing", "座机010-12345678", "座机010-****5678", P},
		{"landline brackets", "office (021) 1234 5678 ext", "office (021) **** 5678 ext", P},
		{"landline 7 digits", "0755-1234567", "0755-***4567", P},
		{"landline +86", "+86 10 1234 5678", "+86 10 **** 5678", P},
		{"e164 us", "reach me at +1 415 555 2671.", "reach me at +* *** *** 2671.", P},
		{"e164 uk", "+44 20 7946 0958", "+** ** **** 0958", P},
		{"e164 glued", "WhatsApp:+4915123456789", "WhatsApp:+*********6789", P},
		{"spoken zh", "号码是幺三八零零幺三八零零零", "号码是幺三八****八零零零", P},
		{"spoken zh variants", "幺三九洞洞两三四五六七", "幺三九****四五六七", P},
		{"spoken en", "my number is one three eight zero zero one three eight zero zero zero ok",
			"my number is one three eight * * * * eight zero zero zero ok", P},
		{"spoken en caps oh", "One Three Eight Oh Oh One Three Eight Oh Oh Oh",
			"One Three Eight * * * * Eight Oh Oh Oh", P},
		{"spoken mixed", "幺三八 0013 8000", "幺三八 **** 8000", P},
		{"full-width", "电话１３８００１３８０００。", "电话１３８****８０００。", P},
		{"two phones", "13800138000 或 13912345678", "138****8000 或 139****5678", []redact.Kind{redact.KindPhone, redact.KindPhone}},
		{"phone then count", "拨打13800138000 3次", "拨打138****8000 3次", P},

		// Phone false positives.
		{"date", "日期 2026-11-24 和 2026.11.24", "日期 2026-11-24 和 2026.11.24", nil},
		{"date time", "2026-11-24 13:00:00 回电", "2026-11-24 13:00:00 回电", nil},
		{"amount", "金额 13,800,138.00 元, ¥1380013.80", "金额 13,800,138.00 元, ¥1380013.80", nil},
		{"version", "版本 v13.8.0013 和 13.8.0013.8000", "版本 v13.8.0013 和 13.8.0013.8000", nil},
		{"12 digits", "订单138001380001", "订单138001380001", nil},
		{"phone in 18-digit run", "流水号123456713800138000", "流水号123456713800138000", nil},
		{"identifier", "SN13800138000 user_13800138000 13800138000abc", "SN13800138000 user_13800138000 13800138000abc", nil},
		{"landline bare", "订单01012345678", "订单01012345678", nil},
		{"plus short", "+1 2345", "+1 2345", nil},
		{"english words", "one of the three cases, done", "one of the three cases, done", nil},

		// ID numbers.
		{"id", "身份证号" + id + "。", "身份证号" + stars(14) + last4(id) + "。", I},
		{"id X", "ID: " + idX, "ID: " + stars(14) + last4(idX), I},
		{"id lower x", "ID " + strings.ToLower(idX) + " ok", "ID " + stars(14) + strings.ToLower(last4(idX)) + " ok", I},
		{"id spaced", id[:6] + " " + id[6:14] + " " + id[14:], stars(6) + " " + stars(8) + " " + last4(id), I},
		{"id full-width", "１１０１０５１９４９１２３１００２" + id[17:], stars(14) + "００２" + id[17:], I},
		{"id bad check", "证件" + badCheck(id), "证件" + badCheck(id), nil},
		{"id bad date", idBadDate, idBadDate, nil},
		{"id future", idFuture, idFuture, nil},
		{"id bad province", idBadProvince, idBadProvince, nil},
		{"id legacy 15", "老身份证110105491231002", "老身份证***********1002", I},
		{"id legacy bad date", "110105491331002", "110105491331002", nil},

		// Cards.
		{"card unionpay", "卡号" + card16 + "谢谢", "卡号" + stars(12) + last4(card16) + "谢谢", C},
		{"card spaced", "card " + group4(card16, " "), "card **** **** **** " + last4(card16), C},
		{"card hyphen 19", group4(card19, "-"), "****-****-****-***" + card19[15:16] + "-" + card19[16:], C},
		{"card amex 4-6-5", "3782 822463 10005", "**** ****** *0005", C},
		{"card full-width", "４１１１１１１１１１１１１１１１", stars(12) + "１１１１", C},
		{"card spoken", "卡号六二二二零二一二三四五六七八九" + card16[15:], "卡号" + stars(12) + "七八九" + card16[15:], C},
		{"card luhn bad", "订单号" + luhnBreak(card16), "订单号" + luhnBreak(card16), nil},
		{"card mixed seps", card16[:4] + " " + card16[4:8] + "-" + card16[8:12] + " " + card16[12:], card16[:4] + " " + card16[4:8] + "-" + card16[8:12] + " " + card16[12:], nil},
		{"card holds phone", "卡" + cardPhone, "卡" + stars(len(cardPhone)-4) + last4(cardPhone), C},
		{"card bad holds phone", "卡" + luhnBreak(cardPhone), "卡" + luhnBreak(cardPhone), nil},
		{"zeros", "0000000000000000", "0000000000000000", nil},

		// E-mail.
		{"email zh glued", "邮箱是zhang.san@example.com谢谢", "邮箱是z***@example.com谢谢", E},
		{"email sentence", "Email: John.Doe+tag@Mail.Example.co.uk.", "Email: J***@Mail.Example.co.uk.", E},
		{"email digits", "QQ邮箱13800138000@qq.com", "QQ邮箱1***@qq.com", E},
		{"email short local", "a@b.cn", "***@b.cn", E},
		{"email invalid", "root@localhost, foo@bar.c, @example.com", "root@localhost, foo@bar.c, @example.com", nil},

		// Several kinds.
		{"ticket", "客户张三，电话138 0013 8000，邮箱zs@example.com，卡号" + card16 + "，身份证" + id + "。",
			"客户张三，电话138 **** 8000，邮箱z***@example.com，卡号" + stars(12) + last4(card16) + "，身份证" + stars(14) + last4(id) + "。",
			[]redact.Kind{redact.KindPhone, redact.KindEmail, redact.KindBankCard, redact.KindCNID}},
	}
}

func kindsOf(fs []redact.Finding) []redact.Kind {
	var ks []redact.Kind
	for _, f := range fs {
		ks = append(ks, f.Kind)
	}
	return ks
}

func TestRedactPartial(t *testing.T) {
	r := newRedactor(t, redact.Config{})
	for _, tc := range cases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, fs := r.Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if !slices.Equal(kindsOf(fs), tc.kinds) {
				t.Errorf("kinds = %v, want %v", kindsOf(fs), tc.kinds)
			}
			checkFindings(t, tc.in, fs)
		})
	}
}

// checkFindings asserts spans are ordered, disjoint, on rune boundaries, and
// that hints do not carry the value.
func checkFindings(t *testing.T, in string, fs []redact.Finding) {
	t.Helper()
	prev := 0
	for _, f := range fs {
		if f.Start < prev || f.End <= f.Start || f.End > len(in) {
			t.Fatalf("bad span %+v (prev end %d, len %d)", f, prev, len(in))
		}
		if !utf8.ValidString(in[f.Start:f.End]) ||
			utf8.ValidString(in) && (!utf8.RuneStart(in[f.Start]) || f.End < len(in) && !utf8.RuneStart(in[f.End])) {
			t.Errorf("span %+v cuts a rune", f)
		}
		if f.Kind != redact.KindEmail && len(f.Hint) > 4 {
			t.Errorf("hint %q longer than 4", f.Hint)
		}
		prev = f.End
	}
}

func TestRedactToken(t *testing.T) {
	r := newRedactor(t, redact.Config{Style: redact.StyleToken})
	tests := []struct{ in, want string }{
		{"电话138-0013-8000，邮箱zhang.san@example.com谢谢", "电话[PHONE]，邮箱[EMAIL]谢谢"},
		{"call +86 138 0013 8000 now", "call [PHONE] now"},
		{"(021) 1234 5678", "[PHONE]"},
		{"卡 3782 822463 10005 身份证 110105491231002", "卡 [BANK_CARD] 身份证 [CN_ID]"},
		{"幺三八零零幺三八零零零", "[PHONE]"},
		{"2026-11-24 order 20261124", "2026-11-24 order 20261124"},
	}
	for _, tc := range tests {
		if got, _ := r.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactKinds(t *testing.T) {
	in := "电话13800138000 邮箱a.b@example.com 卡" + luhnComplete("622202123456789")
	tests := []struct {
		kinds []redact.Kind
		want  []redact.Kind
	}{
		{nil, []redact.Kind{redact.KindPhone, redact.KindEmail, redact.KindBankCard}},
		{[]redact.Kind{redact.KindEmail}, []redact.Kind{redact.KindEmail}},
		{[]redact.Kind{redact.KindPhone, redact.KindBankCard}, []redact.Kind{redact.KindPhone, redact.KindBankCard}},
		{[]redact.Kind{redact.KindCNID}, nil},
	}
	for _, tc := range tests {
		r := newRedactor(t, redact.Config{Kinds: tc.kinds, Style: redact.StyleToken})
		out, fs := r.Redact(in)
		if !slices.Equal(kindsOf(fs), tc.want) {
			t.Errorf("kinds %v: found %v, want %v (%q)", tc.kinds, kindsOf(fs), tc.want, out)
		}
	}
}

func TestRedactIdempotent(t *testing.T) {
	for _, style := range []redact.Style{redact.StylePartial, redact.StyleToken} {
		r := newRedactor(t, redact.Config{Style: style})
		for _, tc := range cases(t) {
			once, _ := r.Redact(tc.in)
			twice, fs := r.Redact(once)
			if twice != once || len(fs) != 0 {
				t.Errorf("style %d %s: second pass %q -> %q (%v)", style, tc.name, once, twice, fs)
			}
		}
	}
}

func TestRedactUTF8(t *testing.T) {
	r := newRedactor(t, redact.Config{})
	tests := []string{
		"\xff13800138000\xfe",
		"电话\xe6\x9d13800138000", // a cut rune right before the digits
		"138\xc0\x800013 8000",
		"邮箱\xffa@b.cn\x80",
		string([]byte{0xe5, 0xb9, 0xba}) + "三八零零幺三八零零零", // 幺 as raw bytes
		"１３８００１３８００" + "\xef\xbc",                       // full-width run ending in half a rune
	}
	for _, in := range tests {
		out, fs := r.Redact(in)
		if !utf8.ValidString(out) {
			t.Errorf("Redact(%q) = %q: invalid UTF-8", in, out)
		}
		checkFindings(t, in, fs)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     redact.Config
		wantErr bool
	}{
		{redact.Config{}, false},
		{redact.Config{Kinds: redact.AllKinds(), Style: redact.StyleToken}, false},
		{redact.Config{Kinds: []redact.Kind{0}}, true},
		{redact.Config{Kinds: []redact.Kind{redact.KindEmail + 1}}, true},
		{redact.Config{Style: 7}, true},
	}
	for _, tc := range tests {
		_, err := redact.New(tc.cfg)
		if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, redact.ErrInvalidConfig) {
			t.Errorf("New(%+v) error = %v, wantErr %v", tc.cfg, err, tc.wantErr)
		}
	}
	for _, k := range redact.AllKinds() {
		if got, err := redact.ParseKind(k.String()); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := redact.ParseKind("passport"); !errors.Is(err, redact.ErrInvalidConfig) {
		t.Errorf("ParseKind(passport) error = %v", err)
	}
}
