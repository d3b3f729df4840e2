package media

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// ev is one telephone-event packet in a test script.
type ev struct {
	at   int // arrival, ms after t0
	ts   uint32
	key  byte
	end  bool
	dur  uint16
	skip bool // lost in transit: sequence number consumed, not delivered
}

func TestRFC4733(t *testing.T) {
	tests := []struct {
		name   string
		pkts   []ev
		pollAt int // ms after t0 for the final Digits call
		want   string
		durs   []time.Duration
	}{
		{"normal with retransmitted ends", []ev{
			{0, 8000, '5', false, 160, false}, {0, 8000, '5', false, 160, false}, // repeated start
			{20, 8000, '5', false, 320, false}, {40, 8000, '5', false, 480, false},
			{60, 8000, '5', true, 640, false}, {60, 8000, '5', true, 640, false}, {60, 8000, '5', true, 640, false},
		}, 70, "5", []time.Duration{80 * time.Millisecond}},
		{"lost end finishes on timeout", []ev{
			{0, 8000, '#', false, 160, false}, {20, 8000, '#', false, 320, false},
			{40, 8000, '#', true, 480, true}, {40, 8000, '#', true, 480, true}, {40, 8000, '#', true, 480, true},
		}, 300, "#", []time.Duration{40 * time.Millisecond}},
		{"lost end not yet timed out", []ev{
			{0, 8000, '#', false, 160, false},
		}, 100, "", nil},
		{"lost end finishes on next event", []ev{
			{0, 8000, '1', false, 160, false}, {20, 8000, '1', true, 320, true},
			{60, 8800, '2', false, 160, false}, {80, 8800, '2', true, 320, false},
		}, 90, "12", []time.Duration{20 * time.Millisecond, 40 * time.Millisecond}},
		{"two quick digits", []ev{
			{0, 8000, '*', false, 160, false}, {20, 8000, '*', true, 320, false}, {20, 8000, '*', true, 320, false},
			{40, 8320, 'D', false, 160, false}, {40, 8000, '*', true, 320, false}, // late end retransmission
			{60, 8320, 'D', true, 320, false}, {60, 8320, 'D', true, 320, false}, {60, 8320, 'D', true, 320, false},
		}, 70, "*D", []time.Duration{40 * time.Millisecond, 40 * time.Millisecond}},
		{"same key twice", []ev{
			{0, 8000, '7', false, 160, false}, {20, 8000, '7', true, 320, false},
			{100, 8800, '7', false, 160, false}, {120, 8800, '7', true, 320, false},
		}, 130, "77", []time.Duration{40 * time.Millisecond, 40 * time.Millisecond}},
		{"timestamp wrap between events", []ev{
			{0, math.MaxUint32 - 100, '0', true, 320, false},
			{60, 500, '9', true, 320, false},
		}, 70, "09", []time.Duration{40 * time.Millisecond, 40 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := NewReceiver(Config{})
			for i, p := range tt.pkts {
				if p.skip {
					continue
				}
				code, _ := eventCode(p.key)
				flags := byte(10)
				if p.end {
					flags |= 0x80
				}
				pkt := mkpkt(t, uint16(1000+i), p.ts, 3, 101, []byte{code, flags, byte(p.dur >> 8), byte(p.dur)})
				if err := r.Receive(pkt, t0.Add(time.Duration(p.at)*time.Millisecond)); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
			}
			got := r.Digits(nil, t0.Add(time.Duration(tt.pollAt)*time.Millisecond))
			var keys strings.Builder
			var durs []time.Duration
			for _, d := range got {
				keys.WriteByte(d.Key)
				durs = append(durs, d.Duration)
				if d.Source != SourceRFC4733 {
					t.Errorf("source = %v", d.Source)
				}
			}
			if keys.String() != tt.want {
				t.Fatalf("digits = %q, want %q", keys.String(), tt.want)
			}
			for i := range durs {
				if durs[i] != tt.durs[i] {
					t.Errorf("durations = %v, want %v", durs, tt.durs)
				}
			}
		})
	}
}

// dualTone synthesises key for d at the given level per tone.
func dualTone(key byte, d time.Duration, amp float64) []float32 {
	var fr, fc float64
	for i := range 4 {
		for j := range 4 {
			if dtmfKeys[i][j] == key {
				fr, fc = dtmfRows[i], dtmfCols[j]
			}
		}
	}
	n := int(d * SampleRate / time.Second)
	out := make([]float32, n)
	for i := range out {
		x := float64(i) / SampleRate
		out[i] = float32(amp * (math.Sin(2*math.Pi*fr*x) + math.Sin(2*math.Pi*fc*x)))
	}
	return out
}

func detect(sig []float32) []Digit {
	d := NewToneDetector()
	var got []Digit
	emit := func(x Digit) { got = append(got, x) }
	for i := 0; i+FrameSamples <= len(sig); i += FrameSamples {
		d.Process(sig[i:i+FrameSamples], emit)
	}
	var zero [FrameSamples]float32
	d.Process(zero[:], emit)
	return got
}

func keysOf(ds []Digit) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteByte(d.Key)
	}
	return b.String()
}

func loadSpeech(t *testing.T) []float32 {
	t.Helper()
	f, err := os.Open("../../nlu/audio/testdata/speech8k.wav")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.DecodeWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if w.SampleRate != SampleRate {
		t.Fatalf("speech WAV at %d Hz", w.SampleRate)
	}
	return w.Samples
}

func TestToneDetector(t *testing.T) {
	const all = "123A456B789C*0#D"
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(sig []float32, amp float64) []float32 {
		for i := range sig {
			sig[i] += float32(amp * rng.NormFloat64())
		}
		return sig
	}
	seq := func(keys string, on, off time.Duration, amp float64, offset int) []float32 {
		sig := make([]float32, offset)
		for i := range len(keys) {
			sig = append(sig, dualTone(keys[i], on, amp)...)
			sig = append(sig, make([]float32, off*SampleRate/time.Second)...)
		}
		return sig
	}
	sweep := func() []float32 {
		// A voiced-speech caricature: a fundamental gliding 90-300 Hz with
		// 20 harmonics rolling off 6 dB/octave, so harmonic pairs cross
		// every DTMF row/column combination on the way.
		n := 4 * SampleRate
		out := make([]float32, n)
		phase := 0.0
		for i := range out {
			f0 := 90 + 210*float64(i)/float64(n)
			phase += 2 * math.Pi * f0 / SampleRate
			var s float64
			for h := 1; h <= 20; h++ {
				if float64(h)*f0 < SampleRate/2 {
					s += math.Sin(float64(h)*phase) / float64(h)
				}
			}
			out[i] = float32(0.2 * s)
		}
		return out
	}
	tests := []struct {
		name string
		sig  []float32
		want string
	}{
		{"all 16 digits", seq(all, 80*time.Millisecond, 60*time.Millisecond, 0.25, 0), all},
		{"misaligned with frames", seq(all, 70*time.Millisecond, 50*time.Millisecond, 0.25, 77), all},
		{"quiet (-26 dBFS per tone)", seq(all, 80*time.Millisecond, 60*time.Millisecond, 0.05, 0), all},
		{"in noise (~20 dB SNR)", noise(seq(all, 80*time.Millisecond, 60*time.Millisecond, 0.2, 0), 0.02), all},
		{"repeated key needs a gap", seq("555", 100*time.Millisecond, 40*time.Millisecond, 0.25, 0), "555"},
		{"too short (20 ms)", seq("1", 20*time.Millisecond, 60*time.Millisecond, 0.25, 0), ""},
		{"noise only", noise(make([]float32, 3*SampleRate), 0.1), ""},
		{"silence", make([]float32, SampleRate), ""},
		{"swept harmonics", sweep(), ""},
		{"speech", loadSpeech(t), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := detect(tt.sig)
			if keysOf(got) != tt.want {
				t.Fatalf("digits = %q, want %q", keysOf(got), tt.want)
			}
			for _, d := range got {
				if d.Duration < 40*time.Millisecond || d.Source != SourceInband {
					t.Errorf("digit %+v", d)
				}
			}
		})
	}
}

// TestEventClockRestart: an event that reuses a finished event's timestamp
// is a retransmission right after it, and a new key press a while later
// (senders that restart their event clock).
func TestEventClockRestart(t *testing.T) {
	var got []byte
	emit := func(d Digit) { got = append(got, d.Key) }
	var tr eventTracker
	t0 := time.Unix(0, 0)
	end := event{code: 1, end: true, duration: 800}
	tr.packet(1000, event{code: 1, duration: 160}, t0, emit)
	tr.packet(1000, end, t0.Add(100*time.Millisecond), emit)
	tr.packet(1000, end, t0.Add(120*time.Millisecond), emit) // retransmitted end
	tr.packet(1000, end, t0.Add(140*time.Millisecond), emit)
	tr.packet(1000, event{code: 2, duration: 160}, t0.Add(3*time.Second), emit) // same clock, new press
	tr.packet(1000, event{code: 2, end: true, duration: 800}, t0.Add(3100*time.Millisecond), emit)
	tr.packet(1000, event{code: 2, end: true, duration: 800}, t0.Add(3120*time.Millisecond), emit)
	if string(got) != "12" {
		t.Errorf("digits %q, want 12", got)
	}
}
