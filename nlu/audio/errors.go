package audio

import "errors"

// Errors that callers branch on. Functions wrap them with context, so test
// with errors.Is.
var (
	// ErrNotWAV means the input is not a RIFF/WAVE stream at all (including
	// empty input).
	ErrNotWAV = errors.New("audio: not a WAV file")
	// ErrInvalid means the input or the options are malformed: a WAV
	// header with zero channels or a zero sample rate, a block align that
	// does not match the sample format, a missing fmt or data chunk, or
	// feature options that cannot work.
	ErrInvalid = errors.New("audio: invalid")
	// ErrUnsupported means well-formed input this package does not handle:
	// another codec or bit depth, RF64/RIFX, an absurd sample rate or
	// channel count, or a resampling ratio that needs too many filter phases.
	ErrUnsupported = errors.New("audio: unsupported")
	// ErrTooLong means the audio is longer than the configured maximum
	// duration (see WithMaxDuration).
	ErrTooLong = errors.New("audio: too long")
)

// Sample rates outside [MinSampleRate, MaxSampleRate] are rejected with
// ErrUnsupported: nothing the IVR meets is outside it, and a header that
// claims otherwise is corrupt.
const (
	MinSampleRate = 1000
	MaxSampleRate = 384000
)
