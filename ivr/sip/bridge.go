package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard-cc/switchboard/ivr/media"
	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

// errRingTimeout ends the ringing of an agent's phone that does not answer.
var errRingTimeout = errors.New("sip: no answer")

// BridgeStats count what a bridge relayed.
type BridgeStats struct {
	// FromAgent counts valid RTP packets received from the agent's leg,
	// ToAgent the packets sent to it.
	FromAgent, ToAgent int
}

// leg is an outgoing call the server placed (a B2BUA leg to an agent).
type leg struct {
	dlg  *sipgo.DialogClientSession
	done chan struct{} // closed when the far end hangs up
	once sync.Once
}

func (l *leg) ended() { l.once.Do(func() { close(l.done) }) }

// Bridge connects the caller to target (a SIP URI) through the IVR: it
// places a call to target (an agent's phone) and, once answered, relays
// audio both ways frame by frame, decoding and re-encoding so the two legs
// may use different codecs. It is the transfer for callers whose side
// refuses REFER. It blocks while the two are connected and returns nil when
// either hangs up (the caller's leg is then ended by the handler
// returning), or an error when the agent's leg could not be set up within
// ring (busy, declined, no answer, an answer we cannot use); the caller's
// call is untouched then. Audio relayed over the bridge does not pass
// through the handler (Frames is not fed meanwhile).
func (c *Call) Bridge(ctx context.Context, target string, ring time.Duration) (BridgeStats, error) {
	var uri sipmsg.Uri
	if err := sipmsg.ParseUri(target, &uri); err != nil {
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge to %q: %w", c.ID, target, err)
	}
	conn, err := c.srv.bindRTP()
	if err != nil {
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge: %w", c.ID, err)
	}
	defer conn.Close()
	local := sdp.Local{Addr: c.srv.cfg.MediaAddr, Port: conn.LocalAddr().(*net.UDPAddr).Port, Session: sdp.NewSession(randomID())}
	offer, err := sdp.Offer(local)
	if err != nil {
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge: %w", c.ID, err)
	}

	// When the ring time is up, a phone that rings gets a CANCEL; one that
	// never answered at all is given up at once (sipgo would otherwise
	// wait out Timer B, 32 s, before it may send one).
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var heard atomic.Bool
	timer := time.AfterFunc(ring, func() {
		if heard.Load() {
			cancel(errRingTimeout)
		} else {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer timer.Stop()
	dlg, err := c.srv.dua.Invite(rctx, uri, offer, sipmsg.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge to %s: %w", c.ID, target, err)
	}
	defer dlg.Close()
	err = dlg.WaitAnswer(rctx, sipgo.AnswerOptions{OnResponse: func(*sipmsg.Response) error {
		heard.Store(true)
		return nil
	}})
	if err != nil {
		var re *sipgo.ErrDialogResponse
		if errors.As(err, &re) {
			return BridgeStats{}, &ReferError{Status: int(re.Res.StatusCode), Reason: re.Res.Reason}
		}
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge to %s: %w", c.ID, target, err)
	}
	ans, err := sdp.Negotiate(dlg.InviteResponse.Body(), local)
	if err != nil {
		_ = dlg.Ack(ctx)
		c.byeLeg(dlg)
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge to %s: answer: %w", c.ID, target, err)
	}
	if err := dlg.Ack(ctx); err != nil {
		c.byeLeg(dlg)
		return BridgeStats{}, fmt.Errorf("sip: call %s: bridge to %s: ack: %w", c.ID, target, err)
	}
	l := &leg{dlg: dlg, done: make(chan struct{})}
	c.srv.mu.Lock()
	c.srv.legs[dlg.ID] = l
	c.srv.mu.Unlock()
	defer func() {
		c.srv.mu.Lock()
		delete(c.srv.legs, dlg.ID)
		c.srv.mu.Unlock()
	}()
	c.log.Info("bridged", "target", target, "codec", ans.Codec.Name)
	return c.relay(ctx, conn, ans, l)
}

// byeLeg hangs up an agent leg, bounded like our other BYEs.
func (c *Call) byeLeg(dlg *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(c.srv.ctx, byeTimeout)
	defer cancel()
	if err := dlg.Bye(ctx); err != nil {
		c.log.Warn("bye to bridged leg failed", "err", err)
	}
}

// relay moves audio between the caller and the agent leg until one of
// them hangs up.
func (c *Call) relay(ctx context.Context, conn *net.UDPConn, ans sdp.Answer, l *leg) (BridgeStats, error) {
	var st BridgeStats
	rx, err := media.NewReceiver(receiverConfig(ans))
	if err != nil {
		c.byeLeg(l.dlg)
		return st, fmt.Errorf("sip: bridge receiver: %w", err)
	}
	pk, err := newPacketizer(ans)
	if err != nil {
		c.byeLeg(l.dlg)
		return st, err
	}
	var rxMu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return // closed below
			}
			rxMu.Lock()
			if rx.Receive(buf[:n], time.Now()) == nil {
				st.FromAgent++
			}
			rxMu.Unlock()
		}
	}()
	// The reader goroutine counts FromAgent under rxMu; it has stopped by
	// the time the deferred wait returns, so the result is read after it.
	finish := func() BridgeStats {
		_ = conn.Close()
		wg.Wait()
		c.log.Info("bridge ended", "from_agent", st.FromAgent, "to_agent", st.ToAgent)
		return st
	}
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.byeLeg(l.dlg) // the caller hung up
				return finish(), nil
			}
			if pkt, err := pk.Packet(f.Samples); err == nil {
				if _, err := conn.WriteToUDPAddrPort(pkt, ans.Remote); err == nil {
					st.ToAgent++
				}
			}
		case <-t.C:
			rxMu.Lock()
			f := rx.Pull()
			samples := append([]float32(nil), f.Samples...)
			rxMu.Unlock()
			if err := c.WriteFrame(samples); err != nil {
				c.byeLeg(l.dlg)
				return finish(), nil
			}
		case <-l.done:
			c.log.Info("agent hung up the bridged call")
			return finish(), nil
		case <-ctx.Done():
			c.byeLeg(l.dlg)
			return finish(), nil
		}
	}
}
