package settings_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/es/settings"
)

func TestSettings(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	s := settings.New(c)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), s.Index()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "sla"); !errors.Is(err, settings.ErrNotFound) {
		t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, "sla", "a: 1", "admin"); err != nil {
		t.Fatal(err)
	}
	d1, err := s.Get(ctx, "sla")
	if err != nil || d1.Value != "a: 1" || d1.UpdatedBy != "admin" {
		t.Fatalf("Get = %+v, %v", d1, err)
	}
	if err := s.Put(ctx, "sla", "a: 2", "admin"); err != nil {
		t.Fatal(err)
	}
	d2, _ := s.Get(ctx, "sla")
	if d2.Value != "a: 2" || d2.SeqNo <= d1.SeqNo {
		t.Fatalf("after a second Put: %+v (first seq %d)", d2, d1.SeqNo)
	}

	// Replicas starting together: exactly one Create wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Create(ctx, "key", string(rune('a'+i)), "replica")
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, settings.ErrExists):
				t.Errorf("Create: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d replicas created the key, want exactly 1", wins)
	}
}
