package media

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// SenderConfig configures a Packetizer.
type SenderConfig struct {
	PayloadType uint8 // negotiated PT of the audio codec
	Codec       Codec // PCMU or PCMA
	// EventPayloadType is the negotiated telephone-event PT; 0 means DTMF
	// sending is not negotiated (PT 0 is always PCMU).
	EventPayloadType uint8
	// Rand supplies the initial SSRC, sequence number and timestamp (RFC
	// 3550 §5.1 wants them unpredictable). Nil means crypto/rand.
	Rand io.Reader
}

// Packetizer turns 20 ms frames into RTP packets for one call. Not safe for
// concurrent use.
type Packetizer struct {
	cfg    SenderConfig
	hdr    rtp.Header
	marker bool
	buf    []byte
}

// NewPacketizer returns a Packetizer with a random SSRC, sequence number and
// timestamp.
func NewPacketizer(cfg SenderConfig) (*Packetizer, error) {
	if cfg.Codec != PCMU && cfg.Codec != PCMA {
		return nil, fmt.Errorf("%w sender config: codec %v", ErrInvalid, cfg.Codec)
	}
	if cfg.PayloadType > 127 || cfg.EventPayloadType > 127 {
		return nil, fmt.Errorf("%w sender config: payload type > 127", ErrInvalid)
	}
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [10]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return nil, fmt.Errorf("media: packetizer random state: %w", err)
	}
	return &Packetizer{
		cfg: cfg,
		hdr: rtp.Header{
			Version:        2,
			PayloadType:    cfg.PayloadType,
			SSRC:           binary.BigEndian.Uint32(b[0:4]),
			SequenceNumber: binary.BigEndian.Uint16(b[4:6]),
			Timestamp:      binary.BigEndian.Uint32(b[6:10]),
		},
		marker: true,
	}, nil
}

// SSRC returns the packetizer's synchronisation source.
func (p *Packetizer) SSRC() uint32 { return p.hdr.SSRC }

// Packet encodes one frame (normally FrameSamples samples) and returns the
// RTP packet, valid until the next call. The first packet, and the first
// after Silence, carries the marker bit that starts a talkspurt.
func (p *Packetizer) Packet(frame []float32) ([]byte, error) {
	if len(frame) == 0 || len(frame) > 8000 {
		return nil, fmt.Errorf("%w: frame of %d samples", ErrInvalid, len(frame))
	}
	h := p.hdr
	h.Marker = p.marker
	p.marker = false
	p.buf = p.marshalHeader(p.buf[:0], &h)
	if p.cfg.Codec == PCMA {
		p.buf = audio.EncodeALaw(p.buf, frame)
	} else {
		p.buf = audio.EncodeULaw(p.buf, frame)
	}
	p.hdr.SequenceNumber++
	p.hdr.Timestamp += uint32(len(frame))
	return p.buf, nil
}

// Silence records that frames of d (rounded to 20 ms) are not sent, for
// silence suppression or on hold: the timestamp advances, the sequence
// number does not, and the next packet carries the marker bit.
func (p *Packetizer) Silence(d time.Duration) {
	p.hdr.Timestamp += uint32(d / FrameDuration * FrameSamples)
	p.marker = true
}

// DTMF returns the RFC 4733 packets of one key press lasting d (at least
// 40 ms): a start packet with the marker bit, an update every 20 ms, and
// the end packet three times. The caller sends them one per 20 ms (the
// three ends may go back to back) instead of audio, and the audio
// timestamp resumes after the event. volume is in -dBm0 (0-63; 10 is
// typical).
func (p *Packetizer) DTMF(key byte, d time.Duration, volume uint8) ([][]byte, error) {
	code, ok := eventCode(key)
	if !ok {
		return nil, fmt.Errorf("%w: DTMF key %q", ErrInvalid, key)
	}
	if p.cfg.EventPayloadType == 0 {
		return nil, fmt.Errorf("%w: telephone-event not negotiated", ErrInvalid)
	}
	if d < 2*FrameDuration || d > 8*time.Second { // duration is 16-bit
		return nil, fmt.Errorf("%w: DTMF duration %v", ErrInvalid, d)
	}
	frames := int(d / FrameDuration)
	h := p.hdr
	h.PayloadType = p.cfg.EventPayloadType
	var out [][]byte
	for i := 1; i <= frames+2; i++ {
		dur := min(i, frames) * FrameSamples
		end := i >= frames
		h.Marker = i == 1
		b := p.marshalHeader(make([]byte, 0, 16), &h)
		flags := volume & 0x3f
		if end {
			flags |= 0x80
		}
		b = append(b, code, flags, byte(dur>>8), byte(dur))
		out = append(out, b)
		h.SequenceNumber++
	}
	p.hdr.SequenceNumber = h.SequenceNumber
	p.hdr.Timestamp += uint32(frames * FrameSamples)
	p.marker = true
	return out, nil
}

func (p *Packetizer) marshalHeader(dst []byte, h *rtp.Header) []byte {
	n := h.MarshalSize()
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	// A header with no CSRC or extension always fits in its MarshalSize.
	_, _ = h.MarshalTo(dst[start:])
	return dst
}
