package sla

import (
	"errors"
	"sync/atomic"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Holder holds the policies in force and lets a reload replace them while
// tickets are being created; every ticket sees either the old or the new
// policies whole. The zero Holder holds none and applies nothing. It is
// safe for concurrent use.
type Holder struct {
	p atomic.Pointer[Policies]
}

// NewHolder returns a Holder with p in force.
func NewHolder(p *Policies) *Holder {
	h := &Holder{}
	h.p.Store(p)
	return h
}

// Get returns the policies in force, or nil if none were set. Callers must
// not modify them.
func (h *Holder) Get() *Policies { return h.p.Load() }

// ApplyConfig puts p in force if it is valid; otherwise it keeps the
// current policies and returns why. p must not be modified afterwards.
func (h *Holder) ApplyConfig(p *Policies) error {
	if p == nil {
		return errors.New("sla: ApplyConfig: nil policies")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	h.p.Store(p)
	return nil
}

// Apply applies the policies in force to t.
func (h *Holder) Apply(t *tickets.Ticket) { h.Get().Apply(t) }

var (
	_ tickets.SLAPolicy = (*Holder)(nil)
	_ tickets.SLAPolicy = (*Policies)(nil)
	_ PolicySource      = (*Holder)(nil)
)
