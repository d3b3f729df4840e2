package prompt

import "time"

// FrameSamples is the number of samples in one 20 ms frame at 8 kHz, the
// packetisation of the RTP media plane.
const FrameSamples = SampleRate / 50

// FrameDuration is the duration of one frame.
const FrameDuration = 20 * time.Millisecond

// Player hands out one prompt as 20 ms frames and stops it on barge-in.
//
// A Player is not safe for concurrent use: one call's media loop owns it,
// and barge-in is detected by that same loop between frames, so Stop needs
// no locking.
type Player struct {
	samples []float32
	pos     int // samples handed out, padding excluded
	stopped bool
	frame   [FrameSamples]float32
}

// NewPlayer returns a Player for samples at SampleRate. It does not modify
// or copy samples, so a cached prompt can back many Players at once.
func NewPlayer(samples []float32) *Player {
	return &Player{samples: samples}
}

// Next returns the next frame of FrameSamples samples, the last one padded
// with zeros, or ok=false when the prompt has ended or was stopped. The
// frame is valid until the next call to Next; it is a copy, so the caller
// may scale it in place without touching the prompt.
func (p *Player) Next() (frame []float32, ok bool) {
	if p.stopped || p.pos >= len(p.samples) {
		return nil, false
	}
	n := copy(p.frame[:], p.samples[p.pos:])
	clear(p.frame[n:])
	p.pos += n
	return p.frame[:], true
}

// Stop ends the prompt (barge-in): every later Next returns ok=false.
func (p *Player) Stop() { p.stopped = true }

// Stopped reports whether Stop was called.
func (p *Player) Stopped() bool { return p.stopped }

// Played returns how much of the prompt was handed out, not counting the
// padding of the last frame. After a barge-in it says how far the caller
// heard before speaking.
func (p *Player) Played() time.Duration { return samplesDuration(p.pos) }

// Remaining returns how much audio Next would still hand out: zero once the
// prompt has ended or was stopped.
func (p *Player) Remaining() time.Duration {
	if p.stopped {
		return 0
	}
	return samplesDuration(len(p.samples) - p.pos)
}

// Duration returns the length of the whole prompt.
func (p *Player) Duration() time.Duration { return samplesDuration(len(p.samples)) }

func samplesDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}
