package esstore

import (
	"slices"
	"testing"
)

// The tokenizers are pure functions that search quality hangs on, so they
// get their own table beside the end-to-end search tests.
func TestCJKBigrams(t *testing.T) {
	tests := []struct {
		texts []string
		want  []string
	}{
		{[]string{"退款申请"}, []string{"退款", "款申", "申请"}},
		{[]string{"包裹没到"}, []string{"包裹", "裹没", "没到"}},
		{[]string{"我"}, []string{"我"}},
		{[]string{"SF123 快递，到了吗？"}, []string{"快递", "到了", "了吗"}},
		{[]string{"iPhone退款 ok 好"}, []string{"退款", "好"}},
		{[]string{"退款", "申请"}, []string{"退款", "申请"}}, // no bigram across texts
		{[]string{"パスワード"}, []string{"パス", "スワ", "ワー", "ード"}},
		{[]string{"비밀번호"}, []string{"비밀", "밀번", "번호"}},
		{[]string{"plain English", ""}, nil},
	}
	for _, tt := range tests {
		if got := cjkBigrams(tt.texts...); !slices.Equal(got, tt.want) {
			t.Errorf("cjkBigrams(%q) = %q, want %q", tt.texts, got, tt.want)
		}
	}
}

func TestKeywordTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Refund for iPhone-15, order 12345", []string{"refund", "for", "iphone", "order"}},
		{"申请退款 refund", []string{"refund", "申请", "请退", "退款"}},
		{"我 a 1", nil},
	}
	for _, tt := range tests {
		if got := keywordTerms(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("keywordTerms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
