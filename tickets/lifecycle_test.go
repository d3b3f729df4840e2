package tickets_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-cc/switchboard/tickets"
)

func TestLifecycle(t *testing.T) {
	// The whole matrix: every status × every status, against the lifecycle
	// new → open → pending → resolved → closed with reopen from resolved.
	allowed := map[[2]tickets.Status]bool{
		{tickets.StatusNew, tickets.StatusOpen}:         true,
		{tickets.StatusNew, tickets.StatusPending}:      true,
		{tickets.StatusNew, tickets.StatusResolved}:     true,
		{tickets.StatusNew, tickets.StatusClosed}:       true,
		{tickets.StatusOpen, tickets.StatusPending}:     true,
		{tickets.StatusOpen, tickets.StatusResolved}:    true,
		{tickets.StatusPending, tickets.StatusOpen}:     true,
		{tickets.StatusPending, tickets.StatusResolved}: true,
		{tickets.StatusResolved, tickets.StatusOpen}:    true,
		{tickets.StatusResolved, tickets.StatusClosed}:  true,
	}
	for _, from := range tickets.Statuses() {
		for _, to := range tickets.Statuses() {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				err := tickets.CheckTransition(from, to)
				if allowed[[2]tickets.Status{from, to}] {
					if err != nil {
						t.Fatalf("CheckTransition = %v, want allowed", err)
					}
					return
				}
				var te *tickets.TransitionError
				if !errors.As(err, &te) || !errors.Is(err, tickets.ErrIllegalTransition) {
					t.Fatalf("CheckTransition = %v, want a *TransitionError", err)
				}
				if fmt.Sprint(te.Allowed) != fmt.Sprint(from.Allowed()) {
					t.Fatalf("Allowed = %v, want %v", te.Allowed, from.Allowed())
				}
			})
		}
	}
	if err := tickets.CheckTransition(tickets.StatusOpen, "archived"); !errors.Is(err, tickets.ErrIllegalTransition) {
		t.Fatalf("unknown target status: %v", err)
	}
}

func TestNewTicketValidate(t *testing.T) {
	good := func() tickets.NewTicket {
		return tickets.NewTicket{Channel: tickets.ChannelVoice, Subject: "包裹三天没到", Customer: tickets.Customer{Phone: "+86 138 0013 8000"}}
	}
	tests := []struct {
		name   string
		mutate func(*tickets.NewTicket)
		fields []string // violated fields, in order; none means valid
	}{
		{"valid", func(*tickets.NewTicket) {}, nil},
		{"missing subject", func(n *tickets.NewTicket) { n.Subject = "  " }, []string{"subject"}},
		{"bad channel", func(n *tickets.NewTicket) { n.Channel = "fax" }, []string{"channel"}},
		{"no customer", func(n *tickets.NewTicket) { n.Customer = tickets.Customer{} }, []string{"customer"}},
		{"bad email", func(n *tickets.NewTicket) { n.Customer.Email = "nope" }, []string{"customer.email"}},
		{"bad phone", func(n *tickets.NewTicket) { n.Customer.Phone = "call me" }, []string{"customer.phone"}},
		{"bad priority", func(n *tickets.NewTicket) { n.Priority = "asap" }, []string{"priority"}},
		{"empty tag", func(n *tickets.NewTicket) { n.Tags = []string{"ok", ""} }, []string{"tags[1]"}},
		{"invalid utf8", func(n *tickets.NewTicket) { n.Description = "\xff" }, []string{"description"}},
		{"bad confidence", func(n *tickets.NewTicket) {
			n.Category = &tickets.Category{Label: "billing", Confidence: 2}
		}, []string{"category.confidence"}},
		{"several at once", func(n *tickets.NewTicket) { n.Subject = ""; n.Channel = "" }, []string{"channel", "subject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := good()
			tt.mutate(&n)
			err := n.Validate()
			var ve *tickets.ValidationError
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &ve) || !errors.Is(err, tickets.ErrInvalid) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			var got []string
			for _, v := range ve.Violations {
				got = append(got, v.Field)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.fields) {
				t.Fatalf("violated fields = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestPriorityRaise(t *testing.T) {
	tests := []struct{ in, want tickets.Priority }{
		{tickets.PriorityLow, tickets.PriorityNormal},
		{tickets.PriorityNormal, tickets.PriorityHigh},
		{tickets.PriorityHigh, tickets.PriorityUrgent},
		{tickets.PriorityUrgent, tickets.PriorityUrgent},
	}
	for _, tt := range tests {
		if got := tt.in.Raise(); got != tt.want {
			t.Errorf("%s.Raise() = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func ExampleCheckTransition() {
	err := tickets.CheckTransition(tickets.StatusClosed, tickets.StatusOpen)
	fmt.Println(err)
	err = tickets.CheckTransition(tickets.StatusPending, tickets.StatusClosed)
	fmt.Println(err)
	// Output:
	// illegal transition closed → open: closed is final
	// illegal transition pending → closed; allowed from pending: open, resolved
}
