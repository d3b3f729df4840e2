package media

import (
	"math"
	"time"
)

// DTMF frequencies: rows (low group) and columns (high group).
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
)

// dtmfKeys[row][col].
var dtmfKeys = [4][4]byte{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// Detector thresholds. The block is one 20 ms frame (160 samples, 50 Hz
// bins): the nearest other DTMF frequency is 73 Hz away, where a
// rectangular 160-sample window is already ~13 dB down, so the 6 dB
// in-group dominance check still separates them.
const (
	toneMinPower   = 1e-4 // mean power of the block (≈ -37 dBFS for a sine pair)
	toneDominance  = 4.0  // strongest tone ≥ 6 dB over the others of its group
	toneTwistNorm  = 6.3  // row may exceed column by 8 dB (normal twist)
	toneTwistRev   = 4.0  // column may exceed row by 6 dB (reverse twist)
	toneRelEnergy  = 0.75 // the two tones carry ≥ 75% of the block's energy
	toneMinBlocks  = 2    // 40 ms minimum duration
	toneGapBlocks  = 1    // 20 ms without the key before it may repeat
	toneBlockDurat = FrameDuration
)

// ToneDetector is a Goertzel DTMF detector over 8 kHz audio. It is fed
// whole 20 ms frames and reports a digit when its tone ends, with the
// tone's duration. A key is accepted when two consecutive frames (40 ms)
// show it, so a tone shorter than ~50 ms may be missed depending on how it
// straddles frames. Speech is rejected by requiring the two tones to carry
// most of the frame's energy, one tone to dominate each group, and the
// twist between groups to be bounded. Not safe for concurrent use.
type ToneDetector struct {
	coef   [8]float64
	cur    byte // key seen in the previous block, 0 for none
	run    int  // consecutive blocks of cur
	active bool // cur has been accepted and not yet emitted
	last   byte // last accepted key
	gap    int  // blocks without last since it ended
}

// NewToneDetector returns a detector for 8 kHz audio.
func NewToneDetector() *ToneDetector {
	d := &ToneDetector{gap: toneGapBlocks}
	for i, f := range append(dtmfRows[:], dtmfCols[:]...) {
		d.coef[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	return d
}

// Reset forgets any tone in progress.
func (d *ToneDetector) Reset() {
	*d = ToneDetector{coef: d.coef, gap: toneGapBlocks}
}

// Process analyses one 20 ms frame (other lengths are analysed as they
// are) and calls emit for a digit whose tone ended before this frame.
func (d *ToneDetector) Process(frame []float32, emit func(Digit)) {
	key := d.classify(frame)
	if key != 0 && key == d.cur {
		d.run++
	} else {
		if d.active {
			emit(Digit{Key: d.cur, Duration: time.Duration(d.run) * toneBlockDurat, Source: SourceInband})
			d.active, d.last, d.gap = false, d.cur, 0
		}
		d.cur, d.run = key, 0
		if key != 0 {
			d.run = 1
		}
	}
	if key != d.last {
		d.gap++
	}
	// The same key again needs a gap first, so one long tone with a
	// glitch is not two presses; a different key needs none.
	if !d.active && d.cur != 0 && d.run >= toneMinBlocks && (d.cur != d.last || d.gap >= toneGapBlocks) {
		d.active = true
	}
}

// classify returns the key whose tone pair dominates frame, or 0.
func (d *ToneDetector) classify(x []float32) byte {
	n := len(x)
	if n == 0 {
		return 0
	}
	var energy float64
	for _, s := range x {
		energy += float64(s) * float64(s)
	}
	if energy/float64(n) < toneMinPower {
		return 0
	}
	var pw [8]float64
	for i, c := range d.coef {
		var s1, s2 float64
		for _, s := range x {
			s0 := float64(s) + c*s1 - s2
			s2, s1 = s1, s0
		}
		// |X|² scaled so a sine of amplitude A gives its energy A²n/2.
		pw[i] = 2 * (s1*s1 + s2*s2 - c*s1*s2) / float64(n)
	}
	r, rp := strongest(pw[:4])
	c, cp := strongest(pw[4:])
	for i := range 4 {
		if i != r && pw[i]*toneDominance > rp {
			return 0
		}
		if i != c && pw[4+i]*toneDominance > cp {
			return 0
		}
	}
	if rp > cp*toneTwistNorm || cp > rp*toneTwistRev {
		return 0
	}
	if rp+cp < toneRelEnergy*energy {
		return 0
	}
	return dtmfKeys[r][c]
}

func strongest(p []float64) (int, float64) {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best, p[best]
}
