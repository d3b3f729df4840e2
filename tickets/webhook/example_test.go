package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-cc/switchboard/tickets/webhook"
)

// A receiver checks each request's signature before trusting its body.
func ExampleVerify() {
	secret := []byte("the-endpoint-secret-0123")
	receive := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), ts, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deduplicate on r.Header.Get(webhook.HeaderDelivery), then act.
		w.WriteHeader(http.StatusNoContent)
	}

	// A request signed as Switchboard signs it, then a tampered copy.
	body := `{"id":"d1","type":"ticket.created","ticket":{"id":"T-1"}}`
	ts := time.Now().Unix()
	for _, sent := range []string{body, strings.Replace(body, "created", "closed", 1)} {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(sent))
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, []byte(body)))
		rec := httptest.NewRecorder()
		receive(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 204
	// 401
}
