package importer_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// A mapping is checked as a whole before any data is read, and every
// problem is reported at once.
func ExampleParseMapping() {
	_, err := importer.ParseMapping([]byte(`
id: ticket_id
source_system: zendesk
fields:
  subject: title
  channel: {from: via, map: {phone: voice, fax: fax}}
  customer.name: requester
  status: {from: state, map: {solved: done}}
  created_at: {from: created, time_format: "%Y-%m-%d"}
`))
	for _, p := range err.(*importer.MappingError).Problems {
		fmt.Println(p)
	}
	// Output:
	// fields.channel.map: "fax" → "fax": unknown channel (known: voice, chat, email, social, api)
	// fields.created_at.time_format: "%Y-%m-%d" looks like a strftime pattern; write a Go layout using the reference time, e.g. 2006-01-02 15:04:05
	// fields.status.map: "solved" → "done": unknown status (known: new, open, pending, resolved, closed)
}

// A Reader maps each record and says what is wrong with the ones it cannot
// import, with their line numbers.
func ExampleReader() {
	m, _ := importer.ParseMapping([]byte(`
id: id
source_system: legacy
fields:
  subject: title
  channel: {default: email}
  customer.email: email
`))
	input := "id,title,email\n" +
		"1,\"Refund, please\",wang@example.com\n" +
		"2,,not-an-address\n"
	rd, _ := importer.NewReader(strings.NewReader(input), m, importer.FormatCSV)
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if row.Valid() {
			fmt.Printf("line %d: %q from %s\n", row.Line, row.Ticket.Subject, row.Ticket.Customer.Email)
			continue
		}
		for _, v := range row.Violations {
			fmt.Printf("line %d: %s %s\n", row.Line, v.Field, v.Message)
		}
	}
	// Output:
	// line 2: "Refund, please" from wang@example.com
	// line 3: subject is required
	// line 3: customer.email is not an e-mail address
}

// The same legacy ticket always gets the same id, which is what makes a
// re-run skip tickets already imported.
func ExampleTicketID() {
	fmt.Println(importer.TicketID("zendesk", "1001") == importer.TicketID("zendesk", "1001"))
	fmt.Println(importer.TicketID("zendesk", "1001") == importer.TicketID("freshdesk", "1001"))
	// Output:
	// true
	// false
}
