package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard-cc/switchboard/ivr/media"
	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

// Reasons a call ended, returned by Call.Err.
var (
	// ErrRemoteHangup: the caller sent BYE.
	ErrRemoteHangup = errors.New("sip: caller hung up")
	// ErrLocalHangup: Hangup was called or the handler returned.
	ErrLocalHangup = errors.New("sip: hung up by us")
	// ErrCanceled: the call was never established (no ACK for our 200).
	ErrCanceled = errors.New("sip: call canceled")
	// ErrRTPTimeout: no RTP arrived for Config.RTPTimeout.
	ErrRTPTimeout = errors.New("sip: rtp timeout")
	// ErrShutdown: the Server was closed.
	ErrShutdown = errors.New("sip: server shutting down")
)

// frameBacklog is how many received frames wait for a handler that is
// busy: 1 s, so that a recognizer chunk computed on a loaded machine does
// not cost the caller's words, while a handler that stopped reading does
// not pile up audio without bound.
const frameBacklog = 50

// byeTimeout bounds a BYE we send on our own initiative; RFC 3261's
// transaction timeout (64*T1 = 32 s) is far too long to keep a call around.
const byeTimeout = 5 * time.Second

// Call is one established call. Its methods are safe for concurrent use.
//
// Audio: Frames delivers one 20 ms frame every 20 ms from the jitter buffer
// (concealment while nothing arrives); WriteFrame sends one frame. Frames
// and Digits are closed when the call ends.
type Call struct {
	// ID is the SIP Call-ID.
	ID string
	// From and To are the caller's and the called URIs.
	From, To string

	srv  *Server
	log  *slog.Logger
	dlg  *sipgo.DialogServerSession
	conn *net.UDPConn
	sess *sdp.Session // used only by renegotiate, which the dialog serialises

	ctx    context.Context
	cancel context.CancelFunc

	rxMu sync.Mutex // guards rx: the socket reader and the 20 ms loop share it
	rx   *media.Receiver

	mu     sync.Mutex // guards answer, pk, remote
	answer sdp.Answer
	pk     *media.Packetizer

	frames chan media.Frame
	digits chan media.Digit
	notify chan int // sipfrag status codes of REFER NOTIFYs
	done   chan struct{}
	reason error
	once   sync.Once

	life     sync.Mutex // orders start against end
	started  bool
	ended    bool
	byeSent  atomic.Bool // one BYE per call, whoever hangs up first
	received atomic.Uint64
	dropped  atomic.Uint64 // frames the handler was too slow to take
	loops    sync.WaitGroup
}

func newCall(s *Server, dlg *sipgo.DialogServerSession, conn *net.UDPConn, sess *sdp.Session, ans sdp.Answer, log *slog.Logger) (*Call, error) {
	rx, err := media.NewReceiver(receiverConfig(ans))
	if err != nil {
		return nil, fmt.Errorf("sip: receiver: %w", err)
	}
	pk, err := newPacketizer(ans)
	if err != nil {
		return nil, err
	}
	c := &Call{
		ID:     callID(dlg.InviteRequest),
		srv:    s,
		log:    log,
		dlg:    dlg,
		conn:   conn,
		sess:   sess,
		rx:     rx,
		answer: ans,
		pk:     pk,
		frames: make(chan media.Frame, frameBacklog),
		digits: make(chan media.Digit, 32),
		notify: make(chan int, 8),
		done:   make(chan struct{}),
	}
	if f := dlg.InviteRequest.From(); f != nil {
		c.From = f.Address.String()
	}
	if t := dlg.InviteRequest.To(); t != nil {
		c.To = t.Address.String()
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	return c, nil
}

func receiverConfig(ans sdp.Answer) media.Config {
	cfg := media.DefaultConfig()
	cfg.Payloads = map[uint8]media.Codec{ans.Codec.PayloadType: codecOf(ans.Codec.Name)}
	if ans.DTMF != nil {
		cfg.Payloads[ans.DTMF.PayloadType] = media.TelephoneEvent
	}
	return cfg
}

func codecOf(name string) media.Codec {
	if name == "PCMA" {
		return media.PCMA
	}
	return media.PCMU
}

func newPacketizer(ans sdp.Answer) (*media.Packetizer, error) {
	sc := media.SenderConfig{PayloadType: ans.Codec.PayloadType, Codec: codecOf(ans.Codec.Name)}
	if ans.DTMF != nil {
		sc.EventPayloadType = ans.DTMF.PayloadType
	}
	pk, err := media.NewPacketizer(sc)
	if err != nil {
		return nil, fmt.Errorf("sip: packetizer: %w", err)
	}
	return pk, nil
}

// Answer returns the negotiated media, as changed by the latest re-INVITE.
func (c *Call) Answer() sdp.Answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answer
}

// Frames returns the received audio, one frame per 20 ms. A consumer that
// falls behind by more than frameBacklog frames (1 s) loses the newest ones. The samples
// belong to the receiver of the channel.
func (c *Call) Frames() <-chan media.Frame { return c.frames }

// Digits returns the DTMF key presses of the caller.
func (c *Call) Digits() <-chan media.Digit { return c.digits }

// Done is closed when the call ends; Err then says why.
func (c *Call) Done() <-chan struct{} { return c.done }

// Err returns why the call ended (ErrRemoteHangup, ErrLocalHangup,
// ErrCanceled, ErrRTPTimeout, ErrShutdown), or nil while it is up.
func (c *Call) Err() error {
	select {
	case <-c.done:
		return c.reason
	default:
		return nil
	}
}

// FramesDropped counts the frames lost because the handler fell more than
// frameBacklog frames behind.
func (c *Call) FramesDropped() uint64 { return c.dropped.Load() }

// PacketsReceived counts the valid RTP packets received so far.
func (c *Call) PacketsReceived() uint64 { return c.received.Load() }

// WriteFrame sends one 20 ms frame of 8 kHz audio. While the session is on
// hold or the caller does not receive, the frame is skipped (the RTP clock
// still advances). The caller paces the frames.
func (c *Call) WriteFrame(samples []float32) error {
	select {
	case <-c.done:
		return c.reason
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ans := c.answer
	if (ans.Direction != sdp.SendRecv && ans.Direction != sdp.SendOnly) || !ans.Remote.Addr().IsValid() || ans.Remote.Addr().IsUnspecified() {
		c.pk.Silence(time.Duration(len(samples)) * time.Second / media.SampleRate)
		return nil
	}
	pkt, err := c.pk.Packet(samples)
	if err != nil {
		return fmt.Errorf("sip: call %s: packetize: %w", c.ID, err)
	}
	if _, err := c.conn.WriteToUDPAddrPort(pkt, ans.Remote); err != nil {
		return fmt.Errorf("sip: call %s: send rtp: %w", c.ID, err)
	}
	return nil
}

// ReferError is a transfer the other side refused: the REFER's final
// response, or the referred call's final status from NOTIFY.
type ReferError struct {
	Status int
	Reason string
}

func (e *ReferError) Error() string {
	return fmt.Sprintf("sip: transfer refused: %d %s", e.Status, e.Reason)
}

// Refer transfers the caller to target (a SIP URI) with REFER (RFC 3515):
// the caller's side calls target and the IVR leaves the call. It returns
// nil once the referred call is answered (a NOTIFY with a 2xx sipfrag),
// once the caller hangs up after accepting the REFER (a transferee may end
// our leg itself), or when the REFER was accepted and ctx ends before a
// final NOTIFY (some phones never send one); a *ReferError when the REFER
// or the referred call is refused; ctx's error when it ends before the
// REFER is answered. The caller then hangs up (returning from the handler
// does).
func (c *Call) Refer(ctx context.Context, target string) error {
	uri := target
	if !strings.HasPrefix(uri, "<") {
		uri = "<" + uri + ">"
	}
	var to sipmsg.Uri
	if err := sipmsg.ParseUri(strings.Trim(uri, "<>"), &to); err != nil {
		return fmt.Errorf("sip: call %s: refer to %q: %w", c.ID, target, err)
	}
	contact := c.dlg.InviteRequest.Contact()
	if contact == nil {
		return fmt.Errorf("sip: call %s: refer: the INVITE had no Contact to send it to", c.ID)
	}
	req := sipmsg.NewRequest(sipmsg.REFER, contact.Address)
	req.SetTransport(c.dlg.InviteRequest.Transport())
	req.AppendHeader(sipmsg.NewHeader("Refer-To", uri))
	req.AppendHeader(sipmsg.NewHeader("Referred-By", "<"+c.srv.contact.Address.String()+">"))
	res, err := c.dlg.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: call %s: refer: %w", c.ID, err)
	}
	if !res.IsSuccess() {
		return &ReferError{Status: int(res.StatusCode), Reason: res.Reason}
	}
	c.log.Info("refer accepted", "target", target)
	for {
		select {
		case code := <-c.notify:
			switch {
			case code < 200:
				continue
			case code < 300:
				return nil
			default:
				return &ReferError{Status: code, Reason: "referred call failed"}
			}
		case <-c.done:
			return nil
		case <-ctx.Done():
			c.log.Info("refer accepted; no final notify", "target", target)
			return nil
		}
	}
}

// notified passes a REFER NOTIFY's status to Refer; a full channel drops
// provisional ones first, which nobody waits for.
func (c *Call) notified(code int) {
	select {
	case c.notify <- code:
	default:
	}
}

// Hangup sends BYE and ends the call. It returns the BYE's error, if any;
// the call is ended either way.
func (c *Call) Hangup(ctx context.Context) error {
	return c.hangup(ctx, ErrLocalHangup)
}

func (c *Call) hangup(ctx context.Context, reason error) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if !c.byeSent.CompareAndSwap(false, true) {
		// Another goroutine is already hanging up; wait for it.
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("sip: call %s: hangup: %w", c.ID, ctx.Err())
		}
	}
	return c.sendBye(ctx, reason)
}

// sendBye sends the BYE and ends the call; the caller has won byeSent.
func (c *Call) sendBye(ctx context.Context, reason error) error {
	err := c.dlg.Bye(ctx)
	c.end(reason)
	if err != nil {
		return fmt.Errorf("sip: call %s: bye: %w", c.ID, err)
	}
	return nil
}

// renegotiate answers a re-INVITE on the call's RTP socket and session.
func (c *Call) renegotiate(req *sipmsg.Request) verdict {
	local := sdp.Local{Addr: c.srv.cfg.MediaAddr, Port: c.conn.LocalAddr().(*net.UDPAddr).Port, Session: c.sess}
	v := c.srv.judgeOffer(req, local)
	if v.status != sipmsg.StatusOK {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.answer
	if old.Codec != v.answer.Codec || !sameDTMF(old.DTMF, v.answer.DTMF) {
		pk, err := newPacketizer(v.answer)
		if err != nil {
			return verdict{status: sipmsg.StatusInternalServerError, reason: "Server Internal Error", err: err}
		}
		c.pk = pk
		c.rxMu.Lock()
		rx, err := media.NewReceiver(receiverConfig(v.answer))
		if err == nil {
			c.rx = rx
		}
		c.rxMu.Unlock()
	}
	c.answer = v.answer
	return v
}

func sameDTMF(a, b *sdp.Codec) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// start runs the media goroutines and the handler once the ACK arrived.
func (c *Call) start() {
	c.life.Lock()
	defer c.life.Unlock()
	if c.ended {
		return
	}
	c.started = true
	c.loops.Add(2)
	go c.readLoop()
	go c.tickLoop()
	c.srv.callWG.Add(1)
	go func() {
		defer c.srv.callWG.Done()
		c.srv.handler.HandleCall(c.ctx, c)
		// Bounded by the server's lifetime: Close cancels a BYE that the
		// peer never answers instead of waiting 32 s for the transaction.
		ctx, cancel := context.WithTimeout(c.srv.ctx, byeTimeout)
		defer cancel()
		if err := c.hangup(ctx, ErrLocalHangup); err != nil {
			c.log.Warn("hangup after handler failed", "err", err)
		}
	}()
}

// abandon releases a call that never got a 200 OK.
func (c *Call) abandon() {
	c.cancel()
	_ = c.conn.Close()
	c.dlg.Close()
}

// end marks the call over: it closes Done, stops the media goroutines and
// forgets the dialog.
func (c *Call) end(reason error) {
	c.once.Do(func() {
		c.life.Lock()
		c.ended = true
		started := c.started
		c.life.Unlock()
		c.reason = reason
		close(c.done)
		c.cancel()
		_ = c.conn.Close()
		c.loops.Wait()
		if !started {
			close(c.frames)
			close(c.digits)
		}
		c.srv.mu.Lock()
		delete(c.srv.calls, c.dlg.ID)
		c.srv.mu.Unlock()
		c.dlg.Close()
		c.log.Info("call ended", "reason", reason, "rtp_packets", c.received.Load())
		c.srv.callWG.Done()
	})
}

func (c *Call) readLoop() {
	defer c.loops.Done()
	buf := make([]byte, 2048)
	for {
		// Symmetric RTP (answering to the source address) is not done: we
		// send to the address of the SDP answer.
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed by end
		}
		c.rxMu.Lock()
		err = c.rx.Receive(buf[:n], time.Now())
		c.rxMu.Unlock()
		if err == nil {
			c.received.Add(1)
		}
	}
}

func (c *Call) tickLoop() {
	defer c.loops.Done()
	defer close(c.frames)
	defer close(c.digits)
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	began := time.Now()
	var digits []media.Digit
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			c.rxMu.Lock()
			f := c.rx.Pull()
			frame := media.Frame{Samples: append([]float32(nil), f.Samples...), Concealed: f.Concealed}
			digits = c.rx.Digits(digits[:0], now)
			last := c.rx.LastPacket()
			c.rxMu.Unlock()
			select {
			case c.frames <- frame:
			default:
				c.dropped.Add(1)
			}
			for _, d := range digits {
				select {
				case c.digits <- d:
				default:
				}
			}
			if last.IsZero() {
				last = began
			}
			if timeout := c.srv.cfg.RTPTimeout; now.Sub(last) > timeout && !c.Answer().Hold {
				c.log.Info("rtp timeout", "after", timeout)
				// Claim the BYE before returning: returning closes Frames, which
				// ends the handler, whose own hangup must not win the reason.
				if !c.byeSent.CompareAndSwap(false, true) {
					return
				}
				c.srv.callWG.Add(1) // the call itself holds the group, so this cannot race Wait
				go func() {
					defer c.srv.callWG.Done()
					ctx, cancel := context.WithTimeout(c.srv.ctx, byeTimeout)
					defer cancel()
					if err := c.sendBye(ctx, ErrRTPTimeout); err != nil {
						c.log.Warn("bye after rtp timeout failed", "err", err)
					}
				}()
				return
			}
		}
	}
}
