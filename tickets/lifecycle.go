package tickets

import (
	"fmt"
	"slices"
	"strings"
)

// Status is a ticket's place in its lifecycle.
type Status string

// Statuses of the lifecycle new → open → pending → resolved → closed.
const (
	StatusNew      Status = "new"      // not yet looked at by an agent
	StatusOpen     Status = "open"     // an agent is working on it
	StatusPending  Status = "pending"  // waiting on the customer or a third party
	StatusResolved Status = "resolved" // answered; the customer may still reopen it
	StatusClosed   Status = "closed"   // final; a new problem needs a new ticket
)

// transitions is the lifecycle, in one place: every allowed move from each
// status. Resolving straight from new is allowed because simple requests are
// often answered on first contact (the voice bot does exactly that).
var transitions = map[Status][]Status{
	StatusNew:      {StatusOpen, StatusPending, StatusResolved, StatusClosed},
	StatusOpen:     {StatusPending, StatusResolved},
	StatusPending:  {StatusOpen, StatusResolved},
	StatusResolved: {StatusOpen, StatusClosed}, // → open is a reopen
	StatusClosed:   nil,
}

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusNew, StatusOpen, StatusPending, StatusResolved, StatusClosed}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Allowed returns the statuses s may move to, in lifecycle order.
func (s Status) Allowed() []Status { return slices.Clone(transitions[s]) }

// CanMoveTo reports whether the lifecycle allows s → to.
func (s Status) CanMoveTo(to Status) bool { return slices.Contains(transitions[s], to) }

// Active reports whether SLA clocks run in s: they stop once a ticket is
// resolved, and pause while it waits on the customer.
func (s Status) Active() bool { return s == StatusNew || s == StatusOpen }

// Terminal reports whether s is the end of the lifecycle.
func (s Status) Terminal() bool { return s == StatusClosed }

// CheckTransition returns a *TransitionError when from → to is not allowed.
func CheckTransition(from, to Status) error {
	if !to.Valid() {
		return &TransitionError{From: from, To: to, Allowed: from.Allowed()}
	}
	if !from.CanMoveTo(to) {
		return &TransitionError{From: from, To: to, Allowed: from.Allowed()}
	}
	return nil
}

// TransitionError reports a move the lifecycle does not allow, and the moves
// it does allow so that a client can correct itself.
type TransitionError struct {
	From, To Status
	Allowed  []Status
}

func (e *TransitionError) Error() string {
	allowed := make([]string, len(e.Allowed))
	for i, s := range e.Allowed {
		allowed[i] = string(s)
	}
	if len(allowed) == 0 {
		return fmt.Sprintf("illegal transition %s → %s: %s is final", e.From, e.To, e.From)
	}
	return fmt.Sprintf("illegal transition %s → %s; allowed from %s: %s", e.From, e.To, e.From, strings.Join(allowed, ", "))
}

// Unwrap makes errors.Is(err, ErrIllegalTransition) hold.
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// ProblemExtensions lists the allowed transitions in an HTTP problem body.
func (e *TransitionError) ProblemExtensions() map[string]any {
	return map[string]any{"from": e.From, "to": e.To, "allowed": e.Allowed}
}
