package enrich_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/enrich"
)

func ExampleConnector_Enrich() {
	// A stand-in for the CRM.
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("CRM asked for", r.URL.RequestURI())
		fmt.Fprint(w, `{"orders":[{"id":"SO-1001","status":"shipped"}]}`)
	}))
	defer crm.Close()

	c, err := enrich.New(enrich.Config{URL: crm.URL + "/api/customers/{id}/orders?phone={phone}"}, enrich.Deps{})
	if err != nil {
		panic(err)
	}
	related, err := c.Enrich(context.Background(), tickets.Customer{ID: "C 42", Phone: "+86 10086"})
	if err != nil {
		panic(err)
	}
	out, _ := json.Marshal(related)
	fmt.Println(string(out))
	// Output:
	// CRM asked for /api/customers/C%2042/orders?phone=%2B86+10086
	// {"crm":{"orders":[{"id":"SO-1001","status":"shipped"}]}}
}
