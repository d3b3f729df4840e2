package tickets

import (
	"errors"
	"fmt"
	"strings"
)

// Error kinds that callers branch on. Implementations wrap them with
// context (fmt.Errorf("esstore: get %s: %w", id, ErrNotFound)); the HTTP edge
// maps each to a status exactly once. The set is append-only.
var (
	// ErrInvalid: the input breaks a rule; retrying it unchanged fails again.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: the ticket (or other object) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the object already exists, or changed since it was read.
	ErrConflict = errors.New("conflict")
	// ErrPrecondition: the caller's expected version is not the current one.
	ErrPrecondition = errors.New("precondition failed")
	// ErrIllegalTransition: the lifecycle does not allow the move.
	ErrIllegalTransition = errors.New("illegal transition")
	// ErrUnavailable: a dependency (storage) is down; retrying later may work.
	ErrUnavailable = errors.New("unavailable")
)

// FieldViolation is one broken rule on one input field. Field is a dotted
// path such as "customer.email" or "tags[2]".
type FieldViolation struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError collects every violation of one input, so a client can fix
// them all at once instead of one per request.
type ValidationError struct {
	Violations []FieldViolation
}

// Add records a violation.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Violations = append(e.Violations, FieldViolation{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds violations and nil otherwise, so callers can
// `return v.Err()` after collecting.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Violations) == 0 {
		return nil
	}
	return e
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }
