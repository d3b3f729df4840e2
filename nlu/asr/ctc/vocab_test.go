package ctc_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/asr/ctc"
)

func TestReadTokens(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		blank     int
		wantErr   error
		wantMsg   string
		wantSize  int
		wantBlank int
	}{
		{name: "ok", in: "<blk> 0\n▁ 1\na 2\n你 3\n", blank: ctc.DetectBlank, wantSize: 4, wantBlank: 0},
		{name: "blank named <blank>, crlf, blank lines", in: "a 0\r\n\r\n<blank> 1\r\n", blank: ctc.DetectBlank, wantSize: 2, wantBlank: 1},
		{name: "blank from metadata", in: "<unk> 0\na 1\n", blank: 0, wantSize: 2, wantBlank: 0},
		{name: "out of order lines", in: "b 2\n<blk> 0\na 1\n", blank: ctc.DetectBlank, wantSize: 3, wantBlank: 0},
		{name: "duplicate id", in: "<blk> 0\na 1\nb 1\n", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: `id 1 used by "a" and "b"`},
		{name: "duplicate symbol", in: "<blk> 0\na 1\na 2\n", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: `symbol "a" has ids 1 and 2`},
		{name: "gap", in: "<blk> 0\na 1\nb 3\n", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: "id 2 is missing"},
		{name: "no blank", in: "a 0\nb 1\n", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: "no <blk>"},
		{name: "blank out of range", in: "a 0\n", blank: 5, wantErr: ctc.ErrInvalidVocab, wantMsg: "blank id 5"},
		{name: "no id", in: "<blk> 0\nab\n", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: "line 2"},
		{name: "bad id", in: "<blk> 0\na x\n", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: "bad id"},
		{name: "empty", in: "", blank: ctc.DetectBlank, wantErr: ctc.ErrInvalidVocab, wantMsg: "no tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ctc.ReadTokensBlank(strings.NewReader(tt.in), tt.blank)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Size() != tt.wantSize || v.Blank() != tt.wantBlank {
				t.Errorf("size, blank = %d, %d; want %d, %d", v.Size(), v.Blank(), tt.wantSize, tt.wantBlank)
			}
		})
	}
}

func bpeVocab(t *testing.T) *ctc.Vocab {
	t.Helper()
	v, err := ctc.NewVocab([]string{"<blk>", "<sos/eos>", "<unk>", "▁", "▁the", "▁c", "at", "a", "t", "s", "▁yes", "你", "好", "▁four"}, ctc.DetectBlank)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDetokenize(t *testing.T) {
	cv, bv := charVocab(t), bpeVocab(t)
	ids := func(v *ctc.Vocab, syms ...string) []int {
		var out []int
		for _, s := range syms {
			id, ok := v.ID(s)
			if !ok {
				t.Fatalf("no %q", s)
			}
			out = append(out, id)
		}
		return out
	}
	tests := []struct {
		name string
		v    *ctc.Vocab
		ids  []int
		want string
	}{
		{"letters and marker", cv, ids(cv, "y", "e", "s", "▁", "n", "o"), "yes no"},
		{"leading and doubled markers", cv, ids(cv, "▁", "n", "o", "▁", "▁"), "no"},
		{"chinese without spaces", cv, ids(cv, "是", "的"), "是的"},
		{"marker between chinese dropped", cv, ids(cv, "是", "▁", "的"), "是的"},
		{"mixed", cv, ids(cv, "是", "▁", "y", "e", "s", "对"), "是 yes对"},
		{"bpe pieces", bv, ids(bv, "▁the", "▁c", "at", "s", "你", "好"), "the cats你好"},
		{"blank and out of range skipped", cv, append(ids(cv, "<blk>", "是"), 999, -1), "是"},
		{"empty", cv, nil, ""},
	}
	for _, tt := range tests {
		if got := tt.v.Detokenize(tt.ids); got != tt.want {
			t.Errorf("%s: Detokenize = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	cv, bv := charVocab(t), bpeVocab(t)
	upper, err := ctc.NewVocab([]string{"<blk>", "▁YES", "▁NO", "O"}, ctc.DetectBlank)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		v       *ctc.Vocab
		text    string
		want    []string
		wantMsg string // error naming characters
	}{
		{"char english", cv, "Yes  No", []string{"y", "e", "s", "▁", "n", "o"}, ""},
		{"char chinese", cv, "不是", []string{"不", "是"}, ""},
		{"apostrophe", cv, "don't", []string{"d", "o", "n", "'", "t"}, ""},
		{"bpe word pieces", bv, "the cats", []string{"▁the", "▁c", "at", "s"}, ""},
		{"bpe without piece falls back to marker", bv, "yes at", []string{"▁yes", "▁", "at"}, ""},
		{"bpe chinese", bv, "你好", []string{"你", "好"}, ""},
		{"upper-case vocabulary", upper, "yes no", []string{"▁YES", "▁NO"}, ""},
		{"unencodable named", cv, "yes! 好?", nil, `'!', '好', '?'`},
		{"specials are not spelled", cv, "<unk>", nil, `'<'`},
		{"empty", cv, " ", nil, ""},
	}
	for _, tt := range tests {
		ids, err := tt.v.Encode(tt.text)
		if tt.wantMsg != "" {
			if !errors.Is(err, ctc.ErrUnencodable) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s: err = %v, want ErrUnencodable naming %s", tt.name, err, tt.wantMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, id := range ids {
			got = append(got, tt.v.Symbol(id))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Encode(%q) = %q, want %q", tt.name, tt.text, got, tt.want)
		}
	}
}
