package sip

import (
	"log/slog"
	"os"
	"testing"
)

// testLogger logs to stderr under -v. It does not use t.Log because sipgo's
// goroutines may still log briefly after a test has returned.
func testLogger(*testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
