package tokenize_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/tokenize"
)

// goldenMaxLen is the card max_length the goldens were written with
// (training/switchboard_training/golden.py --max-length).
const goldenMaxLen = 128

type goldenRow struct {
	Text string  `json:"text"`
	IDs  []int64 `json:"ids"`
}

func readGolden(t testing.TB, path string) []goldenRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []goldenRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var r goldenRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return rows
}

// goldens pairs testdata/X.golden.jsonl with testdata/X.tokenizer.json.
func goldens(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.golden.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.golden.jsonl (err %v)", err)
	}
	out := map[string]string{}
	for _, g := range files {
		out[g] = strings.TrimSuffix(g, ".golden.jsonl") + ".tokenizer.json"
	}
	return out
}

// TestGolden checks Encode against ids written by Python `tokenizers`
// (training/switchboard_training/golden.py) for every golden row.
func TestGolden(t *testing.T) {
	for golden, tokFile := range goldens(t) {
		t.Run(filepath.Base(golden), func(t *testing.T) {
			tk, err := tokenize.Load(tokFile, goldenMaxLen)
			if err != nil {
				t.Fatal(err)
			}
			rows := readGolden(t, golden)
			bad := 0
			for i, r := range rows {
				got, err := tk.Encode(r.Text)
				if err != nil {
					t.Errorf("row %d %q: %v", i+1, r.Text, err)
					bad++
					continue
				}
				if slices.Equal(got, r.IDs) {
					continue
				}
				bad++
				if bad <= 10 {
					t.Errorf("row %d %q:\n  python %v\n  go     %v\n  first difference at index %d", i+1, r.Text, r.IDs, got, firstDiff(got, r.IDs))
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d rows differ from Python", bad, len(rows))
			}
		})
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func loadTest(t testing.TB, maxLen int) *tokenize.Tokenizer {
	t.Helper()
	tk, err := tokenize.Load("testdata/test.tokenizer.json", maxLen)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestEncodeBadInput pins the defined results for inputs a caller may send.
func TestEncodeBadInput(t *testing.T) {
	tk := loadTest(t, goldenMaxLen)
	const cls, sep = 2, 3
	enc := func(s string) []int64 {
		ids, err := tk.Encode(s)
		if err != nil {
			t.Fatalf("Encode(%.40q): %v", s, err)
		}
		return ids
	}
	long := strings.Repeat("我的订单 where is my order? 😀 ", 40000) // ~1.2 MB
	cases := []struct {
		name string
		in   string
		want func(got []int64) error
	}{
		{"empty", "", exactly(cls, sep)},
		{"only whitespace", " \t\n\u3000\u00a0", exactly(cls, sep)},
		{"only controls", "\x00\x01\u200b\ufeff", exactly(cls, sep)},
		{"invalid utf8 is dropped like U+FFFD", "ref\xff\xfeund", sameAs(enc("refund"))},
		{"invalid utf8 alone", "\xff\xfe\xc3", exactly(cls, sep)},
		{"truncated utf8 sequence", "order\xe6\x88", sameAs(enc("order"))},
		{"only emoji", "😀😡👍🏽🇨🇳", framed(cls, sep, 3, goldenMaxLen)},
		{"mixed scripts", "退款 refund Возврат 返品 환불 استرداد", framed(cls, sep, 6, goldenMaxLen)},
		{"1 MB truncated", long, framed(cls, sep, goldenMaxLen, goldenMaxLen)},
		{"1 MB equals its prefix", long, sameAs(enc(long[:4000]))},
		{"1 MB single word", strings.Repeat("a", 1<<20), exactly(cls, 1, sep)},
		{"1 MB of CJK", strings.Repeat("订", 1<<18), framed(cls, sep, goldenMaxLen, goldenMaxLen)},
		{"special token literal kept", "[SEP]", exactly(cls, sep, sep)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got := enc(c.in)
			if err := c.want(got); err != nil {
				t.Errorf("Encode(%.40q) = %v: %v", c.in, got, err)
			}
			// Generous (-race on a shared, loaded machine): the point is
			// that work stops at the truncation length or is linear, not
			// that it is fast; a quadratic path takes minutes here.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Encode(%.40q) took %v", c.in, d)
			}
		})
	}
}

func exactly(want ...int64) func([]int64) error {
	return func(got []int64) error {
		if !slices.Equal(got, want) {
			return fmt.Errorf("want %v", want)
		}
		return nil
	}
}

func sameAs(want []int64) func([]int64) error { return exactly(want...) }

// framed checks [CLS] … [SEP] with a length in [minLen, maxLen].
func framed(cls, sep int64, minLen, maxLen int) func([]int64) error {
	return func(got []int64) error {
		if len(got) < minLen || len(got) > maxLen {
			return fmt.Errorf("length %d not in [%d, %d]", len(got), minLen, maxLen)
		}
		if got[0] != cls || got[len(got)-1] != sep {
			return fmt.Errorf("not framed by %d … %d", cls, sep)
		}
		return nil
	}
}

// TestEncodeConcurrent runs the golden rows from many goroutines at once;
// with -race this also checks the tokenizer shares no mutable state.
func TestEncodeConcurrent(t *testing.T) {
	tk := loadTest(t, goldenMaxLen)
	rows := readGolden(t, "testdata/test.golden.jsonl")
	rows = rows[:min(len(rows), 400)]
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range rows {
				r := rows[(i+g*37)%len(rows)]
				got, err := tk.Encode(r.Text)
				if err == nil && !slices.Equal(got, r.IDs) {
					err = fmt.Errorf("%q: got %v want %v", r.Text, got, r.IDs)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestTruncation checks a smaller max length keeps [CLS] and the final
// [SEP] and is a prefix of the untruncated content.
func TestTruncation(t *testing.T) {
	full := loadTest(t, 512)
	text := strings.Repeat("refund my order 退款 ", 30)
	all, err := full.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, maxLen := range []int{3, 5, 16, 128} {
		tk := loadTest(t, maxLen)
		got, err := tk.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		want := append(slices.Clone(all[:maxLen-1]), all[len(all)-1])
		if !slices.Equal(got, want) {
			t.Errorf("maxLen %d: got %v want %v", maxLen, got, want)
		}
	}
}

func TestPadID(t *testing.T) {
	for file, want := range map[string]int64{
		"testdata/test.tokenizer.json":   0,
		"testdata/minilm.tokenizer.json": 0,
	} {
		tk, err := tokenize.Load(file, 16)
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.PadID(); got != want {
			t.Errorf("%s: PadID %d, want %d", file, got, want)
		}
	}
}

// TestLoadErrors derives broken files from the test tokenizer.
func TestLoadErrors(t *testing.T) {
	raw, err := os.ReadFile("testdata/test.tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name    string
		content string // "" = file missing
		maxLen  int
		want    error
		msg     string
	}{
		{"missing", "", 128, tokenize.ErrInvalid, "no such file"},
		{"not json", "{", 128, tokenize.ErrInvalid, "unexpected end"},
		{"truncated", string(raw[:len(raw)/2]), 128, tokenize.ErrInvalid, ""},
		{"bpe model", edit(func(m map[string]any) { m["model"].(map[string]any)["type"] = "BPE" }), 128, tokenize.ErrUnsupported, "model.type"},
		{"no pre-tokenizer", edit(func(m map[string]any) { m["pre_tokenizer"] = nil }), 128, tokenize.ErrUnsupported, "pre_tokenizer"},
		{"other normalizer", edit(func(m map[string]any) { m["normalizer"] = map[string]any{"type": "NFKC"} }), 128, tokenize.ErrUnsupported, "normalizer NFKC"},
		{"lstrip added token", edit(func(m map[string]any) {
			m["added_tokens"].([]any)[4].(map[string]any)["lstrip"] = true
		}), 128, tokenize.ErrUnsupported, "[MASK]"},
		{"unk not in vocab", edit(func(m map[string]any) { m["model"].(map[string]any)["unk_token"] = "<unk>" }), 128, tokenize.ErrInvalid, "unk_token"},
		{"max length too small", string(raw), 2, tokenize.ErrInvalid, "max length 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			if c.content != "" {
				if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := tokenize.Load(path, c.maxLen)
			if !errors.Is(err, c.want) {
				t.Fatalf("Load: %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Load: %q does not mention %q", err, c.msg)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	tk := loadTest(b, goldenMaxLen)
	for _, c := range []struct{ name, text string }{
		{"short", "我的订单还没到 where is my order?"},
		{"128tokens", strings.Repeat("退款 refund please ", 40)},
		{"1MB", strings.Repeat("我的订单 where is my order? 😀 ", 40000)},
		{"1MBword", strings.Repeat("a", 1<<20)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				if _, err := tk.Encode(c.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestKnown: the English vocabulary knows English words and digits, not
// most Chinese characters.
func TestKnown(t *testing.T) {
	tk, err := tokenize.Load("testdata/minilm.tokenizer.json", 128)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text     string
		min, max float64
	}{
		{"my parcel has not arrived", 1, 1},
		{"", 1, 1},
		{"支付页面一直转圈然后支付失败", 0, 0.5},
		{"订单0123456789物流一直不更新", 0, 0.8},
		{"payment failed 支付失败", 0.3, 0.8},
	}
	for _, tt := range tests {
		ids, err := tk.Encode(tt.text)
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Known(ids); got < tt.min || got > tt.max {
			t.Errorf("Known(%q) = %.2f, want %.2f..%.2f", tt.text, got, tt.min, tt.max)
		}
	}
}
