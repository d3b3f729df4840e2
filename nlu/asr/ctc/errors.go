package ctc

import "errors"

// Conditions callers branch on. Errors returned by this package wrap them
// with context; test with errors.Is.
var (
	// ErrInvalidVocab means tokens.txt (or a symbol list) is malformed:
	// a bad line, a duplicate symbol or id, a gap in the ids, or no blank.
	ErrInvalidVocab = errors.New("ctc: invalid vocabulary")
	// ErrUnencodable means a text holds characters no token covers; the
	// message names them, so an operator can fix the phrase or the model.
	ErrUnencodable = errors.New("ctc: text cannot be encoded")
	// ErrShape means log-probabilities do not have the decoder's shape:
	// a row's length differs from the vocabulary size, or a flat buffer's
	// length is not frames × V.
	ErrShape = errors.New("ctc: log-prob shape mismatch")
	// ErrInvalidFrame means a frame holds NaN or +Inf, or is -Inf
	// everywhere; such a frame is not a log-probability distribution.
	ErrInvalidFrame = errors.New("ctc: invalid log-prob frame")
	// ErrInvalid means an argument or option is out of range.
	ErrInvalid = errors.New("ctc: invalid argument")
	// ErrNondeterministic means an arc added to an Automaton conflicts with
	// an existing one (same state and token, different target or output).
	ErrNondeterministic = errors.New("ctc: nondeterministic grammar")
)
