package asreval

import (
	"bytes"
	"slices"
	"testing"
)

func TestUnits(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"我的快递", []string{"我", "的", "快", "递"}},
		{"Where is MY parcel?", []string{"where", "is", "my", "parcel"}},
		{"订单 order 一二三", []string{"订", "单", "order", "一", "二", "三"}},
		{"  ", nil},
		{"don't，好的", []string{"don't", "好", "的"}},
	}
	for _, tc := range tests {
		if got := Units(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Units(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAlign(t *testing.T) {
	tests := []struct {
		ref, hyp string
		want     Counts
	}{
		{"我的快递", "我的快递", Counts{Ref: 4}},
		{"我的快递", "我快递", Counts{Ref: 4, Del: 1}},
		{"我的快递", "我的的快递", Counts{Ref: 4, Ins: 1}},
		{"我的快递", "我地快递", Counts{Ref: 4, Sub: 1}},
		{"a b c d", "x b c", Counts{Ref: 4, Sub: 1, Del: 1}},
		{"", "a", Counts{Ins: 1}},
		{"a b", "", Counts{Ref: 2, Del: 2}},
	}
	for _, tc := range tests {
		got := Align(Units(tc.ref), Units(tc.hyp))
		if got != tc.want {
			t.Errorf("Align(%q, %q) = %+v, want %+v", tc.ref, tc.hyp, got, tc.want)
		}
	}
	if r := (Counts{Ref: 4, Sub: 1, Ins: 1}).Rate(); r != 0.5 {
		t.Errorf("Rate = %v, want 0.5", r)
	}
}

func TestWriteTrn(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTrn(&b, []string{"我", "的"}, "utt-1"); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "我 的 (utt-1)\n" {
		t.Errorf("trn line %q", got)
	}
}
