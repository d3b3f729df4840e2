package api_test

import (
	"fmt"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/api"
)

// A ticket's ETag names its stored revision; clients send it back in
// If-Match to make a change conditional on nobody having changed the
// ticket since they read it.
func ExampleETag() {
	fmt.Println(api.ETag(tickets.Version{SeqNo: 42, PrimaryTerm: 1}))
	// Output: "42-1"
}
