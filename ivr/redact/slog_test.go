package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), r)).With("caller", "sip:13800138000@pbx")
	log.WithGroup("call").Info("customer zhang.san@example.com called",
		"err", errors.New("lookup 6222021234567890128 failed"),
		slog.Group("who", "phone", "138 0013 8000"),
		"count", 3)
	out := buf.String()
	for _, secret := range []string{"13800138000", "zhang.san", "6222021234567890128", "138 0013 8000"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q leaked into the log: %s", secret, out)
		}
	}
	for _, kept := range []string{"example.com", `"count":3`, "8000", "failed"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q missing from the log: %s", kept, out)
		}
	}
}
