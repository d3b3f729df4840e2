package media

import (
	"fmt"
	"time"
)

// Codec says how a negotiated RTP payload type is carried.
type Codec uint8

// Codecs this package understands, all at an 8 kHz RTP clock.
const (
	PCMU           Codec = iota + 1 // G.711 µ-law, static PT 0
	PCMA                            // G.711 A-law, static PT 8
	TelephoneEvent                  // RFC 4733 telephone-event, dynamic PT
)

func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	case TelephoneEvent:
		return "telephone-event"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// Audio timing: every codec here runs an 8 kHz clock and the consumer gets
// 20 ms frames, which is what nlu/asr expects.
const (
	SampleRate    = 8000
	FrameSamples  = 160 // 20 ms at 8 kHz
	FrameDuration = 20 * time.Millisecond
)

// Config configures a Receiver. The zero value of a field means its default.
type Config struct {
	// Payloads maps each payload type negotiated in SDP to its codec.
	// Default: 0→PCMU, 8→PCMA, 101→TelephoneEvent.
	Payloads map[uint8]Codec
	// Depth is the jitter-buffer depth: audio is held this long before
	// playout starts, so a packet may arrive up to Depth behind its
	// predecessor's schedule and still be played. A multiple of 20 ms.
	// Default 60 ms (3 frames).
	Depth time.Duration
	// MaxPacket bounds the size of a whole RTP packet. Default 1500 (one
	// Ethernet MTU; G.711 at 120 ms ptime is 972 bytes).
	MaxPacket int
	// MaxPayloadSamples bounds the audio samples in one packet. Default 960
	// (120 ms).
	MaxPayloadSamples int
	// SSRCSwitch is the number of consecutive packets a new SSRC must send,
	// with nothing from the established SSRC in between, before the
	// receiver adopts it. Default 3.
	SSRCSwitch int
	// EventTimeout finishes an RFC 4733 event whose end packets were all
	// lost: no packet for the event for this long ends it. Default 250 ms.
	EventTimeout time.Duration
	// DisableInband turns off the in-band (Goertzel) DTMF detector.
	DisableInband bool
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{
		Payloads:          map[uint8]Codec{0: PCMU, 8: PCMA, 101: TelephoneEvent},
		Depth:             60 * time.Millisecond,
		MaxPacket:         1500,
		MaxPayloadSamples: 960,
		SSRCSwitch:        3,
		EventTimeout:      250 * time.Millisecond,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Payloads == nil {
		c.Payloads = d.Payloads
	}
	if c.Depth == 0 {
		c.Depth = d.Depth
	}
	if c.MaxPacket == 0 {
		c.MaxPacket = d.MaxPacket
	}
	if c.MaxPayloadSamples == 0 {
		c.MaxPayloadSamples = d.MaxPayloadSamples
	}
	if c.SSRCSwitch == 0 {
		c.SSRCSwitch = d.SSRCSwitch
	}
	if c.EventTimeout == 0 {
		c.EventTimeout = d.EventTimeout
	}
	return c
}

// Validate reports whether c (after defaults) is usable.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Payloads) == 0 {
		return fmt.Errorf("%w config: no payload types", ErrInvalid)
	}
	for pt, codec := range c.Payloads {
		if pt > 127 {
			return fmt.Errorf("%w config: payload type %d > 127", ErrInvalid, pt)
		}
		if codec < PCMU || codec > TelephoneEvent {
			return fmt.Errorf("%w config: payload type %d: unknown codec %d", ErrInvalid, pt, codec)
		}
	}
	if c.Depth < FrameDuration || c.Depth > time.Second || c.Depth%FrameDuration != 0 {
		return fmt.Errorf("%w config: depth %v not a multiple of 20ms in [20ms, 1s]", ErrInvalid, c.Depth)
	}
	if c.MaxPacket < 12 || c.MaxPacket > 65535 {
		return fmt.Errorf("%w config: max packet %d", ErrInvalid, c.MaxPacket)
	}
	if c.MaxPayloadSamples < 1 || c.MaxPayloadSamples > 8000 {
		return fmt.Errorf("%w config: max payload samples %d", ErrInvalid, c.MaxPayloadSamples)
	}
	if c.SSRCSwitch < 1 {
		return fmt.Errorf("%w config: ssrc switch %d", ErrInvalid, c.SSRCSwitch)
	}
	if c.EventTimeout < 0 {
		return fmt.Errorf("%w config: event timeout %v", ErrInvalid, c.EventTimeout)
	}
	return nil
}
