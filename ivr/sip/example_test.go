package sip_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/sip"
)

// A server that answers every acceptable call with an echo of the caller's
// audio and hangs up after ten seconds.
func ExampleNew() {
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", RTPTimeout: 10 * time.Second},
		sip.Deps{Handler: sip.Echo{HangupAfter: 10 * time.Second}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("listening:", srv.UDPAddr().Port() != 0)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("close:", srv.Close(ctx))
	// Output:
	// listening: true
	// close: <nil>
}
