// Package flow provides the IVR call-flow model: a versioned YAML document
// of prompts and nodes, its parser, and a validator that reports every
// problem with the file, line and column it comes from.
//
// A flow file looks like this (docs/ivr.md has a complete example):
//
//	id: ecommerce            # flow name, used in logs and metrics
//	version: 3               # bumped on every change; >= 1
//	language: zh             # prompts' primary language (default zh)
//	fallback: en             # second language (default en)
//	start: menu              # first node
//	prompts:                 # prompt id → text per language, or a WAV file
//	  welcome: {zh: 您好, en: Hello}
//	  music: {wav: audio/hold.wav}   # relative to the flow file
//	nodes:                   # node id → node; every node has a kind
//	  menu:
//	    kind: ask
//	    prompt: welcome
//	    ...
//
// Node kinds and their fields:
//
//	say       prompt, next
//	ask       prompt, expect {intents, phrases, boost, digits {min, max} | one_of, beam},
//	          slot, confidence, timeout, reprompt, dtmf {digit: node},
//	          intents {intent: node}, next, no_input {max, then}, no_match {max, then},
//	          menu [{intent, text {language: text}}]
//	branch    cases [{if: "intent == x" | "var != v" | "var in [a, b]" | "var exists", then}], default
//	lookup    system, method, path, inputs {param: variable}, outputs {variable: response.field},
//	          timeout, next, on_error
//	answer    text {language: template}, next
//	ticket    subject, description, category (nlu or a fixed category), transcript, next, on_error
//	transfer  group, announce, max_wait, on_no_agent
//	hangup    prompt
//
// An ask routes a DTMF digit through dtmf, a recognised intent through
// intents (intent jumping: the caller who says what they want skips the
// menu), and a grammar match or any other expected intent to next; after
// max silences or misrecognitions in a row it goes to the then node of
// no_input or no_match, and until then it plays reprompt (or prompt) again.
// Texts are templates: {name} is replaced by a slot, a lookup output or a
// built-in variable (intent, confidence, caller, call_id, utterance,
// category, menu, ticket_id, queue_position).
package flow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Kind is a node's kind.
type Kind string

// The node kinds.
const (
	Say      Kind = "say"
	Ask      Kind = "ask"
	Branch   Kind = "branch"
	Lookup   Kind = "lookup"
	Answer   Kind = "answer"
	Ticket   Kind = "ticket"
	Transfer Kind = "transfer"
	Hangup   Kind = "hangup"
)

// Kinds lists every node kind in documentation order.
var kinds = []Kind{Say, Ask, Branch, Lookup, Answer, Ticket, Transfer, Hangup}

// Defaults for the fields a flow may leave out.
const (
	DefaultLanguage = "zh"
	DefaultFallback = "en"
	// CategoryNLU as a ticket's category asks the category model.
	CategoryNLU = "nlu"
)

// QueuePositionPrompt names the prompt a queued caller hears whenever
// their place in the queue changes ({queue_position}), if the flow has it.
const QueuePositionPrompt = "queue_position"

// Builtins are the variables every call has, whatever its flow defines.
var builtins = []string{"intent", "confidence", "caller", "call_id", "utterance", "category", "menu", "ticket_id", "queue_position"}

// Flow is one parsed call flow. Its exported fields mirror the YAML; the
// YAML tree is kept so that Validate can say where each problem is.
type Flow struct {
	ID       string            `yaml:"id"`
	Version  int               `yaml:"version"`
	Language string            `yaml:"language,omitempty"`
	Fallback string            `yaml:"fallback,omitempty"`
	Start    string            `yaml:"start"`
	Prompts  map[string]Prompt `yaml:"prompts,omitempty"`
	Nodes    map[string]*Node  `yaml:"nodes"`

	file string     // name given to Parse, for messages and WAV paths
	root *yaml.Node // the document's top mapping
}

// Prompt is what the caller hears: a text per language, spoken by the
// synthesiser, or a recorded WAV file used for every language.
type Prompt struct {
	Text map[string]string `yaml:",inline"`
	WAV  string            `yaml:"wav,omitempty"`
}

// Node is one step of a flow. It is a union: which fields apply depends on
// Kind, and Validate reports fields that do not.
type Node struct {
	Kind Kind `yaml:"kind"`

	// say, ask, hangup
	Prompt string `yaml:"prompt,omitempty"`
	// say, ask, lookup, answer, ticket
	Next string `yaml:"next,omitempty"`

	// ask
	Expect     *Expect           `yaml:"expect,omitempty"`
	Slot       string            `yaml:"slot,omitempty"`
	Confidence float64           `yaml:"confidence,omitempty"`
	Timeout    time.Duration     `yaml:"timeout,omitempty"` // also lookup
	Reprompt   string            `yaml:"reprompt,omitempty"`
	DTMF       map[string]string `yaml:"dtmf,omitempty"`
	Intents    map[string]string `yaml:"intents,omitempty"`
	NoInput    *Retry            `yaml:"no_input,omitempty"`
	NoMatch    *Retry            `yaml:"no_match,omitempty"`
	Menu       []MenuItem        `yaml:"menu,omitempty"`

	// branch
	Cases   []Case `yaml:"cases,omitempty"`
	Default string `yaml:"default,omitempty"`

	// lookup
	System  string            `yaml:"system,omitempty"`
	Method  string            `yaml:"method,omitempty"`
	Path    string            `yaml:"path,omitempty"`
	Inputs  map[string]string `yaml:"inputs,omitempty"`
	Outputs map[string]string `yaml:"outputs,omitempty"`
	OnError string            `yaml:"on_error,omitempty"` // also ticket

	// answer
	Text map[string]string `yaml:"text,omitempty"`

	// ticket
	Subject     string `yaml:"subject,omitempty"`
	Description string `yaml:"description,omitempty"`
	Category    string `yaml:"category,omitempty"`
	Transcript  bool   `yaml:"transcript,omitempty"`

	// transfer
	Group     string        `yaml:"group,omitempty"`
	Announce  string        `yaml:"announce,omitempty"`
	MaxWait   time.Duration `yaml:"max_wait,omitempty"`
	OnNoAgent string        `yaml:"on_no_agent,omitempty"`
}

// Expect is what an ask listens for. Phrases, Boost, OneOf, Digits and
// Beam have the meaning of the recogniser's asr.Expect, which the runtime
// builds from them; Intents are the NLU intents the ask accepts besides
// the keys of the node's intents map.
type Expect struct {
	Intents []string    `yaml:"intents,omitempty"`
	Phrases []string    `yaml:"phrases,omitempty"`
	Boost   float32     `yaml:"boost,omitempty"`
	OneOf   []string    `yaml:"one_of,omitempty"`
	Digits  *DigitRange `yaml:"digits,omitempty"`
	Beam    int         `yaml:"beam,omitempty"`
}

// MenuItem is one spoken option of an ask's menu. The ask's prompts say
// the options through the {menu} variable, in the order of how often
// callers asked for each intent recently (dynamic menu ordering), so the
// option most callers want is heard first.
type MenuItem struct {
	Intent string            `yaml:"intent"`
	Text   map[string]string `yaml:"text"`
}

// DigitRange is a digit-string grammar: Min..Max digits.
type DigitRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// MaxDigits is the longest digit grammar the recogniser accepts.
const MaxDigits = 32

// Retry says how many silences or misrecognitions in a row an ask
// tolerates (reprompting each time) before it goes to Then.
type Retry struct {
	Max  int    `yaml:"max"`
	Then string `yaml:"then"`
}

// Case is one branch condition and where it leads.
type Case struct {
	If   string `yaml:"if"`
	Then string `yaml:"then"`
}

// Condition is a parsed Case.If: Var Op Values.
type Condition struct {
	Var    string
	Op     string // ==, !=, in, exists
	Values []string
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseCondition reads "var == value", "var != value", "var in [a, b]" or
// "var exists".
func ParseCondition(s string) (Condition, error) {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutSuffix(s, " exists"); ok {
		v = strings.TrimSpace(v)
		if !identRE.MatchString(v) {
			return Condition{}, fmt.Errorf("condition %q: %q is not a variable name", s, v)
		}
		return Condition{Var: v, Op: "exists"}, nil
	}
	for _, op := range []string{"==", "!=", "in"} {
		lhs, rhs, ok := strings.Cut(s, " "+op+" ")
		if !ok {
			continue
		}
		lhs, rhs = strings.TrimSpace(lhs), strings.TrimSpace(rhs)
		if !identRE.MatchString(lhs) {
			return Condition{}, fmt.Errorf("condition %q: %q is not a variable name", s, lhs)
		}
		var vals []string
		if op == "in" {
			inner, ok := strings.CutPrefix(rhs, "[")
			if inner, ok = strings.CutSuffix(inner, "]"); !ok {
				return Condition{}, fmt.Errorf("condition %q: in wants a list [a, b]", s)
			}
			for _, v := range strings.Split(inner, ",") {
				if v = unquote(v); v != "" {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				return Condition{}, fmt.Errorf("condition %q: empty list", s)
			}
		} else {
			if rhs = unquote(rhs); rhs == "" {
				return Condition{}, fmt.Errorf("condition %q: no value after %s", s, op)
			}
			vals = []string{rhs}
		}
		return Condition{Var: lhs, Op: op, Values: vals}, nil
	}
	return Condition{}, fmt.Errorf("condition %q: want VAR == V, VAR != V, VAR in [A, B] or VAR exists", s)
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// Eval reports whether the condition holds for a call's variables; an
// absent variable is neither equal nor unequal to anything, so that a
// branch on a lookup that failed falls through to the default.
func (c Condition) Eval(vars map[string]string) bool {
	v, ok := vars[c.Var]
	switch c.Op {
	case "exists":
		return ok && v != ""
	case "==":
		return ok && v == c.Values[0]
	case "!=":
		return ok && v != c.Values[0]
	case "in":
		return ok && slices.Contains(c.Values, v)
	}
	return false
}

// Targets returns the nodes n can go to, in field order; an ask's implicit
// reprompt (to itself) is not included.
func (n *Node) Targets() []string {
	var t []string
	add := func(s ...string) {
		for _, x := range s {
			if x != "" {
				t = append(t, x)
			}
		}
	}
	add(n.Next)
	for _, k := range sortedKeys(n.DTMF) {
		add(n.DTMF[k])
	}
	for _, k := range sortedKeys(n.Intents) {
		add(n.Intents[k])
	}
	if n.NoInput != nil {
		add(n.NoInput.Then)
	}
	if n.NoMatch != nil {
		add(n.NoMatch.Then)
	}
	for _, c := range n.Cases {
		add(c.Then)
	}
	add(n.Default, n.OnError, n.OnNoAgent)
	return t
}

// Terminal reports whether the call leaves the flow at n.
func (n *Node) Terminal() bool { return n.Kind == Hangup || n.Kind == Transfer }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// File is the name the flow was parsed under.
func (f *Flow) File() string { return f.file }

// Load reads and parses the flow file at path.
func Load(path string) (*Flow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flow: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a flow from data; name is the file it came from, used in
// messages and to find WAV prompts. When the YAML cannot be read into a
// flow (syntax, duplicate keys, a value of the wrong type) the error is a
// Problems listing each place; everything else is left to Validate, so
// that one run reports all of it.
func Parse(name string, data []byte) (*Flow, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{yamlProblem(name, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Problems{{File: name, Line: 1, Col: 1, Msg: "empty flow"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{File: name, Line: root.Line, Col: root.Column, Msg: "a flow is a mapping of id, version, start, prompts and nodes"}}
	}
	var probs Problems
	duplicates(name, root, &probs)
	f := &Flow{file: name, root: root}
	if err := root.Decode(f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, Problems{yamlProblem(name, err)}
		}
		for _, msg := range te.Errors {
			if strings.Contains(msg, "already defined at line") {
				continue // reported by duplicates, with a column
			}
			probs = append(probs, lineProblem(name, msg))
		}
	}
	if len(probs) > 0 {
		probs.sort()
		return nil, probs
	}
	if f.Language == "" {
		f.Language = DefaultLanguage
	}
	if f.Fallback == "" {
		f.Fallback = DefaultFallback
	}
	return f, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func lineProblem(file, msg string) Problem {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: line, Msg: m[2]}
	}
	return Problem{File: file, Msg: msg}
}

func yamlProblem(file string, err error) Problem {
	return lineProblem(file, err.Error())
}

// duplicates reports every key given twice in a mapping, anywhere in the
// tree; a flow where the second "next" silently wins is a flow that does
// something other than it reads.
func duplicates(file string, n *yaml.Node, probs *Problems) {
	if n.Kind == yaml.MappingNode {
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, ok := seen[k.Value]; ok {
				*probs = append(*probs, Problem{File: file, Line: k.Line, Col: k.Column,
					Msg: fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, first.Line)})
			} else {
				seen[k.Value] = k
			}
		}
	}
	for _, c := range n.Content {
		duplicates(file, c, probs)
	}
}

// Marshal returns the flow as YAML, in the shape Parse reads.
func (f *Flow) Marshal() ([]byte, error) {
	b, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("flow: marshal %s: %w", f.ID, err)
	}
	return b, nil
}

// WAVPath is where a prompt's WAV file is, for the runtime to load.
func (f *Flow) WAVPath(wav string) string { return f.wavPath(wav) }

// wavPath is where a prompt's WAV file is: relative paths are relative to
// the flow file.
func (f *Flow) wavPath(wav string) string {
	if filepath.IsAbs(wav) {
		return wav
	}
	return filepath.Join(filepath.Dir(f.file), wav)
}
