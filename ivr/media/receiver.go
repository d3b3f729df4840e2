package media

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// Limits on sequence jumps, as in RFC 3550 A.1: a packet further ahead than
// maxDropout or further behind than maxMisorder does not belong to the
// stream unless the next packet continues from it (a sender restart).
const (
	maxDropout  = 3000
	maxMisorder = 100
	seqWindow   = 128 // sequence numbers remembered for duplicate detection
	fadeFrames  = 3   // concealment frames that fade the last frame out
)

// Stats are the receive statistics of a call, cumulative over SSRC changes.
type Stats struct {
	Received    uint64  // valid packets from the stream, late ones included, duplicates not
	Lost        uint64  // expected minus received, per RFC 3550 A.3
	Late        uint64  // arrived after their audio was played out
	Duplicate   uint64  // sequence number already received
	Reordered   uint64  // arrived after a packet with a higher sequence number
	Invalid     uint64  // malformed, unknown payload type or out of bounds
	Foreign     uint64  // from an unexpected SSRC, dropped
	SSRCChanges uint64  // times a new SSRC was adopted (or the sequence restarted)
	Concealed   uint64  // frames Pull produced by concealment
	Overflow    uint64  // frames skipped because the sender ran ahead of the buffer
	Jitter      float64 // RFC 3550 A.8 interarrival jitter, in timestamp units
}

// JitterDuration returns Stats.Jitter as a duration.
func (s Stats) JitterDuration() time.Duration {
	return time.Duration(s.Jitter * float64(time.Second) / SampleRate)
}

// Frame is one 20 ms frame of 8 kHz audio from Pull.
type Frame struct {
	// Samples holds FrameSamples samples; it is owned by the Receiver and
	// valid until the next Pull.
	Samples []float32
	// Concealed reports that some or all of the frame was not received and
	// was synthesised (see Receiver).
	Concealed bool
}

// chunk is the decoded audio of one packet waiting in the jitter buffer.
type chunk struct {
	ts      int64 // extended timestamp of the first sample
	samples []float32
}

// Receiver is the receive side of one call's media: RTP in, steady 20 ms
// frames and DTMF digits out.
//
// SSRC rule: the first valid packet establishes the SSRC. Packets from any
// other SSRC are counted (Stats.Foreign) and dropped, unless the same new
// SSRC sends Config.SSRCSwitch consecutive packets with nothing from the
// established SSRC in between; then the receiver adopts it (a re-INVITE,
// a transfer, a media server taking over) and restarts sequence, timestamp,
// jitter and buffer state as for a new stream. Reset forces that at once,
// for the call layer to use when it knows the stream changed.
//
// Jitter buffer: decoded audio is placed by RTP timestamp, so packets of any
// ptime are re-framed into 20 ms frames. Playout starts once Config.Depth of
// audio is buffered, then every Pull takes the next 20 ms. Missing audio is
// concealed: the last good frame is repeated while fading linearly to zero
// over three frames (60 ms), then silence — repetition hides a single lost
// packet, the fade avoids a buzzing loop on a long gap. A sender that runs
// ahead by more than twice the depth (clock drift, a timestamp jump after
// silence suppression) makes the buffer skip forward.
//
// Inactivity: LastPacket returns when the last valid packet arrived, so the
// call layer can hang up after an RTP timeout (e.g. 30 s without media,
// checked from its 20 ms loop); the Receiver itself keeps no timers.
//
// DTMF: RFC 4733 events on a TelephoneEvent payload type produce one digit
// per event. The in-band detector runs over the played-out audio until the
// first telephone-event packet arrives; from then on it is off for the rest
// of the call, and in-band digits not yet taken are discarded, because a
// sender that sends events usually leaves the tones in the audio too and
// each press would be counted twice.
type Receiver struct {
	cfg          Config
	depthSamples int64
	maxAhead     int64

	pkt rtp.Packet

	// Stream state, reset on an SSRC change.
	started    bool // a stream is established
	ssrc       uint32
	maxSeq     int64 // highest extended sequence number
	baseSeq    int64
	seen       [seqWindow / 64]uint64
	badSeq     int64 // expected next sequence after a jump; -1 for none
	maxTS      int64 // highest extended timestamp
	received   uint64
	priorExp   uint64 // expected/received of earlier streams, for Lost
	priorRecv  uint64
	transit    int64
	haveTransi bool

	candSSRC  uint32
	candCount int

	// Playout.
	chunks    []chunk
	free      [][]float32
	playing   bool
	playTS    int64
	out       [FrameSamples]float32
	lastGood  [FrameSamples]float32
	haveGood  bool
	concealed int

	events     eventTracker
	eventsSeen bool
	tones      *ToneDetector
	digits     []Digit
	last       time.Time
	stats      Stats
	emitEvent  func(Digit)
	emitInband func(Digit)
	epoch      time.Time
	haveEpoch  bool
}

// NewReceiver returns a Receiver for one call.
func NewReceiver(cfg Config) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &Receiver{
		cfg:          cfg,
		depthSamples: int64(cfg.Depth / (time.Second / SampleRate)),
		badSeq:       -1,
	}
	r.maxAhead = 2 * r.depthSamples
	if !cfg.DisableInband {
		r.tones = NewToneDetector()
	}
	r.emitEvent = func(d Digit) { r.digits = append(r.digits, d) }
	r.emitInband = func(d Digit) {
		if !r.eventsSeen {
			r.digits = append(r.digits, d)
		}
	}
	return r, nil
}

// Stats returns the statistics so far.
func (r *Receiver) Stats() Stats {
	s := r.stats
	exp := r.priorExp
	if r.started {
		exp += uint64(r.maxSeq - r.baseSeq + 1)
	}
	if recv := r.priorRecv + r.received; exp > recv {
		s.Lost = exp - recv
	}
	return s
}

// LastPacket returns the arrival time of the last valid packet, or the zero
// time if none has arrived.
func (r *Receiver) LastPacket() time.Time { return r.last }

// Reset drops the stream state so the next packet starts a new stream,
// whatever its SSRC. Statistics and the in-band/RFC 4733 decision are kept.
func (r *Receiver) Reset() {
	if r.started {
		r.priorExp += uint64(r.maxSeq - r.baseSeq + 1)
		r.priorRecv += r.received
	}
	r.events.reset(r.emitEvent)
	r.started, r.received, r.haveTransi, r.badSeq = false, 0, false, -1
	r.seen = [seqWindow / 64]uint64{}
	r.candCount = 0
	for _, c := range r.chunks {
		r.free = append(r.free, c.samples)
	}
	r.chunks = r.chunks[:0]
	r.playing = false
}

// Receive processes one RTP packet that arrived at now. It returns an error
// wrapping one of the package's sentinels when the packet is dropped; the
// error is informational and the stream goes on. buf is not retained.
func (r *Receiver) Receive(buf []byte, now time.Time) error {
	if len(buf) > r.cfg.MaxPacket {
		r.stats.Invalid++
		return fmt.Errorf("%w: %d bytes > %d", ErrSize, len(buf), r.cfg.MaxPacket)
	}
	if err := r.pkt.Unmarshal(buf); err != nil {
		r.stats.Invalid++
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	h := &r.pkt.Header
	if h.Version != 2 {
		r.stats.Invalid++
		return fmt.Errorf("%w: version %d", ErrMalformed, h.Version)
	}
	codec, ok := r.cfg.Payloads[h.PayloadType]
	if !ok {
		r.stats.Invalid++
		return fmt.Errorf("%w: %d", ErrPayloadType, h.PayloadType)
	}
	payload := r.pkt.Payload
	switch codec {
	case TelephoneEvent:
		if len(payload) < 4 {
			r.stats.Invalid++
			return fmt.Errorf("%w: telephone-event payload %d bytes", ErrSize, len(payload))
		}
	default:
		if len(payload) == 0 || len(payload) > r.cfg.MaxPayloadSamples {
			r.stats.Invalid++
			return fmt.Errorf("%w: payload %d samples", ErrSize, len(payload))
		}
	}

	if codec == TelephoneEvent && r.started && h.SSRC != r.ssrc {
		// Some senders put their RFC 4733 events under an SSRC of their
		// own beside the audio (SIPp's play_dtmf, gateways that inject
		// DTMF). The events are taken on their own timestamps; the audio
		// stream is left as it is.
		r.last = now
		r.takeEvent(int64(h.Timestamp), payload, now)
		return nil
	}
	if err := r.admitSSRC(h.SSRC); err != nil {
		return err
	}
	_, ts, err := r.track(h.SequenceNumber, h.Timestamp)
	if err != nil {
		return err
	}
	r.last = now

	if codec == TelephoneEvent {
		r.takeEvent(ts, payload, now)
		return nil
	}
	r.updateJitter(h.Timestamp, now)
	return r.buffer(ts, codec, payload)
}

// takeEvent decodes one telephone-event payload (length checked).
func (r *Receiver) takeEvent(ts int64, payload []byte, now time.Time) {
	ev, _ := parseEvent(payload)
	if !r.eventsSeen {
		r.eventsSeen = true
		r.digits = slices.DeleteFunc(r.digits, func(d Digit) bool { return d.Source == SourceInband })
	}
	r.events.packet(ts, ev, now, r.emitEvent)
}

// admitSSRC applies the SSRC rule.
func (r *Receiver) admitSSRC(ssrc uint32) error {
	if !r.started {
		r.ssrc = ssrc
		return nil
	}
	if ssrc == r.ssrc {
		r.candCount = 0
		return nil
	}
	if r.candCount > 0 && ssrc == r.candSSRC {
		r.candCount++
	} else {
		r.candSSRC, r.candCount = ssrc, 1
	}
	if r.candCount < r.cfg.SSRCSwitch {
		r.stats.Foreign++
		return fmt.Errorf("%w: %#08x (established %#08x)", ErrForeignSSRC, ssrc, r.ssrc)
	}
	r.Reset()
	r.ssrc = ssrc
	r.stats.SSRCChanges++
	return nil
}

// track extends the sequence number and timestamp and applies duplicate
// and jump detection.
func (r *Receiver) track(seq16 uint16, ts32 uint32) (int64, int64, error) {
	if !r.started {
		r.startStream(int64(seq16), int64(ts32))
		return r.maxSeq, r.maxTS, nil
	}
	seq := r.maxSeq + int64(int16(seq16-uint16(r.maxSeq)))
	ts := r.maxTS + int64(int32(ts32-uint32(r.maxTS)))
	if d := seq - r.maxSeq; d > maxDropout || d < -maxMisorder {
		if r.badSeq == int64(seq16) {
			// Two packets agree on the new numbering: the sender restarted.
			r.Reset()
			r.stats.SSRCChanges++
			r.startStream(int64(seq16), int64(ts32))
			return r.maxSeq, r.maxTS, nil
		}
		r.badSeq = int64(seq16 + 1)
		r.stats.Invalid++
		return 0, 0, fmt.Errorf("%w: %d after %d", ErrSequenceJump, seq16, uint16(r.maxSeq))
	}
	r.badSeq = -1
	if r.maxSeq-seq >= seqWindow {
		r.stats.Late++
		return 0, 0, fmt.Errorf("%w: sequence %d", ErrLate, seq16)
	}
	if seq <= r.maxSeq && r.isSeen(seq) {
		r.stats.Duplicate++
		return 0, 0, fmt.Errorf("%w: sequence %d", ErrDuplicate, seq16)
	}
	if seq < r.maxSeq {
		r.stats.Reordered++
	} else {
		r.shiftSeen(seq - r.maxSeq)
		r.maxSeq = seq
	}
	if ts > r.maxTS {
		r.maxTS = ts
	}
	r.markSeen(seq)
	r.received++
	r.stats.Received++
	return seq, ts, nil
}

func (r *Receiver) startStream(seq, ts int64) {
	r.started = true
	r.maxSeq, r.baseSeq, r.maxTS = seq, seq, ts
	r.seen = [seqWindow / 64]uint64{}
	r.markSeen(seq)
	r.received = 1
	r.stats.Received++
	r.badSeq = -1
}

// The seen window holds bit i for sequence maxSeq-i.
func (r *Receiver) isSeen(seq int64) bool {
	i := r.maxSeq - seq
	return r.seen[i/64]&(1<<(i%64)) != 0
}

func (r *Receiver) markSeen(seq int64) {
	i := r.maxSeq - seq
	r.seen[i/64] |= 1 << (i % 64)
}

func (r *Receiver) shiftSeen(n int64) {
	if n >= seqWindow {
		r.seen = [seqWindow / 64]uint64{}
		return
	}
	for ; n > 0; n-- { // n is small in practice: one per packet
		r.seen[1] = r.seen[1]<<1 | r.seen[0]>>63
		r.seen[0] <<= 1
	}
}

// updateJitter implements RFC 3550 A.8 with arrival times in timestamp
// units relative to the first packet.
func (r *Receiver) updateJitter(ts uint32, now time.Time) {
	if !r.haveEpoch {
		r.epoch, r.haveEpoch = now, true
	}
	arrival := now.Sub(r.epoch).Nanoseconds() * SampleRate / int64(time.Second)
	transit := arrival - int64(ts)
	if r.haveTransi {
		d := int64(int32(transit - r.transit)) // modulo 2^32, as the RTP clock wraps
		if d < 0 {
			d = -d
		}
		r.stats.Jitter += (float64(d) - r.stats.Jitter) / 16
	}
	r.transit, r.haveTransi = transit, true
}

// buffer decodes an audio payload into the jitter buffer.
func (r *Receiver) buffer(ts int64, codec Codec, payload []byte) error {
	end := ts + int64(len(payload))
	if r.playing && end <= r.playTS {
		r.stats.Late++
		return fmt.Errorf("%w: timestamp %d", ErrLate, uint32(ts))
	}
	var samples []float32
	if n := len(r.free); n > 0 {
		samples, r.free = r.free[n-1][:0], r.free[:n-1]
	}
	if codec == PCMA {
		samples = audio.DecodeALaw(samples, payload)
	} else {
		samples = audio.DecodeULaw(samples, payload)
	}
	i, _ := slices.BinarySearchFunc(r.chunks, ts, func(c chunk, ts int64) int { return cmp.Compare(c.ts, ts) })
	r.chunks = slices.Insert(r.chunks, i, chunk{ts: ts, samples: samples})

	if !r.playing {
		first := r.chunks[0].ts
		if end-first >= r.depthSamples {
			r.playing, r.playTS = true, first
		}
	}
	if r.playing && end-r.playTS > r.maxAhead {
		// Skip forward so that the newest audio sits Depth ahead.
		skip := end - r.depthSamples - r.playTS
		r.stats.Overflow += uint64((skip + FrameSamples - 1) / FrameSamples)
		r.playTS += (skip + FrameSamples - 1) / FrameSamples * FrameSamples
		r.dropBefore(r.playTS)
	}
	return nil
}

// dropBefore recycles chunks that end at or before ts.
func (r *Receiver) dropBefore(ts int64) {
	k := 0
	for _, c := range r.chunks {
		if c.ts+int64(len(c.samples)) <= ts {
			r.free = append(r.free, c.samples)
			continue
		}
		r.chunks[k] = c
		k++
	}
	r.chunks = r.chunks[:k]
}

// Pull returns the next 20 ms frame. Call it every 20 ms; before playout
// starts (and whenever audio is missing) the frame is concealment.
func (r *Receiver) Pull() Frame {
	covered := 0
	if r.playing {
		from, to := r.playTS, r.playTS+FrameSamples
		clear(r.out[:])
		for _, c := range r.chunks {
			if c.ts >= to {
				break
			}
			lo, hi := max(c.ts, from), min(c.ts+int64(len(c.samples)), to)
			if lo < hi {
				covered += copy(r.out[lo-from:hi-from], c.samples[lo-c.ts:hi-c.ts])
			}
		}
		r.playTS = to
		r.dropBefore(to)
	}
	concealed := covered < FrameSamples
	switch {
	case covered == FrameSamples:
		r.lastGood, r.haveGood, r.concealed = r.out, true, 0
	case covered == 0:
		r.conceal()
	default:
		// Partly received (a lost packet of a ptime other than 20 ms): keep
		// what arrived, the gap stays silent.
		r.concealed = 0
	}
	if concealed {
		r.stats.Concealed++
	}
	if r.tones != nil && !r.eventsSeen {
		if concealed {
			var zero [FrameSamples]float32
			r.tones.Process(zero[:], r.emitInband)
		} else {
			r.tones.Process(r.out[:], r.emitInband)
		}
	}
	return Frame{Samples: r.out[:], Concealed: concealed}
}

// conceal fills out with the last good frame faded by the concealment run.
func (r *Receiver) conceal() {
	r.concealed++
	if !r.haveGood || r.concealed > fadeFrames {
		clear(r.out[:])
		return
	}
	g0 := 1 - float32(r.concealed-1)/fadeFrames
	step := float32(1) / fadeFrames / FrameSamples
	for i, s := range r.lastGood {
		r.out[i] = s * (g0 - step*float32(i))
	}
}

// Digits appends the DTMF digits detected since the last call to dst and
// returns it. now closes an RFC 4733 event whose end packets were lost once
// Config.EventTimeout has passed without a packet for it.
func (r *Receiver) Digits(dst []Digit, now time.Time) []Digit {
	r.events.expire(now, r.cfg.EventTimeout, r.emitEvent)
	dst = append(dst, r.digits...)
	r.digits = r.digits[:0]
	return dst
}
