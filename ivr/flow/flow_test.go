package flow_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/ivr/flow"
)

var labels = []string{"account_problem", "cancel_order", "change_address", "complaint", "delivery_delay", "goodbye", "no", "order_status", "out_of_scope", "payment_problem", "repeat", "return_refund", "talk_to_human", "yes"}

// head is the start of most test flows; their nodes begin at line 6.
const head = "id: t\nversion: 1\nstart: a\nprompts: {p: {zh: 你好, en: Hi}}\nnodes:\n"

// check parses and validates src as t.yaml and returns the problems as
// file:line:col lines.
func check(t *testing.T, dir, src string) []string {
	t.Helper()
	name := filepath.Join(dir, "t.yaml")
	f, err := flow.Parse(name, []byte(src))
	var probs flow.Problems
	if err != nil {
		var ok bool
		if probs, ok = err.(flow.Problems); !ok {
			t.Fatalf("Parse: %v", err)
		}
	} else {
		probs = f.Validate(flow.Options{Intents: labels})
	}
	var out []string
	for _, p := range probs {
		out = append(out, strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
	}
	return out
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.wav"), []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"clean", head + "  a: {kind: say, prompt: p, next: b}\n  b: {kind: hangup}\n", nil},
		{"yaml syntax", "id: t\nnodes: [\n", []string{"t.yaml:2: did not find expected node content"}},
		{"duplicate key", head + "  a:\n    kind: say\n    next: b\n    next: b\n  b: {kind: hangup}\n",
			[]string{`t.yaml:9:5: duplicate key "next" (first at line 8)`}},
		{"wrong type", head + "  a:\n    kind: say\n    next: [b]\n  b: {kind: hangup}\n",
			[]string{"t.yaml:8: cannot unmarshal !!seq into string"}},
		{"missing start", "id: t\nversion: 1\nnodes:\n  a: {kind: hangup}\n",
			[]string{"t.yaml:1:1: missing start"}},
		{"unknown start", strings.Replace(head, "start: a", "start: x", 1) + "  a: {kind: hangup}\n",
			[]string{`t.yaml:3:8: start: unknown node "x"`, `t.yaml:4:11: warning: prompt "p" is never used`}},
		{"unknown kind and field", head + "  a: {kind: play, next: b}\n  b: {kind: hangup, next: a}\n",
			[]string{`t.yaml:4:11: warning: prompt "p" is never used`,
				`t.yaml:6:13: node "a": unknown kind "play" (want say, ask, branch, lookup, answer, ticket, transfer, hangup)`,
				`t.yaml:7:21: unknown field "next" in a hangup node (want kind, prompt)`}},
		{"unknown top-level field", "id: t\nversion: 1\nstart: a\nnode: {}\nnodes:\n  a: {kind: hangup}\n",
			[]string{`t.yaml:4:1: unknown field "node" in a flow (want id, version, language, fallback, start, prompts, nodes)`}},
		{"unknown target", head + "  a: {kind: say, prompt: p, next: nowhere}\n",
			[]string{`t.yaml:6:35: node "a": unknown target "nowhere"`}},
		{"unreachable", head + "  a: {kind: hangup, prompt: p}\n  b: {kind: hangup}\n",
			[]string{`t.yaml:7:3: node "b" is unreachable from start "a"`}},
		{"say loop", head + "  a: {kind: say, prompt: p, next: b}\n  b: {kind: say, prompt: p, next: a}\n",
			[]string{`t.yaml:6:3: loop with no exit: nodes "a", "b" lead to each other and never reach a hangup or transfer`}},
		{"ask reprompts forever", head + "  a:\n    kind: ask\n    prompt: p\n    dtmf: {\"9\": a}\n",
			[]string{`t.yaml:6:3: node "a": no_input has no then: the caller would be reprompted forever`,
				`t.yaml:6:3: node "a": no_match has no then: the caller would be reprompted forever`,
				`t.yaml:6:3: loop with no exit: node "a" repeats itself and can never reach a hangup or transfer`}},
		{"missing prompt", head + "  a: {kind: say, prompt: nope, next: b}\n  b: {kind: hangup}\n",
			[]string{`t.yaml:4:11: warning: prompt "p" is never used`, `t.yaml:6:26: node "a": unknown prompt "nope"`}},
		{"prompt without the flow's language", "id: t\nversion: 1\nstart: a\nprompts:\n  p: {en: Hi}\nnodes:\n  a: {kind: hangup, prompt: p}\n",
			[]string{`t.yaml:5:3: prompt "p" has no zh text`}},
		{"missing wav", "id: t\nversion: 1\nstart: a\nprompts:\n  p: {wav: nope.wav}\n  q: {wav: hello.wav}\nnodes:\n  a: {kind: say, prompt: q, next: b}\n  b: {kind: hangup, prompt: p}\n",
			[]string{`t.yaml:5:12: prompt "p": wav file nope.wav does not exist`}},
		{"unknown intent", head + "  a:\n    kind: ask\n    prompt: p\n    expect: {intents: [wat]}\n    intents: {refund: b}\n    next: b\n    no_input: {then: b}\n    no_match: {then: b}\n  b: {kind: hangup}\n",
			[]string{`t.yaml:9:24: node "a": unknown intent "wat"`, `t.yaml:10:15: node "a": unknown intent "refund"`}},
		{"bad digit grammars", head +
			"  a:\n    kind: ask\n    prompt: p\n    expect: {digits: {min: 6, max: 4}}\n    next: b\n    no_input: {then: b}\n    no_match: {then: b}\n" +
			"  b:\n    kind: ask\n    prompt: p\n    expect: {digits: {min: 4, max: 40}}\n    next: c\n    no_input: {then: c}\n    no_match: {then: c}\n  c: {kind: hangup}\n",
			[]string{`t.yaml:9:22: node "a": digits min 6 is more than max 4`, `t.yaml:16:22: node "b": digits max 40 is more than 32`}},
		{"unknown template variable", head + "  a:\n    kind: answer\n    text: {zh: \"订单{order}\", en: \"order {order}\"}\n    next: b\n  b: {kind: hangup, prompt: p}\n",
			[]string{`t.yaml:8:16: warning: node "a": no slot or lookup output defines {order}`, `t.yaml:8:33: warning: node "a": no slot or lookup output defines {order}`}},
		{"template from a lookup", head + "  a: {kind: lookup, system: orders, outputs: {order: id}, next: b, on_error: b}\n  b:\n    kind: answer\n    text: {zh: \"订单{order}\", en: \"order {order}\"}\n    next: c\n  c: {kind: hangup, prompt: p}\n", nil},
		{"bad branch", head + "  a:\n    kind: branch\n    cases:\n      - {if: intent ~ yes, then: b}\n      - {if: intent == wat, then: b}\n    default: b\n  b: {kind: hangup, prompt: p}\n",
			[]string{`t.yaml:9:14: node "a": condition "intent ~ yes": want VAR == V, VAR != V, VAR in [A, B] or VAR exists`,
				`t.yaml:10:14: node "a": unknown intent "wat"`}},
		{"transfer needs on_no_agent", head + "  a: {kind: transfer, group: general}\n",
			[]string{`t.yaml:4:11: warning: prompt "p" is never used`, `t.yaml:6:3: node "a": transfer node needs on_no_agent`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, dir, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDemoFlowValidates(t *testing.T) {
	f, err := flow.Load("../flows/ecommerce.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if probs := f.Validate(flow.Options{Intents: labels}); len(probs) > 0 {
		t.Errorf("ecommerce.yaml:\n%v", probs)
	}
}

// allKinds has a node of every kind and every field.
const allKinds = `id: all
version: 7
language: zh
fallback: en
start: menu
prompts:
  p: {zh: "你好 {caller}", en: Hello}
  w: {wav: hello.wav}
nodes:
  menu:
    kind: ask
    prompt: p
    reprompt: w
    expect: {intents: [yes], phrases: [订单], boost: 1.5, digits: {min: 10, max: 10}, beam: 4}
    slot: order_no
    confidence: 0.7
    timeout: 5s
    dtmf: {"1": look, "0": human}
    intents: {talk_to_human: human}
    next: route
    no_input: {max: 2, then: human}
    no_match: {max: 3, then: human}
  route:
    kind: branch
    cases:
      - {if: intent == yes, then: look}
      - {if: "order_no in [1, 2]", then: hello}
    default: human
  hello: {kind: say, prompt: p, next: look}
  look:
    kind: lookup
    system: orders
    method: GET
    path: /orders/{order_no}
    inputs: {id: order_no}
    outputs: {state: status}
    timeout: 2s
    next: tell
    on_error: file
  tell: {kind: answer, text: {zh: "状态 {state}", en: "state {state}"}, next: file}
  file: {kind: ticket, subject: "s {order_no}", description: d, category: nlu, transcript: true, next: human, on_error: human}
  human: {kind: transfer, group: general, announce: p, max_wait: 3m, on_no_agent: bye}
  bye: {kind: hangup, prompt: w}
`

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.wav"), []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "all.yaml")
	f, err := flow.Parse(name, []byte(allKinds))
	if err != nil {
		t.Fatal(err)
	}
	if probs := f.Validate(flow.Options{Intents: labels}); len(probs) > 0 {
		t.Fatalf("Validate:\n%v", probs)
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := flow.Parse(name, b)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v\n%s", err, b)
	}
	if probs := g.Validate(flow.Options{Intents: labels}); len(probs) > 0 {
		t.Fatalf("Validate(Marshal):\n%v", probs)
	}
	b2, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Errorf("second round trip differs:\n%s\n---\n%s", b, b2)
	}
	// Marshal drops nothing: every field set above comes back.
	for _, s := range []string{"kind: say", "kind: ask", "kind: branch", "kind: lookup", "kind: answer", "kind: ticket", "kind: transfer", "kind: hangup",
		"beam: 4", "boost: 1.5", "confidence: 0.7", "timeout: 5s", "max_wait: 3m0s", "transcript: true", "wav: hello.wav", "on_no_agent: bye", "slot: order_no"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("Marshal lost %q", s)
		}
	}
	if g.Nodes["menu"].Expect.Digits.Max != 10 || g.Nodes["route"].Cases[1].If != "order_no in [1, 2]" || g.Nodes["look"].Outputs["state"] != "status" {
		t.Errorf("round trip changed values: %+v", g.Nodes)
	}
}

func TestParseCondition(t *testing.T) {
	tests := []struct {
		in   string
		want flow.Condition
		vars map[string]string
		eval bool
	}{
		{"intent == yes", flow.Condition{Var: "intent", Op: "==", Values: []string{"yes"}}, map[string]string{"intent": "yes"}, true},
		{"state != 'shipped'", flow.Condition{Var: "state", Op: "!=", Values: []string{"shipped"}}, map[string]string{}, false},
		{`intent in [a, "b"]`, flow.Condition{Var: "intent", Op: "in", Values: []string{"a", "b"}}, map[string]string{"intent": "b"}, true},
		{"order_no exists", flow.Condition{Var: "order_no", Op: "exists"}, map[string]string{"order_no": ""}, false},
	}
	for _, tt := range tests {
		got, err := flow.ParseCondition(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCondition(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if e := got.Eval(tt.vars); e != tt.eval {
			t.Errorf("%q.Eval(%v) = %v", tt.in, tt.vars, e)
		}
	}
}
