package automation_test

import (
	"fmt"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/automation"
)

func ExampleRules_Apply() {
	rules, err := automation.Parse([]byte(`
rules:
  - name: returns-involve-logistics-and-finance
    on: [ticket.created, ticket.updated]
    when:
      category: [returns_refunds]
    then:
      skill_group: logistics
      add_tags: [return, finance-review]
      notify: [logistics, finance]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	t := &tickets.Ticket{Subject: "退货", Priority: tickets.PriorityNormal, Category: &tickets.Category{Label: "returns_refunds"}}
	changes, notify := rules.Apply(tickets.EventCreated, t)
	for _, c := range changes {
		fmt.Printf("%s: %s %q → %q\n", c.Actor, c.Field, c.From, c.To)
	}
	fmt.Println("notify:", notify)

	// Applying the rules again changes nothing.
	changes, notify = rules.Apply(tickets.EventUpdated, t)
	fmt.Println(len(changes), len(notify))
	// Output:
	// automation:returns-involve-logistics-and-finance: skill_group "" → "logistics"
	// automation:returns-involve-logistics-and-finance: tags "" → "return,finance-review"
	// notify: [logistics finance]
	// 0 0
}
