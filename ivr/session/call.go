package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/flow"
	"github.com/switchboard-cc/switchboard/ivr/lookup"
	"github.com/switchboard-cc/switchboard/ivr/media"
	"github.com/switchboard-cc/switchboard/ivr/prompt"
	"github.com/switchboard-cc/switchboard/ivr/sip"
)

// errGone means the call ended under us: the caller hung up, the RTP
// timed out or the server is closing.
var errGone = errors.New("session: call ended")

// call is one call's state; only its own goroutine touches it.
type call struct {
	r    *Runner
	f    *flow.Flow
	line Line
	log  *slog.Logger

	rec  calls.Record
	vars map[string]string
	lang string

	recording  Recording
	transcript []string

	// The latency of the latest turn is measured at the first frame of the
	// response: turnEnd is the caller's end of speech, turnIdx the
	// recognition it belongs to (-1: none pending).
	turnEnd time.Time
	turnIdx int

	lastSend time.Time // the previous frame of the prompt playing, zero between prompts

	answered    bool // a voice-bot answer was given
	hungUp      bool // the flow hung up
	transferred bool
}

func (r *Runner) newCall(line Line, info CallInfo) *call {
	f := r.flow.Load()
	id := r.d.NewID()
	c := &call{
		r: r, f: f, line: line,
		log:     r.log.With("call", id, "sip_call_id", info.SIPCallID, "flow", f.ID),
		vars:    map[string]string{"caller": callerNumber(info.From), "call_id": id},
		lang:    f.Language,
		turnIdx: -1,
	}
	c.rec = calls.Record{
		ID: id, SIPCallID: info.SIPCallID, Caller: c.redact(info.From), Called: info.To,
		FlowID: f.ID, FlowVersion: f.Version, Language: f.Language,
		Started: r.d.Now().UTC(), Path: []calls.Step{}, Redacted: r.d.Redactor != nil,
	}
	return c
}

// callerNumber is the user part of a SIP URI, "sip:13800138000@host" →
// "13800138000".
func callerNumber(uri string) string {
	u := strings.TrimPrefix(strings.TrimPrefix(strings.Trim(uri, "<>"), "sip:"), "sips:")
	if at := strings.IndexByte(u, '@'); at >= 0 {
		u = u[:at]
	}
	return u
}

func (c *call) redact(s string) string {
	if c.r.d.Redactor == nil || s == "" {
		return s
	}
	return c.r.d.Redactor.Redact(s)
}

func (c *call) run(ctx context.Context) {
	if c.r.d.Recorder != nil {
		rec, err := c.r.d.Recorder.Start(c.rec.ID)
		if err != nil {
			c.log.Error("recording not started", "err", err)
		} else {
			c.recording = rec
		}
	}
	c.save(ctx)
	c.log.Info("call started", "caller", c.rec.Caller)

	err := c.walk(ctx)

	now := c.r.d.Now().UTC()
	c.rec.Ended = &now
	c.rec.DurationMS = now.Sub(c.rec.Started).Milliseconds()
	c.finish(err)
	if c.recording != nil {
		secs, err := c.recording.Close()
		if err != nil {
			c.log.Error("recording not saved", "err", err)
		} else {
			c.rec.Recording = &calls.RecordingRef{ID: c.rec.ID, URL: c.r.d.RecordingURL(c.rec.ID), Seconds: secs}
		}
	}
	// The call's context may be gone (the caller hung up); the record
	// must still be written.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	c.save(sctx)
	c.r.m.calls.WithLabelValues(string(c.rec.Outcome)).Inc()
	if d, ok := c.line.(interface{ FramesDropped() uint64 }); ok {
		c.r.m.dropped.Add(float64(d.FramesDropped()))
	}
	c.log.Info("call ended", "outcome", c.rec.Outcome, "reason", c.rec.EndReason, "nodes", len(c.rec.Path), "err", err)
}

func (c *call) save(ctx context.Context) {
	if err := c.r.d.Calls.Put(ctx, &c.rec); err != nil {
		c.log.Error("call record not saved", "err", err)
	}
}

// finish decides the outcome from how the walk ended.
func (c *call) finish(err error) {
	switch {
	case c.transferred:
		c.rec.EndReason = "transferred"
	case c.hungUp:
		c.rec.EndReason = "bot_hangup"
	case errors.Is(err, errGone):
		switch lerr := c.line.Err(); {
		case errors.Is(lerr, sip.ErrRTPTimeout):
			c.rec.EndReason = "rtp_timeout"
		case errors.Is(lerr, sip.ErrShutdown):
			c.rec.EndReason = "shutdown"
		default:
			c.rec.EndReason = "caller_hangup"
		}
	case err != nil:
		c.rec.EndReason = "error"
	}
	switch {
	case c.transferred:
		c.rec.Outcome = calls.Transferred
	case len(c.rec.TicketIDs) > 0:
		c.rec.Outcome = calls.Ticketed
	case c.answered || c.hungUp:
		c.rec.Outcome = calls.SelfServed
	case c.rec.EndReason == "caller_hangup":
		c.rec.Outcome = calls.Abandoned
	default:
		c.rec.Outcome = calls.Failed
	}
}

// walk runs the flow from its start node until the call leaves it.
func (c *call) walk(ctx context.Context) error {
	id := c.f.Start
	for step := 0; ; step++ {
		if step >= c.r.cfg.MaxSteps {
			return fmt.Errorf("session: %d nodes without an end; the flow loops", step)
		}
		n := c.f.Nodes[id]
		if n == nil {
			return fmt.Errorf("session: no node %q", id)
		}
		c.rec.Path = append(c.rec.Path, calls.Step{Node: id, Kind: string(n.Kind), At: c.r.d.Now().UTC()})
		next, err := c.node(ctx, id, n)
		if err != nil {
			if !errors.Is(err, errGone) {
				c.log.Error("node failed", "node", id, "err", err)
			}
			return err
		}
		if next == "" {
			return nil
		}
		id = next
	}
}

func (c *call) node(ctx context.Context, id string, n *flow.Node) (string, error) {
	switch n.Kind {
	case flow.Say:
		return n.Next, c.say(ctx, n.Prompt)
	case flow.Ask:
		return c.ask(ctx, id, n)
	case flow.Branch:
		for _, cs := range n.Cases {
			cond, err := flow.ParseCondition(cs.If)
			if err != nil {
				return "", err
			}
			if cond.Eval(c.vars) {
				return cs.Then, nil
			}
		}
		return n.Default, nil
	case flow.Lookup:
		return c.lookup(ctx, id, n)
	case flow.Answer:
		text := c.fill(pick(n.Text, c.lang, c.f.Language))
		samples, err := c.await(ctx, func(ctx context.Context) ([]float32, error) {
			return c.r.d.Prompts.Get(ctx, c.lang, text)
		})
		if err != nil {
			return "", err
		}
		c.answered = true
		return n.Next, c.play(ctx, samples, nil)
	case flow.Ticket:
		return c.ticket(ctx, id, n)
	case flow.Transfer:
		return c.transfer(ctx, id, n)
	case flow.Hangup:
		c.hungUp = true
		if n.Prompt != "" {
			return "", c.say(ctx, n.Prompt)
		}
		return "", nil
	}
	return "", fmt.Errorf("session: node %q: unknown kind %q", id, n.Kind)
}

func pick(m map[string]string, lang, fallback string) string {
	if s := m[lang]; s != "" {
		return s
	}
	return m[fallback]
}

// fill replaces {var} by the call's variables; an unknown one by nothing.
func (c *call) fill(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(c.vars[strings.TrimSpace(s[i+1:i+j])])
		s = s[i+j+1:]
	}
}

// promptAudio returns a prompt's audio in the call's language.
func (c *call) promptAudio(ctx context.Context, id string) ([]float32, error) {
	p, ok := c.f.Prompts[id]
	if !ok {
		return nil, fmt.Errorf("session: no prompt %q", id)
	}
	if p.WAV != "" {
		return c.r.wav(c.f.WAVPath(p.WAV))
	}
	lang := c.lang
	text := p.Text[lang]
	if text == "" {
		lang = c.f.Language
		text = p.Text[lang]
	}
	text = c.fill(text)
	return c.await(ctx, func(ctx context.Context) ([]float32, error) {
		return c.r.d.Prompts.Get(ctx, lang, text)
	})
}

func (c *call) say(ctx context.Context, id string) error {
	samples, err := c.promptAudio(ctx, id)
	if err != nil {
		return err
	}
	return c.play(ctx, samples, nil)
}

// frame reads the caller's next frame and records it.
func (c *call) frame(ctx context.Context) (media.Frame, error) {
	select {
	case f, ok := <-c.line.Frames():
		if !ok {
			return media.Frame{}, errGone
		}
		if c.recording != nil {
			c.recording.Caller(f.Samples)
		}
		return f, nil
	case <-ctx.Done():
		return media.Frame{}, errGone
	}
}

// underrunGap is the longest pause between two frames of a prompt that a
// caller's jitter buffer (typically 40-60 ms) bridges.
const underrunGap = 60 * time.Millisecond

// send plays one frame to the caller, measuring the turn latency at the
// first frame of a response.
func (c *call) send(samples []float32) error {
	if !c.turnEnd.IsZero() {
		lat := c.r.d.Now().Sub(c.turnEnd)
		if c.turnIdx >= 0 && c.turnIdx < len(c.rec.Recognitions) {
			c.rec.Recognitions[c.turnIdx].LatencyMS = lat.Milliseconds()
		}
		c.r.m.latency.Observe(lat.Seconds())
		c.turnEnd, c.turnIdx = time.Time{}, -1
	}
	if c.recording != nil {
		c.recording.IVR(samples)
	}
	now := c.r.d.Now()
	if !c.lastSend.IsZero() && now.Sub(c.lastSend) > underrunGap {
		c.r.m.underruns.Inc()
	}
	c.lastSend = now
	if err := c.line.WriteFrame(samples); err != nil {
		return fmt.Errorf("%w: %w", errGone, err)
	}
	return nil
}

// play sends samples frame by frame, one per received frame. With a
// listener the caller is heard meanwhile and may barge in: speech or a key
// stops the prompt.
func (c *call) play(ctx context.Context, samples []float32, l *listener) error {
	defer func() { c.lastSend = time.Time{} }()
	p := prompt.NewPlayer(samples)
	stop := func() {
		if !p.Stopped() {
			p.Stop()
			l.bargedIn = true
			c.r.m.bargeIn.Inc()
		}
	}
	for {
		// Keys pressed while nobody listens stay queued for the next ask
		// (type-ahead).
		if l != nil {
			select {
			case d, ok := <-c.line.Digits():
				if !ok {
					return errGone
				}
				l.key(d.Key)
				stop()
				continue
			default:
			}
		}
		f, err := c.frame(ctx)
		if err != nil {
			return err
		}
		if l != nil {
			if err := l.hear(ctx, f.Samples); err != nil {
				return err
			}
			if l.speaking && !c.r.cfg.NoBargeIn {
				stop()
			}
		}
		out, ok := p.Next()
		if !ok {
			return nil
		}
		if err := c.send(out); err != nil {
			return err
		}
	}
}

// await runs fn beside the audio loop, which goes on reading (and
// recording) the caller's frames until fn returns.
func await[T any](c *call, ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	for {
		select {
		case r := <-done:
			return r.v, r.err
		case f, ok := <-c.line.Frames():
			if !ok {
				cancel()
				<-done
				var zero T
				return zero, errGone
			}
			if c.recording != nil {
				c.recording.Caller(f.Samples)
			}
		case <-ctx.Done():
			<-done
			var zero T
			return zero, errGone
		}
	}
}

func (c *call) await(ctx context.Context, fn func(context.Context) ([]float32, error)) ([]float32, error) {
	return await(c, ctx, fn)
}

func (c *call) lookup(ctx context.Context, id string, n *flow.Node) (string, error) {
	if c.r.d.Lookups == nil {
		c.log.Warn("lookup without a lookup client", "node", id)
		return n.OnError, nil
	}
	params := map[string]string{}
	for p, v := range n.Inputs {
		params[p] = c.vars[v]
	}
	out, err := await(c, ctx, func(ctx context.Context) (map[string]string, error) {
		return c.r.d.Lookups.Do(ctx, lookup.Request{System: n.System, Method: n.Method, Path: n.Path, Params: params, Outputs: n.Outputs, Timeout: n.Timeout})
	})
	if errors.Is(err, errGone) {
		return "", err
	}
	if err != nil {
		c.log.Warn("lookup failed", "node", id, "err", err)
		return n.OnError, nil
	}
	for k, v := range out {
		c.vars[k] = v
	}
	return n.Next, nil
}

func (c *call) ticket(ctx context.Context, id string, n *flow.Node) (string, error) {
	if c.r.d.Tickets == nil {
		c.log.Warn("ticket without a ticket service", "node", id)
		return n.OnError, nil
	}
	req := TicketRequest{
		CallID: c.rec.ID, Caller: c.vars["caller"],
		Subject: c.redact(c.fill(n.Subject)), Description: c.redact(c.fill(n.Description)),
		Language: c.lang,
	}
	if n.Category != flow.CategoryNLU {
		req.Category = n.Category
	}
	if n.Transcript {
		req.Transcript = strings.Join(c.transcript, "\n")
	}
	if next := c.f.Nodes[n.Next]; next != nil && next.Kind == flow.Transfer {
		req.SkillGroup = next.Group
	} else if next != nil {
		// "ticket_filed" says so and then transfers: look one step further.
		if t := c.f.Nodes[next.Next]; t != nil && t.Kind == flow.Transfer {
			req.SkillGroup = t.Group
		}
	}
	tid, err := await(c, ctx, func(ctx context.Context) (string, error) {
		return c.r.d.Tickets.CreateTicket(ctx, req)
	})
	if errors.Is(err, errGone) {
		return "", err
	}
	if err != nil {
		c.log.Error("ticket not created", "node", id, "err", err)
		if n.OnError != "" {
			return n.OnError, nil
		}
		return "", err
	}
	c.vars["ticket_id"] = tid
	c.rec.TicketIDs = append(c.rec.TicketIDs, tid)
	c.log.Info("ticket created", "node", id, "ticket", tid)
	return n.Next, nil
}

// bridger is a line that can connect the caller to an agent through us
// (*sip.Call), for callers whose side refuses REFER.
type bridger interface {
	Bridge(ctx context.Context, target string, ring time.Duration) (sip.BridgeStats, error)
}

// transfer queues for an agent of the node's group, announcing the queue,
// and refers the caller to the agent.
func (c *call) transfer(ctx context.Context, id string, n *flow.Node) (string, error) {
	tr := &calls.Transfer{Group: n.Group}
	c.rec.Transfer = tr
	if c.r.d.Router == nil {
		tr.Result = "no_agent"
		return n.OnNoAgent, nil
	}
	maxWait := n.MaxWait
	if maxWait <= 0 {
		maxWait = 3 * time.Minute
	}
	start := c.r.d.Now()
	positions := make(chan int, 8)
	type acquired struct {
		a       Agent
		release func()
		err     error
	}
	actx, cancel := context.WithCancel(ctx)
	got := make(chan acquired, 1)
	taken := false
	defer func() {
		// Leaving early (the caller hung up, a prompt failed): the routing
		// goroutine may still hand us an agent, who must not stay busy.
		cancel()
		if !taken {
			if r := <-got; r.err == nil {
				r.release()
			}
		}
	}()
	go func() {
		a, rel, err := c.r.d.Router.Acquire(actx, n.Group, maxWait, func(p int) {
			select {
			case positions <- p:
			default:
			}
		})
		got <- acquired{a, rel, err}
	}()
	// While waiting: the announcement once queued, the position whenever
	// it changes, silence otherwise.
	var queue []float32
	var qp *prompt.Player
	announced := false
	var res acquired
wait:
	for {
		select {
		case res = <-got:
			taken = true
			break wait
		case p := <-positions:
			c.vars["queue_position"] = strconv.Itoa(p)
			var s []float32
			if !announced && n.Announce != "" {
				a, err := c.promptAudio(ctx, n.Announce)
				if err != nil {
					return "", err
				}
				s = append(s, a...)
				announced = true
			}
			if _, ok := c.f.Prompts[flow.QueuePositionPrompt]; ok {
				a, err := c.promptAudio(ctx, flow.QueuePositionPrompt)
				if err != nil {
					return "", err
				}
				s = append(s, a...)
			}
			queue = s
			qp = prompt.NewPlayer(queue)
			continue
		default:
		}
		if _, err := c.frame(ctx); err != nil {
			return "", err
		}
		if qp != nil {
			if out, ok := qp.Next(); ok {
				if err := c.send(out); err != nil {
					return "", err
				}
			} else {
				c.lastSend = time.Time{}
			}
		}
	}
	tr.QueueWaitMS = c.r.d.Now().Sub(start).Milliseconds()
	if res.err != nil {
		if errors.Is(res.err, ErrNoAgent) {
			tr.Result = "no_agent"
			c.log.Info("no agent", "group", n.Group, "waited", time.Duration(tr.QueueWaitMS)*time.Millisecond)
			return n.OnNoAgent, nil
		}
		if ctx.Err() != nil {
			return "", errGone
		}
		c.log.Error("routing failed", "group", n.Group, "err", res.err)
		tr.Result = "error"
		return n.OnNoAgent, nil
	}
	tr.Agent, tr.Target, tr.Method = res.a.ID, res.a.URI, "refer"
	_, err := await(c, ctx, func(ctx context.Context) (struct{}, error) {
		ctx, cancel := context.WithTimeout(ctx, c.r.cfg.ReferTimeout)
		defer cancel()
		return struct{}{}, c.line.Refer(ctx, res.a.URI)
	})
	var refused *sip.ReferError
	if errors.As(err, &refused) {
		if b, ok := c.line.(bridger); ok {
			// The caller's side will not transfer: call the agent and stay
			// in the middle. The runtime is blocked meanwhile (the bridge
			// relays the audio itself) and frees the agent when it ends.
			c.log.Info("refer refused; bridging", "agent", res.a.ID, "status", refused.Status)
			tr.Method = "bridge"
			st, berr := b.Bridge(ctx, res.a.URI, c.r.cfg.BridgeRing)
			res.release()
			if berr == nil {
				tr.Result = "accepted"
				c.transferred = true
				c.log.Info("bridged call ended", "group", n.Group, "agent", res.a.ID, "from_agent", st.FromAgent, "to_agent", st.ToAgent)
				return "", nil
			}
			tr.Result = "refused"
			c.log.Warn("bridge failed", "agent", res.a.ID, "target", res.a.URI, "err", berr)
			return n.OnNoAgent, nil
		}
	}
	if err != nil {
		res.release()
		if errors.Is(err, errGone) {
			return "", err
		}
		tr.Result = "refused"
		c.log.Warn("transfer refused", "agent", res.a.ID, "target", res.a.URI, "err", err)
		return n.OnNoAgent, nil
	}
	// The agent stays busy: the call is theirs now, and they make
	// themselves available again (agents API) when it is done.
	tr.Result = "accepted"
	c.transferred = true
	c.log.Info("transferred", "group", n.Group, "agent", res.a.ID)
	return "", nil
}
