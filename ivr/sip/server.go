package sip

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

// CallHandler serves established calls. HandleCall runs in its own goroutine
// per call; ctx is cancelled when the call ends. When HandleCall returns,
// the call is hung up if it is still up. Implementations must be safe for
// concurrent use.
type CallHandler interface {
	HandleCall(ctx context.Context, call *Call)
}

// CallHandlerFunc adapts a function to CallHandler.
type CallHandlerFunc func(ctx context.Context, call *Call)

// HandleCall calls f.
func (f CallHandlerFunc) HandleCall(ctx context.Context, call *Call) { f(ctx, call) }

// Deps are what a Server needs from the rest of the program.
type Deps struct {
	Handler CallHandler  // required
	Logger  *slog.Logger // nil discards logs
	// Registrar serves REGISTER (agents' phones); nil answers 405.
	Registrar Registrar
}

// Registrar serves REGISTER requests. It answers on tx itself (a digest
// challenge, 200, 403).
type Registrar interface {
	ServeRegister(req *sipmsg.Request, tx sipmsg.ServerTransaction)
}

// allowed is the Allow header: the methods we serve. NOTIFY is only
// accepted inside a call, for the progress of a REFER we sent.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY"

// Server is a SIP user agent server. Create it with New; stop it with Close.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler CallHandler
	reg     Registrar
	now     func() time.Time

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	dua     *sipgo.DialogUA
	contact sipmsg.ContactHeader
	limiter *limiter

	udp     net.PacketConn
	tcp     net.Listener
	tls     net.Listener
	serveWG sync.WaitGroup

	// ctx is the parent of every call's context; Close cancels it last.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	calls   map[string]*Call // by dialog ID, from the 200 OK until the call ends
	legs    map[string]*leg  // our outgoing B2BUA legs, by dialog ID
	closing bool
	callWG  sync.WaitGroup // call goroutines and handlers
}

// New binds the listeners and starts serving. The caller must Close the
// Server.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Handler == nil {
		return nil, errors.New("sip: new: no call handler")
	}
	cfg = cfg.withDefaults()
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "ivr/sip")

	s := &Server{
		cfg:     cfg,
		log:     log,
		handler: deps.Handler,
		reg:     deps.Registrar,
		now:     time.Now,
		limiter: newLimiter(cfg.InviteRate, cfg.InviteBurst, cfg.RateLimitLogInterval),
		calls:   map[string]*Call{},
		legs:    map[string]*leg{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	if err := s.listen(); err != nil {
		s.closeListeners()
		s.cancel()
		return nil, err
	}
	host := s.cfg.MediaAddr.String()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgentHostname(host))
	if err != nil {
		s.closeListeners()
		s.cancel()
		return nil, fmt.Errorf("sip: new ua: %w", err)
	}
	s.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = ua.Close()
		s.closeListeners()
		s.cancel()
		return nil, fmt.Errorf("sip: new server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(log))
	if err != nil {
		_ = ua.Close()
		s.closeListeners()
		s.cancel()
		return nil, fmt.Errorf("sip: new client: %w", err)
	}
	s.srv = srv
	port := s.UDPAddr().Port()
	s.contact = sipmsg.ContactHeader{Address: sipmsg.Uri{User: "ivr", Host: host, Port: int(port)}}
	s.dua = &sipgo.DialogUA{Client: client, ContactHDR: s.contact}

	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAck)
	srv.OnBye(s.onBye)
	srv.OnCancel(s.onCancel)
	srv.OnOptions(s.onOptions)
	srv.OnNotify(s.onNotify)
	if s.reg != nil {
		srv.OnRegister(s.reg.ServeRegister)
	}
	srv.OnNoRoute(s.onOther)

	s.serve(func() error { return srv.ServeUDP(s.udp) }, "udp")
	s.serve(func() error { return srv.ServeTCP(s.tcp) }, "tcp")
	if s.tls != nil {
		s.serve(func() error { return srv.ServeTLS(s.tls) }, "tls")
	}
	log.Info("sip server listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String())
	return s, nil
}

func (s *Server) serve(f func() error, network string) {
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := f(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip listener stopped", "network", network, "err", err)
		}
	}()
}

// listen binds UDP and TCP on the same port; with port 0 it retries a few
// times because the free UDP port may be taken for TCP.
func (s *Server) listen() error {
	var lastErr error
	for range 10 {
		udp, err := net.ListenPacket("udp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", s.cfg.Addr, err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			_ = udp.Close()
			lastErr = err
			if strings.HasSuffix(s.cfg.Addr, ":0") {
				continue
			}
			break
		}
		s.udp, s.tcp = udp, tcp
		lastErr = nil
		break
	}
	if lastErr != nil {
		return fmt.Errorf("sip: listen tcp %s: %w", s.cfg.Addr, lastErr)
	}
	if s.cfg.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("sip: tls: %w", err)
		}
		l, err := tls.Listen("tcp", s.cfg.TLSAddr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			return fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSAddr, err)
		}
		s.tls = l
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, c := range []interface{ Close() error }{s.udp, s.tcp, s.tls} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// UDPAddr returns the bound UDP address, e.g. to learn the port picked for
// port 0. TCP listens on the same port.
func (s *Server) UDPAddr() netip.AddrPort {
	return s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TLSAddr returns the bound SIP over TLS address, if TLS is configured.
func (s *Server) TLSAddr() (netip.AddrPort, bool) {
	if s.tls == nil {
		return netip.AddrPort{}, false
	}
	return s.tls.Addr().(*net.TCPAddr).AddrPort(), true
}

// ActiveCalls returns the number of calls that are up.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Close stops accepting calls, hangs up the active ones with BYE, waits for
// their handlers and stops the listeners. If ctx ends first, the remaining
// calls are dropped without waiting for the BYE transactions.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	calls := make([]*Call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			if err := c.hangup(ctx, ErrShutdown); err != nil {
				s.log.Warn("bye on shutdown failed", "call_id", c.ID, "err", err)
			}
		})
	}
	wg.Wait()
	s.cancel() // ends whatever is left, e.g. calls still ringing
	done := make(chan struct{})
	go func() { s.callWG.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("sip: close: waiting for call handlers: %w", ctx.Err())
	}
	_ = s.srv.Close()
	_ = s.ua.Close()
	s.closeListeners()
	s.serveWG.Wait()
	return err
}

// verdict is the outcome of checking an initial INVITE's offer.
type verdict struct {
	status  int
	reason  string
	warning string // Warning header value, "" for none
	accept  bool   // add Accept: application/sdp
	answer  sdp.Answer
	err     error // why it was refused, for the log
}

// judgeOffer maps an INVITE's body to our answer or to the status code that
// refuses it. It is the one place where ivr/sdp errors become SIP codes.
func (s *Server) judgeOffer(req *sipmsg.Request, local sdp.Local) verdict {
	body := req.Body()
	if len(body) == 0 {
		return verdict{status: sipmsg.StatusNotAcceptableHere, reason: "Not Acceptable Here",
			warning: s.warning(sdp.WarnMiscellaneous, "offerless INVITE not supported"), err: errors.New("no SDP offer")}
	}
	if ct := req.ContentType(); ct != nil && !strings.EqualFold(strings.TrimSpace(strings.SplitN(ct.Value(), ";", 2)[0]), "application/sdp") {
		return verdict{status: sipmsg.StatusUnsupportedMediaType, reason: "Unsupported Media Type", accept: true,
			err: fmt.Errorf("content type %q", ct.Value())}
	}
	ans, err := sdp.Negotiate(body, local)
	var na *sdp.NotAcceptable
	switch {
	case err == nil:
		return verdict{status: sipmsg.StatusOK, reason: "OK", answer: ans}
	case errors.As(err, &na):
		return verdict{status: sipmsg.StatusNotAcceptableHere, reason: "Not Acceptable Here",
			warning: s.warning(na.Warning, na.Reason), err: err}
	case errors.Is(err, sdp.ErrMalformed):
		return verdict{status: sipmsg.StatusBadRequest, reason: "Bad Request", err: err}
	default:
		return verdict{status: sipmsg.StatusInternalServerError, reason: "Server Internal Error", err: err}
	}
}

// warning formats an RFC 3261 §20.43 Warning value. The reason comes from
// ivr/sdp, which promises it has no '"'; we strip them anyway because a
// quote would break the header.
func (s *Server) warning(code int, reason string) string {
	reason = strings.NewReplacer(`"`, "'", "\r", " ", "\n", " ").Replace(reason)
	return fmt.Sprintf(`%d %s "%s"`, code, s.cfg.MediaAddr, reason)
}

func (v verdict) response(req *sipmsg.Request) *sipmsg.Response {
	res := sipmsg.NewResponseFromRequest(req, v.status, v.reason, nil)
	if v.warning != "" {
		res.AppendHeader(sipmsg.NewHeader("Warning", v.warning))
	}
	if v.accept {
		res.AppendHeader(sipmsg.NewHeader("Accept", "application/sdp"))
	}
	return res
}

func (s *Server) respond(tx sipmsg.ServerTransaction, res *sipmsg.Response, log *slog.Logger) {
	if err := tx.Respond(res); err != nil {
		log.Debug("respond failed", "status", res.StatusCode, "err", err)
	}
}

func hasToTag(req *sipmsg.Request) bool {
	to := req.To()
	return to != nil && to.Params.Has("tag")
}

func sourceHost(req *sipmsg.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}

func callID(req *sipmsg.Request) string {
	if id := req.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

func (s *Server) onInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	log := s.log.With("call_id", callID(req), "src", req.Source())
	if hasToTag(req) {
		s.onReInvite(req, tx, log)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusServiceUnavailable, "Service Unavailable", nil), log)
		return
	}
	if ok, logNow, dropped := s.limiter.allow(sourceHost(req), s.now()); !ok {
		if logNow {
			log.Warn("invite rate limit exceeded", "dropped", dropped)
		}
		res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusServiceUnavailable, "Service Unavailable", nil)
		res.AppendHeader(sipmsg.NewHeader("Retry-After", strconv.Itoa(max(1, int(1/s.cfg.InviteRate+0.999)))))
		s.respond(tx, res, log)
		return
	}
	s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusTrying, "Trying", nil), log)

	conn, err := s.bindRTP()
	if err != nil {
		log.Error("rtp bind failed", "err", err)
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusServiceUnavailable, "Service Unavailable", nil), log)
		return
	}
	sess := sdp.NewSession(randomID())
	local := sdp.Local{Addr: s.cfg.MediaAddr, Port: conn.LocalAddr().(*net.UDPAddr).Port, Session: sess}
	v := s.judgeOffer(req, local)
	if v.status != sipmsg.StatusOK {
		_ = conn.Close()
		log.Info("invite refused", "status", v.status, "err", v.err)
		s.respond(tx, v.response(req), log)
		return
	}
	dlg, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		_ = conn.Close()
		log.Info("invite refused", "status", 400, "err", err)
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusBadRequest, "Bad Request", nil), log)
		return
	}
	call, err := newCall(s, dlg, conn, sess, v.answer, log)
	if err != nil {
		_ = conn.Close()
		log.Error("call setup failed", "err", err)
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusInternalServerError, "Server Internal Error", nil), log)
		return
	}
	if s.cfg.RingDelay > 0 {
		if err := dlg.Respond(sipmsg.StatusRinging, "Ringing", nil); err != nil {
			call.abandon()
			return
		}
		t := time.NewTimer(s.cfg.RingDelay)
		select {
		case <-t.C:
		case <-dlg.Context().Done(): // CANCEL: the transaction layer sent 200 and 487
			t.Stop()
			log.Info("call canceled before answer")
			call.abandon()
			return
		case <-s.ctx.Done():
			t.Stop()
			_ = dlg.Respond(sipmsg.StatusServiceUnavailable, "Service Unavailable", nil)
			call.abandon()
			return
		}
	}
	// Register before the 200 OK so the ACK and an early BYE find the dialog.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = dlg.Respond(sipmsg.StatusServiceUnavailable, "Service Unavailable", nil)
		call.abandon()
		return
	}
	s.calls[dlg.ID] = call
	s.callWG.Add(1) // released by call.end
	s.mu.Unlock()

	res := sipmsg.NewSDPResponseFromRequest(dlg.InviteRequest, v.answer.SDP)
	res.AppendHeader(&s.contact)
	res.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	// WriteResponse retransmits the 200 until the ACK arrives (RFC 6026).
	if err := dlg.WriteResponse(res); err != nil {
		log.Info("call not established", "err", err)
		call.end(ErrCanceled)
		return
	}
	log.Info("call established", "codec", v.answer.Codec.Name, "remote", v.answer.Remote)
	call.start()
}

func (s *Server) onReInvite(req *sipmsg.Request, tx sipmsg.ServerTransaction, log *slog.Logger) {
	call := s.lookup(req)
	if call == nil {
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil), log)
		return
	}
	v := call.renegotiate(req)
	if v.status != sipmsg.StatusOK {
		// RFC 3261 §14.2: a refused re-INVITE leaves the session as it was.
		log.Info("re-invite refused", "status", v.status, "err", v.err)
		s.respond(tx, v.response(req), log)
		return
	}
	res := sipmsg.NewSDPResponseFromRequest(req, v.answer.SDP)
	res.AppendHeader(&s.contact)
	log.Info("re-invite accepted", "hold", v.answer.Hold, "direction", v.answer.Direction)
	s.respond(tx, res, log)
}

func (s *Server) lookup(req *sipmsg.Request) *Call {
	id, err := sipmsg.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// lookupLeg finds the B2BUA leg an in-dialog request from its far end
// belongs to.
func (s *Server) lookupLeg(req *sipmsg.Request) *leg {
	id, err := sipmsg.DialogIDFromRequestUAC(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs[id]
}

func (s *Server) onAck(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if call := s.lookup(req); call != nil {
		// An error means the ACK of a re-INVITE (another CSeq); nothing to do.
		_ = call.dlg.ReadAck(req, tx)
	}
}

func (s *Server) onBye(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	log := s.log.With("call_id", callID(req))
	call := s.lookup(req)
	if call == nil {
		if l := s.lookupLeg(req); l != nil {
			if err := l.dlg.ReadBye(req, tx); err != nil {
				log.Warn("bye of a bridged leg", "err", err)
			}
			l.ended()
			return
		}
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil), log)
		return
	}
	if err := call.dlg.ReadBye(req, tx); err != nil {
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusBadRequest, "Bad Request", nil), log)
		return
	}
	log.Info("caller hung up")
	call.end(ErrRemoteHangup)
}

// onCancel sees only CANCELs that match no INVITE transaction: the
// transaction layer answers the others itself.
func (s *Server) onCancel(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil), s.log)
}

func (s *Server) onOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil)
	res.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	res.AppendHeader(sipmsg.NewHeader("Accept", "application/sdp"))
	s.respond(tx, res, s.log)
}

// onNotify accepts the NOTIFYs of a REFER's implicit subscription (RFC
// 3515 §2.4.4): their message/sipfrag body says how the referred call is
// going, which Call.Refer waits for.
func (s *Server) onNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	log := s.log.With("call_id", callID(req))
	call := s.lookup(req)
	if call == nil {
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil), log)
		return
	}
	ev := req.GetHeader("Event")
	if ev == nil || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ev.Value())), "refer") {
		s.respond(tx, sipmsg.NewResponseFromRequest(req, 489, "Bad Event", nil), log)
		return
	}
	s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusOK, "OK", nil), log)
	if code, ok := sipfragStatus(req.Body()); ok {
		call.notified(code)
	}
}

// sipfragStatus reads the status code of a message/sipfrag status line,
// "SIP/2.0 200 OK".
func sipfragStatus(body []byte) (int, bool) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		return 0, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, false
	}
	return code, true
}

// onOther answers methods we do not serve: 481 for an in-dialog request of
// an unknown dialog (RFC 3261 §12.2.2), else 405 with Allow.
func (s *Server) onOther(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if req.IsAck() {
		return
	}
	if hasToTag(req) && s.lookup(req) == nil {
		s.respond(tx, sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil), s.log)
		return
	}
	res := sipmsg.NewResponseFromRequest(req, sipmsg.StatusMethodNotAllowed, "Method Not Allowed", nil)
	res.AppendHeader(sipmsg.NewHeader("Allow", allowed))
	s.respond(tx, res, s.log)
}

// bindRTP binds the RTP socket of a new call, on an even port of the range
// when one is configured (RFC 3550 §11 keeps odd ports for RTCP).
func (s *Server) bindRTP() (*net.UDPConn, error) {
	ip := net.IP(s.cfg.MediaAddr.AsSlice())
	if s.cfg.RTPPortMin == 0 {
		return net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	}
	lo := s.cfg.RTPPortMin + s.cfg.RTPPortMin%2
	n := (s.cfg.RTPPortMax-lo)/2 + 1
	if n <= 0 {
		return nil, fmt.Errorf("sip: rtp port range %d-%d has no even port", s.cfg.RTPPortMin, s.cfg.RTPPortMax)
	}
	start, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return nil, fmt.Errorf("sip: rtp port: %w", err)
	}
	var lastErr error
	for i := range n {
		port := lo + 2*((int(start.Int64())+i)%n)
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("sip: rtp port range %d-%d exhausted: %w", s.cfg.RTPPortMin, s.cfg.RTPPortMax, lastErr)
}

func randomID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}
