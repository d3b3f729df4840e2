package audio_test

import (
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// Values from ITU-T G.711 Tables 1a/2a (and every reference implementation).
func TestG711KnownValues(t *testing.T) {
	tests := []struct {
		name string
		law  func(byte) int16
		b    byte
		want int16
	}{
		{"ulaw zero", audio.ULawToLinear, 0xFF, 0},
		{"ulaw negative zero", audio.ULawToLinear, 0x7F, 0},
		{"ulaw max", audio.ULawToLinear, 0x80, 32124},
		{"ulaw min", audio.ULawToLinear, 0x00, -32124},
		{"ulaw smallest step", audio.ULawToLinear, 0xFE, 8},
		{"ulaw segment 1", audio.ULawToLinear, 0xEF, 132},
		{"alaw +8", audio.ALawToLinear, 0xD5, 8},
		{"alaw -8", audio.ALawToLinear, 0x55, -8},
		{"alaw max", audio.ALawToLinear, 0xAA, 32256},
		{"alaw min", audio.ALawToLinear, 0x2A, -32256},
		{"alaw segment 1", audio.ALawToLinear, 0xC5, 264},
	}
	for _, tt := range tests {
		if got := tt.law(tt.b); got != tt.want {
			t.Errorf("%s: 0x%02X → %d, want %d", tt.name, tt.b, got, tt.want)
		}
	}
	encodes := []struct {
		name string
		enc  func(int16) byte
		s    int16
		want byte
	}{
		{"ulaw 0", audio.LinearToULaw, 0, 0xFF},
		{"ulaw max", audio.LinearToULaw, 32767, 0x80},
		{"ulaw min", audio.LinearToULaw, -32768, 0x00},
		{"ulaw -1", audio.LinearToULaw, -1, 0x7F},
		{"alaw 0", audio.LinearToALaw, 0, 0xD5},
		{"alaw -1", audio.LinearToALaw, -1, 0x55},
		{"alaw max", audio.LinearToALaw, 32767, 0xAA},
		{"alaw min", audio.LinearToALaw, -32768, 0x2A},
	}
	for _, tt := range encodes {
		if got := tt.enc(tt.s); got != tt.want {
			t.Errorf("%s: %d → 0x%02X, want 0x%02X", tt.name, tt.s, got, tt.want)
		}
	}
}

func TestG711RoundTrip(t *testing.T) {
	laws := []struct {
		name string
		dec  func(byte) int16
		enc  func(int16) byte
		// quantisation step bound at amplitude |s|: the segment's step
		maxErr func(s int) int
	}{
		{"ulaw", audio.ULawToLinear, audio.LinearToULaw, func(s int) int { return max(4, (s+132)/16) }},
		{"alaw", audio.ALawToLinear, audio.LinearToALaw, func(s int) int { return max(8, s/16) }},
	}
	for _, law := range laws {
		// Every code decodes to a value that encodes back to itself (µ-law's
		// negative zero 0x7F becomes the positive zero 0xFF).
		for b := range 256 {
			s := law.dec(byte(b))
			got := law.enc(s)
			if got != byte(b) && !(law.name == "ulaw" && b == 0x7F && got == 0xFF) {
				t.Errorf("%s: 0x%02X → %d → 0x%02X", law.name, b, s, got)
			}
		}
		// Every linear value survives within its segment's step.
		for s := -32768; s <= 32767; s++ {
			back := int(law.dec(law.enc(int16(s))))
			if d := abs(back - s); d > law.maxErr(abs(s)) {
				t.Fatalf("%s: %d → %d (error %d)", law.name, s, back, d)
			}
		}
	}
}

func TestG711Slices(t *testing.T) {
	in := []float32{0, 0.5, -0.5, 1, -1, 0.001}
	for _, tt := range []struct {
		name string
		enc  func([]byte, []float32) []byte
		dec  func([]float32, []byte) []float32
	}{
		{"ulaw", audio.EncodeULaw, audio.DecodeULaw},
		{"alaw", audio.EncodeALaw, audio.DecodeALaw},
	} {
		b := tt.enc(nil, in)
		if len(b) != len(in) {
			t.Fatalf("%s: %d bytes for %d samples", tt.name, len(b), len(in))
		}
		prefix := []float32{42}
		out := tt.dec(prefix, b)
		if len(out) != 1+len(in) || out[0] != 42 {
			t.Fatalf("%s: decode did not append: %v", tt.name, out)
		}
		for i, v := range in {
			if d := out[1+i] - v; d > 0.02 || d < -0.02 {
				t.Errorf("%s: %v → %v", tt.name, v, out[1+i])
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
