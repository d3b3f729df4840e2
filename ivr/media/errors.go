package media

import "errors"

// Errors returned by Receiver.Receive, for callers that count or log drops
// by cause. Every error Receive returns wraps exactly one of them; none of
// them is fatal to the call — the packet is dropped and the stream goes on.
var (
	// ErrMalformed: the bytes are not a well-formed RTP packet (truncated
	// header, bad version, padding or extension lengths that lie).
	ErrMalformed = errors.New("media: malformed RTP packet")
	// ErrPayloadType: the payload type was not negotiated for this call.
	ErrPayloadType = errors.New("media: payload type not negotiated")
	// ErrSize: the packet or its payload is outside the accepted bounds.
	ErrSize = errors.New("media: packet size out of bounds")
	// ErrForeignSSRC: the packet comes from another SSRC than the one the
	// call has established (see Receiver for the switch-over rule).
	ErrForeignSSRC = errors.New("media: packet from unexpected SSRC")
	// ErrDuplicate: the sequence number was already received.
	ErrDuplicate = errors.New("media: duplicate packet")
	// ErrLate: the packet arrived after its audio was played out.
	ErrLate = errors.New("media: packet too late for playout")
	// ErrSequenceJump: the sequence number jumped too far to belong to the
	// stream; a second packet continuing the jump restarts the stream.
	ErrSequenceJump = errors.New("media: sequence number jump")
	// ErrInvalid: a Config or an argument is invalid.
	ErrInvalid = errors.New("media: invalid")
)
