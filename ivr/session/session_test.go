package session

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/flow"
)

func testCall(t *testing.T, f *flow.Flow, d Deps) *call {
	t.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	r := &Runner{cfg: Config{}.withDefaults(), d: d, m: m, log: discard()}
	return &call{r: r, f: f, vars: map[string]string{}, lang: f.Language, turnIdx: -1, log: discard()}
}

func TestFill(t *testing.T) {
	c := testCall(t, &flow.Flow{Language: "zh"}, Deps{})
	c.vars["order_no"] = "1234567890"
	c.vars["eta"] = "周三"
	tests := []struct{ in, want string }{
		{"订单{order_no}预计{eta}送达", "订单1234567890预计周三送达"},
		{"{ order_no }", "1234567890"},
		{"unknown {nope}.", "unknown ."},
		{"no braces", "no braces"},
		{"unclosed {order_no", "unclosed {order_no"},
	}
	for _, tt := range tests {
		if got := c.fill(tt.in); got != tt.want {
			t.Errorf("fill(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJoinUtterances(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"我的快递", "三天了还没到"}, "我的快递三天了还没到"},
		{[]string{"my parcel", "has not arrived"}, "my parcel has not arrived"},
		{[]string{"订单", "1234"}, "订单 1234"},
		{[]string{" ", "好的"}, "好的"},
	}
	for _, tt := range tests {
		if got := joinUtterances(tt.in); got != tt.want {
			t.Errorf("joinUtterances(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSwitchLanguage(t *testing.T) {
	tests := []struct {
		start, text, want string
	}{
		{"zh", "where is my order", "en"},
		{"zh", "我的订单", "zh"},
		{"en", "我的订单", "zh"},
		{"zh", "ok", "zh"},                   // too little to tell
		{"zh", "我的 order 呢", "zh"},           // mixed: stays
		{"zh", "dónde está mi pedido", "en"}, // Latin letters; the flow only has zh and en
	}
	for _, tt := range tests {
		c := testCall(t, &flow.Flow{Language: "zh", Fallback: "en"}, Deps{})
		c.lang = tt.start
		c.switchLanguage(tt.text)
		if c.lang != tt.want {
			t.Errorf("%s + %q: language %s, want %s", tt.start, tt.text, c.lang, tt.want)
		}
	}
}

func TestJudgeKeys(t *testing.T) {
	menu := &flow.Node{Kind: flow.Ask, DTMF: map[string]string{"1": "orders", "0": "agent"}, Next: "other"}
	number := &flow.Node{Kind: flow.Ask, Slot: "order_no", Next: "lookup", DTMF: map[string]string{"0": "agent"},
		Expect: &flow.Expect{Digits: &flow.DigitRange{Min: 4, Max: 6}}}
	tests := []struct {
		name     string
		n        *flow.Node
		keys     string
		idle     bool
		wantDone bool
		wantNext string
		wantSlot string
	}{
		{name: "menu key", n: menu, keys: "1", wantDone: true, wantNext: "orders"},
		{name: "unmapped key", n: menu, keys: "7", wantDone: true},
		{name: "stray hash typed ahead", n: menu, keys: "#"},
		{name: "hash then key", n: menu, keys: "#0", wantDone: true, wantNext: "agent"},
		{name: "digits waiting", n: number, keys: "123"},
		{name: "digits with hash", n: number, keys: "1234#", wantDone: true, wantNext: "lookup", wantSlot: "1234"},
		{name: "digits at max", n: number, keys: "123456", wantDone: true, wantNext: "lookup", wantSlot: "123456"},
		{name: "digits idle enough", n: number, keys: "12345", idle: true, wantDone: true, wantNext: "lookup", wantSlot: "12345"},
		{name: "too few then idle", n: number, keys: "12", idle: true, wantDone: true},
		{name: "single mapped key idle", n: number, keys: "0", idle: true, wantDone: true, wantNext: "agent"},
		{name: "star in number", n: number, keys: "12*4#", wantDone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCall(t, &flow.Flow{Language: "zh"}, Deps{})
			l := &listener{keys: []byte(tt.keys)}
			digits := tt.n.Expect != nil && tt.n.Expect.Digits != nil
			v, done := c.judgeKeys("n", tt.n, l, digits, tt.idle)
			if done != tt.wantDone || v.next != tt.wantNext {
				t.Fatalf("done %v next %q, want %v %q", done, v.next, tt.wantDone, tt.wantNext)
			}
			if done && v.next == "" && v.result != "no_match" {
				t.Errorf("result %q, want no_match", v.result)
			}
			if got := c.vars["order_no"]; got != tt.wantSlot {
				t.Errorf("order_no = %q, want %q", got, tt.wantSlot)
			}
			if done && len(c.rec.DTMF) != 1 {
				t.Errorf("key presses recorded: %+v", c.rec.DTMF)
			}
		})
	}
}

type fixedOrder []string

func (o fixedOrder) Order(_ string, intents []string) []string {
	out := slices.Clone([]string(o))
	for _, in := range intents {
		if !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	return out
}

func TestSetMenu(t *testing.T) {
	n := &flow.Node{Kind: flow.Ask, Menu: []flow.MenuItem{
		{Intent: "order_status", Text: map[string]string{"zh": "查询订单请按1，", "en": "Orders: 1. "}},
		{Intent: "delivery_delay", Text: map[string]string{"zh": "物流延误请按2，"}},
		{Intent: "return_refund", Text: map[string]string{"zh": "退货退款请按3，", "en": "Refunds: 3. "}},
	}}
	f := &flow.Flow{Language: "zh", Fallback: "en"}
	c := testCall(t, f, Deps{})
	c.setMenu("menu", n)
	if got, want := c.vars["menu"], "查询订单请按1，物流延误请按2，退货退款请按3，"; got != want {
		t.Errorf("no ranker: %q, want %q", got, want)
	}
	c = testCall(t, f, Deps{Menu: fixedOrder{"return_refund", "delivery_delay"}})
	c.setMenu("menu", n)
	if got, want := c.vars["menu"], "退货退款请按3，物流延误请按2，查询订单请按1，"; got != want {
		t.Errorf("ranked: %q, want %q", got, want)
	}
	c.lang = "en"
	c.setMenu("menu", n)
	if got, want := c.vars["menu"], "Refunds: 3. 物流延误请按2，Orders: 1. "; got != want {
		t.Errorf("english with a missing translation: %q, want %q", got, want)
	}
}

func TestCallerNumber(t *testing.T) {
	for in, want := range map[string]string{
		"sip:13800138000@10.0.0.1:5060":   "13800138000",
		"<sips:alice@example.com>":        "alice",
		"sip:anonymous@anonymous.invalid": "anonymous",
		"tel:+861380013800":               "tel:+861380013800",
	} {
		if got := callerNumber(in); got != want {
			t.Errorf("callerNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
