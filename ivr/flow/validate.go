package flow

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a flow, at a place in its file. Line or
// Col is 0 when the YAML library did not say.
type Problem struct {
	File    string
	Line    int
	Col     int
	Msg     string
	Warning bool // the flow works, but probably not as meant
}

// String formats the problem as file:line:col: msg, the form editors and
// CI annotate.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of problems; as an error it is the list, one a line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is more than a warning.
func (ps Problems) HasErrors() bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return !p.Warning })
}

func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}

// Options are what Validate checks a flow against besides itself. A nil
// list is not checked.
type Options struct {
	// Intents are the labels of the intent model the flow runs with.
	Intents []string
	// Systems are the configured lookup systems.
	Systems []string
	// Groups are the skill groups calls can be transferred to.
	Groups []string
}

// Validate returns every problem with the flow, errors and warnings,
// ordered by position.
func (f *Flow) Validate(opts Options) Problems {
	c := &checker{f: f, opts: opts, usedPrompts: map[string]bool{}, vars: map[string]bool{}}
	for _, b := range builtins {
		c.vars[b] = true
	}
	for _, n := range f.Nodes {
		if n == nil {
			continue
		}
		if n.Slot != "" {
			c.vars[n.Slot] = true
		}
		for v := range n.Outputs {
			c.vars[v] = true
		}
	}
	c.top()
	c.nodes()
	c.prompts()
	c.graph()
	c.probs.sort()
	return c.probs
}

type checker struct {
	f           *Flow
	opts        Options
	probs       Problems
	usedPrompts map[string]bool
	vars        map[string]bool // defined variables
}

func (c *checker) report(warn bool, at *yaml.Node, format string, args ...any) {
	p := Problem{File: c.f.file, Msg: fmt.Sprintf(format, args...), Warning: warn}
	if at != nil {
		p.Line, p.Col = at.Line, at.Column
	}
	c.probs = append(c.probs, p)
}

func (c *checker) errorf(at *yaml.Node, format string, args ...any) {
	c.report(false, at, format, args...)
}

func (c *checker) warnf(at *yaml.Node, format string, args ...any) {
	c.report(true, at, format, args...)
}

// find walks path (mapping keys; sequence indexes as %d) from the root and
// returns the key and value nodes of its last step; where the path stops
// early it returns the deepest node it reached as both, so a problem is
// reported as near its cause as the file allows.
func (c *checker) find(path ...any) (key, val *yaml.Node) {
	cur := c.f.root
	key = cur
	for _, step := range path {
		var next, nextKey *yaml.Node
		switch s := step.(type) {
		case string:
			if cur.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(cur.Content); i += 2 {
					if cur.Content[i].Value == s {
						nextKey, next = cur.Content[i], cur.Content[i+1]
						break
					}
				}
			}
		case int:
			if cur.Kind == yaml.SequenceNode && s < len(cur.Content) {
				nextKey, next = cur.Content[s], cur.Content[s]
			}
		}
		if next == nil {
			return key, cur
		}
		key, cur = nextKey, next
	}
	return key, cur
}

func (c *checker) val(path ...any) *yaml.Node { _, v := c.find(path...); return v }
func (c *checker) key(path ...any) *yaml.Node { k, _ := c.find(path...); return k }

// known checks a mapping's keys against the fields it may have.
func (c *checker) known(what string, allowed []string, path ...any) {
	m := c.val(path...)
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !slices.Contains(allowed, k.Value) {
			c.errorf(k, "unknown field %q in %s (want %s)", k.Value, what, strings.Join(allowed, ", "))
		}
	}
}

func (c *checker) top() {
	f := c.f
	c.known("a flow", []string{"id", "version", "language", "fallback", "start", "prompts", "nodes"})
	if f.ID == "" {
		c.errorf(f.root, "missing id")
	}
	if f.Version < 1 {
		c.errorf(c.val("version"), "version must be 1 or more")
	}
	if f.Language == f.Fallback {
		c.errorf(c.val("fallback"), "fallback language %q is the flow's language", f.Fallback)
	}
	switch {
	case f.Start == "":
		c.errorf(f.root, "missing start")
	case f.Nodes[f.Start] == nil:
		c.errorf(c.val("start"), "start: unknown node %q", f.Start)
	}
	if len(f.Nodes) == 0 {
		c.errorf(c.key("nodes"), "no nodes")
	}
}

// nodeIDs are the node ids in the order the file gives them, so that
// problems come out in reading order and tests are stable.
func (c *checker) nodeIDs() []string {
	m := c.val("nodes")
	var ids []string
	if m.Kind == yaml.MappingNode && m != c.f.root {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if _, ok := c.f.Nodes[m.Content[i].Value]; ok && !slices.Contains(ids, m.Content[i].Value) {
				ids = append(ids, m.Content[i].Value)
			}
		}
	}
	return ids
}

var fields = map[Kind][]string{
	Say:      {"kind", "prompt", "next"},
	Ask:      {"kind", "prompt", "expect", "slot", "confidence", "timeout", "reprompt", "dtmf", "intents", "next", "no_input", "no_match", "menu"},
	Branch:   {"kind", "cases", "default"},
	Lookup:   {"kind", "system", "method", "path", "inputs", "outputs", "timeout", "next", "on_error"},
	Answer:   {"kind", "text", "next"},
	Ticket:   {"kind", "subject", "description", "category", "transcript", "next", "on_error"},
	Transfer: {"kind", "group", "announce", "max_wait", "on_no_agent"},
	Hangup:   {"kind", "prompt"},
}

func (c *checker) nodes() {
	for _, id := range c.nodeIDs() {
		n := c.f.Nodes[id]
		at := c.key("nodes", id)
		if n == nil {
			c.errorf(at, "node %q is empty", id)
			continue
		}
		allowed, ok := fields[n.Kind]
		if !ok {
			if n.Kind == "" {
				c.errorf(at, "node %q has no kind", id)
			} else {
				names := make([]string, len(kinds))
				for i, k := range kinds {
					names[i] = string(k)
				}
				c.errorf(c.val("nodes", id, "kind"), "node %q: unknown kind %q (want %s)", id, n.Kind, strings.Join(names, ", "))
			}
			continue
		}
		c.known(fmt.Sprintf("a %s node", n.Kind), allowed, "nodes", id)
		nc := nodeChecker{checker: c, id: id, n: n}
		switch n.Kind {
		case Say:
			nc.prompt("prompt", true)
			nc.target("next", true)
		case Ask:
			nc.ask()
		case Branch:
			nc.branch()
		case Lookup:
			nc.lookup()
		case Answer:
			nc.texts("text", n.Text)
			nc.target("next", true)
		case Ticket:
			nc.required("subject", n.Subject)
			nc.template(n.Subject, "subject")
			nc.template(n.Description, "description")
			nc.target("next", true)
			nc.target("on_error", false)
		case Transfer:
			nc.required("group", n.Group)
			if c.opts.Groups != nil && n.Group != "" && !slices.Contains(c.opts.Groups, n.Group) {
				c.errorf(c.val("nodes", id, "group"), "node %q: unknown skill group %q", id, n.Group)
			}
			nc.prompt("announce", false)
			if n.MaxWait < 0 {
				c.errorf(c.val("nodes", id, "max_wait"), "node %q: max_wait is negative", id)
			}
			nc.target("on_no_agent", true)
		case Hangup:
			nc.prompt("prompt", false)
		}
	}
}

type nodeChecker struct {
	*checker
	id string
	n  *Node
}

// at is the value at a path inside the node.
func (nc nodeChecker) at(path ...any) *yaml.Node {
	return nc.val(append([]any{"nodes", nc.id}, path...)...)
}

func (nc nodeChecker) required(field, v string) bool {
	if v == "" {
		nc.errorf(nc.key("nodes", nc.id), "node %q: %s node needs %s", nc.id, nc.n.Kind, field)
		return false
	}
	return true
}

// fieldValue is the string a target or prompt field holds.
func (nc nodeChecker) fieldValue(field string) string {
	n := nc.n
	switch field {
	case "prompt":
		return n.Prompt
	case "reprompt":
		return n.Reprompt
	case "announce":
		return n.Announce
	case "next":
		return n.Next
	case "default":
		return n.Default
	case "on_error":
		return n.OnError
	case "on_no_agent":
		return n.OnNoAgent
	}
	panic("flow: no field " + field)
}

func (nc nodeChecker) target(field string, need bool) {
	v := nc.fieldValue(field)
	if v == "" {
		if need {
			nc.required(field, v)
		}
		return
	}
	nc.ref(v, nc.at(field))
}

// ref checks that a target names a node.
func (nc nodeChecker) ref(target string, at *yaml.Node) {
	if target == "" {
		nc.errorf(at, "node %q: empty target", nc.id)
	} else if _, ok := nc.f.Nodes[target]; !ok {
		nc.errorf(at, "node %q: unknown target %q", nc.id, target)
	}
}

func (nc nodeChecker) prompt(field string, need bool) {
	v := nc.fieldValue(field)
	if v == "" {
		if need {
			nc.required(field, v)
		}
		return
	}
	nc.usedPrompts[v] = true
	if _, ok := nc.f.Prompts[v]; !ok {
		nc.errorf(nc.at(field), "node %q: unknown prompt %q", nc.id, v)
	}
}

func (nc nodeChecker) ask() {
	n := nc.n
	nc.prompt("prompt", true)
	nc.prompt("reprompt", false)
	if n.Next == "" && len(n.DTMF) == 0 && len(n.Intents) == 0 {
		nc.errorf(nc.key("nodes", nc.id), "node %q: ask goes nowhere: give next, dtmf or intents", nc.id)
	}
	nc.target("next", false)
	if n.Confidence < 0 || n.Confidence > 1 {
		nc.errorf(nc.at("confidence"), "node %q: confidence %g is outside 0..1", nc.id, n.Confidence)
	}
	if n.Timeout < 0 {
		nc.errorf(nc.at("timeout"), "node %q: timeout is negative", nc.id)
	}
	for _, d := range sortedKeys(n.DTMF) {
		if len(d) != 1 || !strings.Contains("0123456789*#", d) {
			nc.errorf(nc.key("nodes", nc.id, "dtmf", d), "node %q: %q is not a DTMF key (0-9, *, #)", nc.id, d)
		}
		nc.ref(n.DTMF[d], nc.at("dtmf", d))
	}
	for _, in := range sortedKeys(n.Intents) {
		nc.intent(in, nc.key("nodes", nc.id, "intents", in))
		nc.ref(n.Intents[in], nc.at("intents", in))
	}
	for i, m := range n.Menu {
		if _, ok := n.Intents[m.Intent]; !ok {
			nc.errorf(nc.at("menu", i), "node %q: menu intent %q is not mapped under intents", nc.id, m.Intent)
		}
		at := nc.at("menu", i, "text")
		if m.Text[nc.f.Language] == "" {
			nc.errorf(at, "node %q: menu item %d has no %s text", nc.id, i+1, nc.f.Language)
		}
		for _, lang := range sortedKeys(m.Text) {
			nc.checkTemplate(m.Text[lang], at, fmt.Sprintf("node %q", nc.id))
		}
	}
	if e := n.Expect; e != nil {
		nc.known("expect", []string{"intents", "phrases", "boost", "one_of", "digits", "beam"}, "nodes", nc.id, "expect")
		for i, in := range e.Intents {
			at := nc.at("expect", "intents", i)
			nc.intent(in, at)
			if _, ok := n.Intents[in]; !ok && n.Next == "" {
				nc.errorf(at, "node %q: intent %q leads nowhere: map it under intents or give next", nc.id, in)
			}
		}
		for i, p := range e.Phrases {
			if strings.TrimSpace(p) == "" {
				nc.errorf(nc.at("expect", "phrases", i), "node %q: empty phrase", nc.id)
			}
		}
		for i, p := range e.OneOf {
			if strings.TrimSpace(p) == "" {
				nc.errorf(nc.at("expect", "one_of", i), "node %q: empty phrase", nc.id)
			}
		}
		if e.Boost < 0 || e.Boost > 10 {
			nc.errorf(nc.at("expect", "boost"), "node %q: boost %g is outside 0..10", nc.id, e.Boost)
		}
		if e.Beam < 0 || e.Beam > 64 {
			nc.errorf(nc.at("expect", "beam"), "node %q: beam %d is outside 0..64", nc.id, e.Beam)
		}
		if e.OneOf != nil && e.Digits != nil {
			nc.errorf(nc.at("expect"), "node %q: one_of and digits are both grammars; give one", nc.id)
		}
		if d := e.Digits; d != nil {
			nc.known("digits", []string{"min", "max"}, "nodes", nc.id, "expect", "digits")
			at := nc.at("expect", "digits")
			switch {
			case d.Min < 1:
				nc.errorf(at, "node %q: digits min %d is less than 1", nc.id, d.Min)
			case d.Min > d.Max:
				nc.errorf(at, "node %q: digits min %d is more than max %d", nc.id, d.Min, d.Max)
			case d.Max > MaxDigits:
				nc.errorf(at, "node %q: digits max %d is more than %d", nc.id, d.Max, MaxDigits)
			}
		}
		if (e.Digits != nil || e.OneOf != nil) && n.Next == "" {
			nc.errorf(nc.at("expect"), "node %q: a grammar match needs next", nc.id)
		}
	}
	for _, r := range []struct {
		name string
		r    *Retry
	}{{"no_input", n.NoInput}, {"no_match", n.NoMatch}} {
		if r.r == nil || r.r.Then == "" {
			// The ask would reprompt forever: a silent line or a caller the
			// recogniser cannot follow must end somewhere, usually an agent.
			nc.errorf(nc.key("nodes", nc.id), "node %q: %s has no then: the caller would be reprompted forever", nc.id, r.name)
			continue
		}
		nc.known(r.name, []string{"max", "then"}, "nodes", nc.id, r.name)
		if r.r.Max < 0 {
			nc.errorf(nc.at(r.name, "max"), "node %q: %s max is negative", nc.id, r.name)
		}
		nc.ref(r.r.Then, nc.at(r.name, "then"))
	}
}

func (nc nodeChecker) intent(in string, at *yaml.Node) {
	if nc.opts.Intents != nil && !slices.Contains(nc.opts.Intents, in) {
		nc.errorf(at, "node %q: unknown intent %q", nc.id, in)
	}
}

func (nc nodeChecker) branch() {
	n := nc.n
	if len(n.Cases) == 0 {
		nc.errorf(nc.key("nodes", nc.id), "node %q: branch has no cases", nc.id)
	}
	for i, cs := range n.Cases {
		nc.known("a case", []string{"if", "then"}, "nodes", nc.id, "cases", i)
		at := nc.at("cases", i, "if")
		cond, err := ParseCondition(cs.If)
		if err != nil {
			nc.errorf(at, "node %q: %v", nc.id, err)
		} else {
			nc.variable(cond.Var, at)
			if cond.Var == "intent" {
				for _, v := range cond.Values {
					nc.intent(v, at)
				}
			}
		}
		if cs.Then == "" {
			nc.errorf(nc.at("cases", i), "node %q: case has no then", nc.id)
		} else {
			nc.ref(cs.Then, nc.at("cases", i, "then"))
		}
	}
	nc.target("default", true)
}

func (nc nodeChecker) lookup() {
	n := nc.n
	if nc.required("system", n.System) && nc.opts.Systems != nil && !slices.Contains(nc.opts.Systems, n.System) {
		nc.errorf(nc.at("system"), "node %q: unknown system %q", nc.id, n.System)
	}
	switch strings.ToUpper(n.Method) {
	case "", "GET", "POST":
	default:
		nc.errorf(nc.at("method"), "node %q: method %q: want GET or POST", nc.id, n.Method)
	}
	nc.template(n.Path, "path")
	for _, p := range sortedKeys(n.Inputs) {
		nc.variable(n.Inputs[p], nc.at("inputs", p))
	}
	for _, v := range sortedKeys(n.Outputs) {
		if !identRE.MatchString(v) {
			nc.errorf(nc.key("nodes", nc.id, "outputs", v), "node %q: output %q is not a variable name", nc.id, v)
		}
	}
	if n.Timeout < 0 {
		nc.errorf(nc.at("timeout"), "node %q: timeout is negative", nc.id)
	}
	nc.target("next", true)
	nc.target("on_error", true)
}

// texts checks a per-language template map such as an answer's text.
func (nc nodeChecker) texts(field string, m map[string]string) {
	if m[nc.f.Language] == "" {
		nc.errorf(nc.at(field), "node %q: %s has no %s text", nc.id, field, nc.f.Language)
	}
	if m[nc.f.Fallback] == "" {
		nc.warnf(nc.at(field), "node %q: %s has no %s text", nc.id, field, nc.f.Fallback)
	}
	for _, lang := range sortedKeys(m) {
		nc.template(m[lang], field, lang)
	}
}

func (nc nodeChecker) template(s string, path ...any) {
	nc.checkTemplate(s, nc.at(path...), fmt.Sprintf("node %q", nc.id))
}

func (nc nodeChecker) variable(v string, at *yaml.Node) {
	if !nc.vars[v] {
		nc.warnf(at, "node %q: no slot or lookup output defines variable %q", nc.id, v)
	}
}

var templateRE = regexp.MustCompile(`\{([^{}]*)\}`)

// checkTemplate reports {names} no slot, lookup output or built-in defines:
// the caller would hear the braces, or nothing, in their place.
func (c *checker) checkTemplate(s string, at *yaml.Node, where string) {
	for _, m := range templateRE.FindAllStringSubmatch(s, -1) {
		name := strings.TrimSpace(m[1])
		switch {
		case !identRE.MatchString(name):
			c.errorf(at, "%s: bad template %q: want {variable}", where, m[0])
		case !c.vars[name]:
			c.warnf(at, "%s: no slot or lookup output defines {%s}", where, name)
		}
	}
}

func (c *checker) prompts() {
	f := c.f
	m := c.val("prompts")
	if m.Kind != yaml.MappingNode || m == f.root {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		id := m.Content[i].Value
		p, ok := f.Prompts[id]
		if !ok {
			continue
		}
		where := fmt.Sprintf("prompt %q", id)
		if p.WAV != "" {
			if len(p.Text) > 0 {
				c.errorf(m.Content[i], "%s: give text or wav, not both", where)
			}
			if _, err := os.Stat(f.wavPath(p.WAV)); err != nil {
				c.errorf(c.val("prompts", id, "wav"), "%s: wav file %s does not exist", where, p.WAV)
			}
		} else {
			if p.Text[f.Language] == "" {
				c.errorf(m.Content[i], "%s has no %s text", where, f.Language)
			}
			if p.Text[f.Fallback] == "" {
				c.warnf(m.Content[i], "%s has no %s text", where, f.Fallback)
			}
			for _, lang := range sortedKeys(p.Text) {
				c.checkTemplate(p.Text[lang], c.val("prompts", id, lang), where)
			}
		}
		if !c.usedPrompts[id] && id != QueuePositionPrompt {
			c.warnf(m.Content[i], "%s is never used", where)
		}
	}
}

// edges are where each node can go, an ask's reprompt to itself included,
// counting only targets that exist.
func (c *checker) edges() map[string][]string {
	g := map[string][]string{}
	for id, n := range c.f.Nodes {
		if n == nil {
			continue
		}
		var out []string
		if n.Kind == Ask {
			out = append(out, id)
		}
		for _, t := range n.Targets() {
			if _, ok := c.f.Nodes[t]; ok {
				out = append(out, t)
			}
		}
		g[id] = out
	}
	return g
}

// graph reports nodes the start never leads to, and loops the caller can
// enter but never leave: a set of nodes that reach each other and from
// which no hangup or transfer can be reached.
func (c *checker) graph() {
	f := c.f
	g := c.edges()
	ids := c.nodeIDs()
	if f.Nodes[f.Start] != nil {
		seen := map[string]bool{f.Start: true}
		queue := []string{f.Start}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			for _, t := range g[id] {
				if !seen[t] {
					seen[t] = true
					queue = append(queue, t)
				}
			}
		}
		for _, id := range ids {
			if !seen[id] {
				c.errorf(c.key("nodes", id), "node %q is unreachable from start %q", id, f.Start)
			}
		}
	}

	// exits: nodes from which a terminal node can be reached.
	rev := map[string][]string{}
	for id, out := range g {
		for _, t := range out {
			rev[t] = append(rev[t], id)
		}
	}
	exits := map[string]bool{}
	var queue []string
	for id, n := range f.Nodes {
		if n != nil && n.Terminal() {
			exits[id] = true
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, p := range rev[id] {
			if !exits[p] {
				exits[p] = true
				queue = append(queue, p)
			}
		}
	}
	order := map[string]int{}
	for i, id := range ids {
		order[id] = i
	}
	for _, scc := range components(ids, g) {
		cyclic := len(scc) > 1 || slices.Contains(g[scc[0]], scc[0])
		if !cyclic || exits[scc[0]] {
			continue // one node in a component reaching an exit means all do
		}
		slices.SortFunc(scc, func(a, b string) int { return order[a] - order[b] })
		c.errorf(c.key("nodes", scc[0]), "loop with no exit: %s never reach a hangup or transfer", describeLoop(scc))
	}
}

func describeLoop(scc []string) string {
	q := make([]string, len(scc))
	for i, id := range scc {
		q[i] = fmt.Sprintf("%q", id)
	}
	if len(q) == 1 {
		return "node " + q[0] + " repeats itself and can"
	}
	return "nodes " + strings.Join(q, ", ") + " lead to each other and"
}

// components returns the strongly connected components of g (Tarjan).
func components(ids []string, g map[string][]string) [][]string {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out [][]string
	var strong func(v string)
	strong = func(v string) {
		index[v] = len(index)
		low[v] = index[v]
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g[v] {
			if _, ok := index[w]; !ok {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var scc []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			out = append(out, scc)
		}
	}
	for _, id := range ids {
		if _, ok := index[id]; !ok {
			strong(id)
		}
	}
	return out
}
