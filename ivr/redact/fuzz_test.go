package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/ivr/redact"
)

func FuzzRedact(f *testing.F) {
	for _, tc := range cases(f) {
		f.Add(tc.in)
	}
	f.Add("\xff13800138000\xfe")
	f.Add("+86 (10) 1234 5678 one two three 幺两洞 x X ***")
	partial := newRedactor(f, redact.Config{})
	token := newRedactor(f, redact.Config{Style: redact.StyleToken})
	f.Fuzz(func(t *testing.T, in string) {
		for _, r := range []*redact.Redactor{partial, token} {
			out, fs := r.Redact(in)
			if !utf8.ValidString(out) {
				t.Fatalf("Redact(%q) = %q: invalid UTF-8", in, out)
			}
			// Masks grow a value by at most half; U+FFFD for a stray
			// byte is the only way to triple it.
			if len(out) > 3*len(in) {
				t.Fatalf("Redact(%q) = %q: %d bytes from %d", in, out, len(out), len(in))
			}
			if utf8.ValidString(in) && len(out) > len(in)+len(in)/2 {
				t.Fatalf("Redact(%q) = %q: %d bytes from %d", in, out, len(out), len(in))
			}
			if len(fs) == 0 && out != strings.ToValidUTF8(in, "\uFFFD") {
				t.Fatalf("Redact(%q) = %q without findings", in, out)
			}
			checkFindings(t, in, fs)
		}
	})
}

// ticket is a 2 KB mixed Chinese/English ticket text as built from a call.
func ticket(tb testing.TB) string {
	var b strings.Builder
	para := "客户来电反映：订单号20261124000123的商品未送达，金额¥1,380.50，时间2026-11-24 10:30。" +
		"Caller says please call back on 138-0013-8000 or +1 415 555 2671, e-mail zhang.san@example.com谢谢。" +
		"身份证" + idWithCheck(tb, "11010519491231002") + "，卡号6222 0212 3456 7890 (version 13.8.0)。" +
		"语音识别：号码是幺三八零零幺三八零零零，one three eight zero zero one three eight zero zero zero。\n"
	for b.Len() < 2048 {
		b.WriteString(para)
	}
	return b.String()[:strings.LastIndexByte(b.String()[:2048], '\n')+1]
}

func BenchmarkRedact(b *testing.B) {
	in := ticket(b)
	r := newRedactor(b, redact.Config{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r.Redact(in)
	}
}
