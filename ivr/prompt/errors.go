package prompt

import "errors"

// Errors that callers branch on. Functions wrap them with context, so test
// with errors.Is.
var (
	// ErrEmptyText means the text to synthesise is empty or only spaces.
	ErrEmptyText = errors.New("prompt: empty text")
	// ErrUnsupportedLanguage means no voice is configured for the language.
	ErrUnsupportedLanguage = errors.New("prompt: unsupported language")
	// ErrEngineMissing means the espeak-ng binary could not be found or run.
	// The message says how to install it.
	ErrEngineMissing = errors.New("prompt: espeak-ng not found (install it with `apt-get install espeak-ng`)")
	// ErrEmptyAudio means synthesis or a WAV file produced no samples.
	ErrEmptyAudio = errors.New("prompt: no audio")
	// ErrInvalidConfig means a Config field is out of range.
	ErrInvalidConfig = errors.New("prompt: invalid config")
)
