// Package sdp provides the SDP offer/answer negotiation (RFC 3264) of the
// voice IVR: it turns a caller's offer into our answer, or into a reason for
// 488 Not Acceptable Here, and writes our own offers.
//
// Only G.711 (PCMU, PCMA) at 8 kHz over plain RTP/AVP is served, with RFC 4733
// telephone-event for DTMF. Parsing and serialisation go through
// github.com/pion/sdp/v3; this package adds the media policy on top of it.
package sdp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
)

// Errors that callers branch on. The SIP layer maps them once, at its edge:
// ErrNotAcceptable → 488 Not Acceptable Here (Warning from NotAcceptable),
// ErrMalformed → 400 Bad Request, ErrInvalidLocal → 500 (our configuration).
var (
	// ErrNotAcceptable is wrapped by every *NotAcceptable: the offer is valid
	// SDP but offers nothing we can serve.
	ErrNotAcceptable = errors.New("sdp: offer not acceptable")
	// ErrMalformed means the offer could not be parsed as SDP or lacks a
	// mandatory part (such as a connection address for the chosen stream).
	ErrMalformed = errors.New("sdp: malformed offer")
	// ErrInvalidLocal means the Local description is unusable; it is our bug
	// or misconfiguration, never the caller's.
	ErrInvalidLocal = errors.New("sdp: invalid local media")
)

// Warning codes of RFC 3261 §20.43, carried by NotAcceptable so that the SIP
// layer can build "Warning: 3xx host "reason"" without parsing Reason.
const (
	WarnIncompatibleNetworkAddress = 301 // unusable c= address format
	WarnIncompatibleTransport      = 302 // e.g. RTP/SAVP only
	WarnMediaTypeNotAvailable      = 304 // no audio stream at all
	WarnIncompatibleMediaFormat    = 305 // no common codec
	WarnMiscellaneous              = 399 // e.g. every audio stream disabled
)

// NotAcceptable explains why an offer cannot be served. It matches
// ErrNotAcceptable with errors.Is.
type NotAcceptable struct {
	// Reason is short text for a SIP Warning header; it never contains '"'.
	Reason string
	// Warning is the RFC 3261 warn-code that fits Reason (one of Warn…).
	Warning int
}

func (e *NotAcceptable) Error() string { return "sdp: offer not acceptable: " + e.Reason }

// Unwrap lets errors.Is(err, ErrNotAcceptable) hold.
func (e *NotAcceptable) Unwrap() error { return ErrNotAcceptable }

// Direction is an SDP media direction attribute (RFC 3264 §5.1), always from
// the point of view of the side that wrote it.
type Direction int

// Directions, zero value SendRecv because it is the SDP default.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// reverse gives the answer direction for an offered one (RFC 3264 §6.1).
func (d Direction) reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Codec is one negotiated RTP payload format.
type Codec struct {
	// Name is the canonical encoding name: "PCMU", "PCMA" or "telephone-event".
	Name string
	// PayloadType is the caller's payload type; RFC 3264 §6.1 makes us reuse
	// it in the answer and in the RTP we send, even when it is dynamic.
	PayloadType uint8
	// ClockRate is the RTP clock rate in Hz (always 8000 here).
	ClockRate uint32
	// Fmtp holds format parameters, e.g. "0-15" for telephone-event.
	Fmtp string
}

// Local describes our media end of one call leg.
type Local struct {
	// Addr is the unicast address that receives our RTP; it goes into c= and o=.
	Addr netip.Addr
	// Port is the RTP port, 1–65535.
	Port int
	// Session keeps o= stable across one dialog. Nil means a one-off
	// description with a fresh random session id.
	Session *Session
}

// Validate reports whether l can describe a media end.
func (l Local) Validate() error {
	switch {
	case !l.Addr.IsValid() || l.Addr.IsUnspecified() || l.Addr.IsMulticast() || l.Addr.Zone() != "":
		return fmt.Errorf("%w: address %q is not a usable unicast address", ErrInvalidLocal, l.Addr)
	case l.Port < 1 || l.Port > 65535:
		return fmt.Errorf("%w: port %d out of range", ErrInvalidLocal, l.Port)
	}
	return nil
}

// Session is the origin (o=) of our side of one SIP dialog. RFC 3264 §8
// wants the session id fixed for the dialog and the version bumped by one
// whenever our description changes; a description that is unchanged (a
// session-refresh re-INVITE) keeps its version, as §8 also allows.
//
// A Session is not safe for concurrent use; that is fine because a dialog has
// at most one offer/answer exchange in progress (RFC 3261 §14.1).
type Session struct {
	id      uint64
	version uint64
	last    []byte // the last body we produced, to detect changes
}

// NewSession returns the origin state of a new dialog. id should be unique
// per dialog; the first description carries version id, as RFC 4566 suggests
// for both values being derived from one source. Values above 2^63-1 are
// clamped because some stacks parse them as signed.
func NewSession(id uint64) *Session {
	id &= 1<<63 - 1
	return &Session{id: id, version: id}
}

// ID returns the o= session id.
func (s *Session) ID() uint64 { return s.id }

// Version returns the o= version of the last description produced (or the
// one the first description will carry).
func (s *Session) Version() uint64 { return s.version }

// stamp decides the body to send. body was marshalled with s.version, as was
// s.last, so they differ only if the description changed; then it is
// marshalled again with the next version.
func (s *Session) stamp(body []byte, remarshal func(version uint64) ([]byte, error)) ([]byte, error) {
	if s.last == nil || string(s.last) == string(body) {
		s.last = body
		return body, nil
	}
	next, err := remarshal(s.version + 1)
	if err != nil {
		return nil, err
	}
	s.version++
	s.last = next
	return next, nil
}

func sessionFor(l Local) *Session {
	if l.Session != nil {
		return l.Session
	}
	return NewSession(rand.Uint64())
}
