package session

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/flow"
	"github.com/switchboard-cc/switchboard/ivr/media"
	"github.com/switchboard-cc/switchboard/nlu/asr"
)

// listener hears the caller during one attempt of an ask: it feeds the
// recognition stream and collects key presses.
type listener struct {
	st       Stream
	frames   int         // frames heard
	arrived  []time.Time // when each frame was heard, to place the end of speech in wall time
	speaking bool        // between the VAD's start of speech and the utterance's final
	bargedIn bool        // the caller interrupted the prompt
	spoke    bool        // any speech this attempt
	finals   []asr.Result
	keys     []byte
	lastKey  int // frame of the latest key
	lastEnd  int // frame of the latest final
	now      func() time.Time
}

func (l *listener) key(k byte) {
	l.keys = append(l.keys, k)
	l.lastKey = l.frames
}

func (l *listener) hear(ctx context.Context, samples []float32) error {
	l.arrived = append(l.arrived, l.now())
	l.frames++
	evs, err := l.st.Accept(ctx, samples)
	if err != nil {
		return fmt.Errorf("session: recognition: %w", err)
	}
	for _, ev := range evs {
		switch ev.Kind {
		case asr.SpeechStarted:
			l.speaking, l.spoke = true, true
		case asr.Final:
			l.speaking = false
			l.lastEnd = l.frames
			if strings.TrimSpace(ev.Result.Text) != "" || ev.Result.GrammarMatched {
				l.finals = append(l.finals, ev.Result)
			}
		}
	}
	return nil
}

// endWall is the wall time of the caller's end of speech in the latest
// final (its end less the recogniser's post-roll): the arrival of the
// frame that holds it.
func (l *listener) endWall(postRoll time.Duration) time.Time {
	if len(l.finals) == 0 || len(l.arrived) == 0 {
		return time.Time{}
	}
	i := int((l.finals[len(l.finals)-1].End - postRoll) / media.FrameDuration)
	i = min(max(i, 0), len(l.arrived)-1)
	return l.arrived[i]
}

// verdict is what an attempt came to.
type verdict struct {
	next   string // where to go; "" with retry set means reprompt
	result string // matched, no_match, no_input
}

// expectOf builds the recogniser's expectation from the node.
func expectOf(n *flow.Node) asr.Expect {
	var e asr.Expect
	if x := n.Expect; x != nil {
		e.Phrases, e.Boost, e.OneOf, e.Beam = x.Phrases, x.Boost, x.OneOf, x.Beam
		if x.Digits != nil {
			e.Digits = &asr.DigitRange{Min: x.Digits.Min, Max: x.Digits.Max}
		}
	}
	return e
}

func (c *call) ask(ctx context.Context, id string, n *flow.Node) (string, error) {
	noInput, noMatch := 0, 0
	c.setMenu(id, n)
	for attempt := 0; ; attempt++ {
		pid := n.Prompt
		if attempt > 0 && n.Reprompt != "" {
			pid = n.Reprompt
		}
		samples, err := c.promptAudio(ctx, pid)
		if err != nil {
			return "", err
		}
		st, err := c.r.d.Speech.NewStream(expectOf(n))
		if err != nil {
			return "", fmt.Errorf("session: node %q: %w", id, err)
		}
		l := &listener{st: st, now: c.r.d.Now}
		if err := c.play(ctx, samples, l); err != nil {
			return "", err
		}
		v, err := c.listen(ctx, id, n, l)
		if err != nil {
			return "", err
		}
		if v.next != "" {
			return v.next, nil
		}
		var retry *flow.Retry
		count := 0
		if v.result == "no_input" {
			noInput++
			retry, count = n.NoInput, noInput
		} else {
			noMatch++
			retry, count = n.NoMatch, noMatch
		}
		limit, then := 2, ""
		if retry != nil {
			limit, then = retry.Max, retry.Then
		}
		if count > limit {
			if then == "" {
				c.hungUp = true
				return "", nil
			}
			return then, nil
		}
	}
}

// setMenu puts the node's menu options, most asked-for first, into {menu}.
func (c *call) setMenu(id string, n *flow.Node) {
	if len(n.Menu) == 0 {
		delete(c.vars, "menu")
		return
	}
	intents := make([]string, len(n.Menu))
	for i, m := range n.Menu {
		intents[i] = m.Intent
	}
	if c.r.d.Menu != nil {
		intents = c.r.d.Menu.Order(id, intents)
	}
	var b strings.Builder
	for _, in := range intents {
		for _, m := range n.Menu {
			if m.Intent == in {
				b.WriteString(pick(m.Text, c.lang, c.f.Language))
			}
		}
	}
	c.vars["menu"] = b.String()
}

// listen waits, after the prompt, for the caller's answer and judges it.
func (c *call) listen(ctx context.Context, id string, n *flow.Node, l *listener) (verdict, error) {
	cfg := c.r.cfg
	frames := func(d time.Duration) int { return int(d / media.FrameDuration) }
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = cfg.NoInput
	}
	deadline := l.frames + frames(timeout)
	grace, interDigit := frames(cfg.TurnGrace), frames(cfg.InterDigit)
	digitsGrammar := n.Expect != nil && n.Expect.Digits != nil
	judged := 0       // finals judged so far
	var pending *turn // an incomplete turn, waiting for the caller to go on
	for {
		switch {
		case len(l.keys) > 0:
			// DTMF stays available at every ask and wins over speech.
			if v, done := c.judgeKeys(id, n, l, digitsGrammar, l.frames-l.lastKey >= interDigit); done {
				return v, nil
			}
		case len(l.finals) > judged && !l.speaking:
			judged = len(l.finals)
			t := c.judgeSpeech(ctx, id, n, l)
			if t.complete {
				return c.commit(t, l), nil
			}
			pending = &t
		case pending != nil && !l.speaking && l.frames-l.lastEnd >= grace:
			return c.commit(*pending, l), nil
		case pending == nil && len(l.finals) == 0 && !l.speaking && l.frames >= deadline:
			c.rec.Recognitions = append(c.rec.Recognitions, calls.Recognition{Node: id, At: c.r.d.Now().UTC(), Result: "no_input"})
			return verdict{result: "no_input"}, nil
		}
		select {
		case d, ok := <-c.line.Digits():
			if !ok {
				return verdict{}, errGone
			}
			l.key(d.Key)
			continue
		default:
		}
		f, err := c.frame(ctx)
		if err != nil {
			return verdict{}, err
		}
		if err := l.hear(ctx, f.Samples); err != nil {
			return verdict{}, err
		}
	}
}

// turn is a judged turn: what the caller said and where it leads.
type turn struct {
	complete bool
	v        verdict
	rec      calls.Recognition
	text     string
	vars     map[string]string // set when the turn is taken
}

// commit takes a judged turn: it records the recognition, sets the
// variables, and starts the latency clock from the caller's end of speech.
func (c *call) commit(t turn, l *listener) verdict {
	t.rec.Result = t.v.result
	t.rec.BargeIn = l.bargedIn
	c.rec.Recognitions = append(c.rec.Recognitions, t.rec)
	c.turnEnd, c.turnIdx = l.endWall(c.r.cfg.PostRoll), len(c.rec.Recognitions)-1
	red := c.redact(t.text)
	c.transcript = append(c.transcript, red)
	c.vars["utterance"] = red
	for k, v := range t.vars {
		c.vars[k] = v
	}
	return t.v
}

// judgeKeys decides on the keys pressed so far; done=false waits for more.
func (c *call) judgeKeys(id string, n *flow.Node, l *listener, digitsGrammar, idle bool) (verdict, bool) {
	if _, hashMapped := n.DTMF["#"]; !hashMapped && !digitsGrammar {
		// A caller who ends a full-length number with # types the # ahead
		// into the next ask, where it means nothing.
		for len(l.keys) > 0 && l.keys[0] == '#' {
			l.keys = l.keys[1:]
		}
		if len(l.keys) == 0 {
			return verdict{}, false
		}
	}
	keys := string(l.keys)
	record := func(v verdict, slot, value string) (verdict, bool) {
		c.rec.DTMF = append(c.rec.DTMF, calls.KeyPress{Node: id, Digits: keys, At: c.r.d.Now().UTC()})
		c.rec.Recognitions = append(c.rec.Recognitions, calls.Recognition{
			Node: id, At: c.r.d.Now().UTC(), Text: "dtmf:" + c.redact(keys), Confidence: 1, Slot: slot, Value: c.redact(value),
			Result: v.result, BargeIn: l.bargedIn,
		})
		c.turnEnd, c.turnIdx = c.r.d.Now(), len(c.rec.Recognitions)-1
		return v, true
	}
	if !digitsGrammar {
		if to, ok := n.DTMF[keys[:1]]; ok {
			return record(verdict{next: to, result: "matched"}, "", "")
		}
		return record(verdict{result: "no_match"}, "", "")
	}
	d := n.Expect.Digits
	digits := strings.TrimRight(keys, "#")
	ended := strings.HasSuffix(keys, "#") || len(digits) >= d.Max
	if !ended && !idle {
		return verdict{}, false
	}
	if strings.ContainsAny(digits, "*#ABCD") {
		return record(verdict{result: "no_match"}, "", "")
	}
	if len(digits) >= d.Min && len(digits) <= d.Max {
		if n.Slot != "" {
			c.vars[n.Slot] = digits
		}
		return record(verdict{next: n.Next, result: "matched"}, n.Slot, digits)
	}
	// A single key the node maps (0 for an agent) rather than a number.
	if to, ok := n.DTMF[digits]; ok && len(digits) == 1 {
		return record(verdict{next: to, result: "matched"}, "", "")
	}
	return record(verdict{result: "no_match"}, "", "")
}

// judgeSpeech judges the utterances of this attempt as one turn. An
// incomplete turn's verdict is what it comes to if the caller says no more.
func (c *call) judgeSpeech(ctx context.Context, id string, n *flow.Node, l *listener) turn {
	last := l.finals[len(l.finals)-1]
	texts := make([]string, len(l.finals))
	for i, f := range l.finals {
		texts[i] = f.Text
	}
	text := joinUtterances(texts)
	c.switchLanguage(text)
	t := turn{
		v:    verdict{result: "no_match"},
		rec:  calls.Recognition{Node: id, At: c.r.d.Now().UTC(), Text: c.redact(text), Confidence: float64(last.Confidence)},
		text: text, vars: map[string]string{},
	}
	matched := func(next, slot, value string) turn {
		t.complete, t.v = true, verdict{next: next, result: "matched"}
		if slot != "" {
			t.rec.Slot, t.rec.Value = slot, c.redact(value)
			t.vars[slot] = value
		}
		return t
	}
	e := n.Expect
	switch {
	case e != nil && e.Digits != nil && last.GrammarMatched:
		return matched(n.Next, n.Slot, last.Slot)
	case e != nil && len(e.OneOf) > 0 && last.GrammarMatched:
		return matched(n.Next, n.Slot, last.Phrase)
	}
	// Understanding: the intent model, for intent jumping and for asks
	// that expect intents; grammar asks fall back to it too ("I want an
	// agent" at the order-number prompt).
	if c.r.d.Intents == nil || (len(n.Intents) == 0 && (e == nil || len(e.Intents) == 0)) {
		return t
	}
	label, conf, err := c.r.d.Intents.Intent(ctx, text)
	if err != nil {
		c.log.Warn("intent failed", "node", id, "err", err)
		return t
	}
	t.rec.Intent, t.rec.IntentConfidence = label, conf
	threshold := n.Confidence
	if threshold <= 0 {
		threshold = c.r.cfg.Confidence
	}
	if conf < threshold {
		return t
	}
	t.vars["intent"] = label
	t.vars["confidence"] = fmt.Sprintf("%.2f", conf)
	if to, ok := n.Intents[label]; ok {
		return matched(to, "", "")
	}
	if e != nil && slices.Contains(e.Intents, label) && n.Next != "" {
		return matched(n.Next, "", "")
	}
	return t
}

// joinUtterances joins the utterances of one turn: with a space between
// Latin words, directly between Chinese characters.
func joinUtterances(texts []string) string {
	var b strings.Builder
	for _, t := range texts {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if b.Len() > 0 && (isLatin(lastRune(b.String())) || isLatin(firstRune(t))) {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

func lastRune(s string) rune {
	r := []rune(s)
	return r[len(r)-1]
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func isLatin(r rune) bool { return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// switchLanguage follows the caller: a flow in Chinese whose caller
// answers in English goes on in its fallback language, and back.
func (c *call) switchLanguage(text string) {
	var han, latin int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			latin++
		}
	}
	lang := ""
	switch {
	case han == 0 && latin >= 3:
		lang = "en"
	case han > 0 && latin == 0:
		lang = "zh"
	}
	if lang != "" && lang != c.lang && (lang == c.f.Language || lang == c.f.Fallback) {
		c.log.Info("caller's language", "lang", lang)
		c.lang = lang
		c.rec.Language = lang
	}
}
