package sla_test

import (
	"fmt"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/sla"
)

func ExamplePolicies_Apply() {
	p, err := sla.Parse([]byte(`
calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon: "09:00-18:00", tue: "09:00-18:00", wed: "09:00-18:00", thu: "09:00-18:00", fri: "09:00-18:00"}
policies:
  - name: default
    match: {}
    calendar: office
    first_response: 1h
    resolution: 9h
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	shanghai := p.Calendars["office"].Location()
	// Friday, half an hour before closing.
	t := &tickets.Ticket{Priority: tickets.PriorityNormal, CreatedAt: time.Date(2026, 1, 9, 17, 30, 0, 0, shanghai)}
	p.Apply(t)
	fmt.Println(t.SLA.Policy)
	fmt.Println(t.SLA.FirstResponseDue.In(shanghai).Format("Mon 15:04"))
	fmt.Println(t.SLA.ResolutionDue.In(shanghai).Format("Mon 15:04"))
	// Output:
	// default
	// Mon 09:30
	// Mon 17:30
}
