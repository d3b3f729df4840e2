package audio

import (
	"math"
	"slices"
)

// ITU-T G.711 codecs, as RTP payload types 0 (PCMU, µ-law) and 8 (PCMA,
// A-law) carry them and as WAV format tags 7 and 6 store them. Decoding is a
// table lookup; encoding is the standard segment search of the ITU reference
// (Sun's g711.c), so Linear→law→Linear matches every other implementation
// bit for bit.

// The decode tables are computed once from the scalar decoders and never
// written afterwards.
var (
	ulawToFloat = makeLawTable(ULawToLinear)
	alawToFloat = makeLawTable(ALawToLinear)
)

func makeLawTable(dec func(byte) int16) *[256]float32 {
	var t [256]float32
	for i := range t {
		t[i] = float32(dec(byte(i))) / 32768
	}
	return &t
}

// ULawToLinear decodes one µ-law byte to a 16-bit linear sample
// (range ±32124).
func ULawToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// LinearToULaw encodes a 16-bit linear sample as µ-law, as the ITU-T G.191
// reference (ulaw_compress) does: negative values use the ones' complement,
// so -1 encodes as the negative zero 0x7F and 0 as 0xFF.
func LinearToULaw(s int16) byte {
	const bias = 0x84 >> 2 // the bias in the 14-bit domain
	var v int
	mask := byte(0xFF)
	if s < 0 {
		v = int(^s) >> 2 // G.711 µ-law works on 14-bit magnitudes
		mask = 0x7F
	} else {
		v = int(s) >> 2
	}
	v = min(v+bias, 0x1FFF)
	seg := segment(v, 0x3F)
	return (byte(seg<<4) | byte((v>>(seg+1))&0xF)) ^ mask
}

// ALawToLinear decodes one A-law byte to a 16-bit linear sample
// (range ±32256).
func ALawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// LinearToALaw encodes a 16-bit linear sample as A-law (ITU-T G.191
// alaw_compress: ones' complement for negatives). Zero encodes as 0xD5.
func LinearToALaw(s int16) byte {
	v := int(s) >> 3 // A-law works on 13-bit magnitudes
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, 0x1F) // v ≤ 4095 keeps seg ≤ 7
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte((v >> 1) & 0xF)
	} else {
		a |= byte((v >> seg) & 0xF)
	}
	return a ^ mask
}

// segment returns the G.711 segment of magnitude v: the index of the first
// of the eight segment ends first, 2·first+1, … that is ≥ v (callers clamp
// v so that one is).
func segment(v, first int) int {
	end := first
	for seg := 0; seg < 8; seg++ {
		if v <= end {
			return seg
		}
		end = end<<1 | 1
	}
	return 8
}

// DecodeULaw appends the samples of the µ-law bytes in src to dst and
// returns the extended slice, in the style of strconv.Append*, so a caller
// can reuse one buffer per RTP packet: buf = DecodeULaw(buf[:0], payload).
func DecodeULaw(dst []float32, src []byte) []float32 {
	return decodeLaw(dst, src, ulawToFloat)
}

// DecodeALaw is DecodeULaw for A-law.
func DecodeALaw(dst []float32, src []byte) []float32 {
	return decodeLaw(dst, src, alawToFloat)
}

func decodeLaw(dst []float32, src []byte, t *[256]float32) []float32 {
	n := len(dst)
	dst = grow(dst, len(src))
	out := dst[n:]
	for i, b := range src {
		out[i] = t[b]
	}
	return dst
}

// EncodeULaw appends the µ-law encoding of samples (clamped to [-1, 1]) to
// dst and returns the extended slice.
func EncodeULaw(dst []byte, samples []float32) []byte {
	for _, s := range samples {
		dst = append(dst, LinearToULaw(toInt16(s)))
	}
	return dst
}

// EncodeALaw appends the A-law encoding of samples (clamped to [-1, 1]) to
// dst and returns the extended slice.
func EncodeALaw(dst []byte, samples []float32) []byte {
	for _, s := range samples {
		dst = append(dst, LinearToALaw(toInt16(s)))
	}
	return dst
}

// toInt16 converts a float sample to 16-bit PCM, rounding to nearest and
// saturating; NaN becomes 0 rather than an arbitrary integer.
func toInt16(s float32) int16 {
	v := math.Round(float64(s) * 32768)
	switch {
	case v != v: // NaN
		return 0
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// grow extends s by n elements with append's amortised growth.
func grow(s []float32, n int) []float32 {
	return slices.Grow(s, n)[:len(s)+n]
}
