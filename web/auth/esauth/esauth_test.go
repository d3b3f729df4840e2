package esauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/es/settings"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/auth/esauth"
)

func TestClientStore(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	st := esauth.New(c)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), st.Index()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetClient(ctx, "nobody"); !errors.Is(err, auth.ErrClientNotFound) {
		t.Fatalf("GetClient(unknown) = %v, want ErrClientNotFound", err)
	}
	// Ten replicas start at once: one admin, one printed secret.
	var wg sync.WaitGroup
	secrets := make(chan string, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secret, created, err := auth.EnsureAdmin(ctx, st, nil)
			if err != nil {
				t.Error(err)
			}
			if created {
				secrets <- secret
			}
		}()
	}
	wg.Wait()
	close(secrets)
	var got []string
	for s := range secrets {
		got = append(got, s)
	}
	if len(got) != 1 {
		t.Fatalf("%d replicas created the admin, want 1", len(got))
	}
	// The printed secret works with a real issuer over this store.
	iss, err := auth.NewIssuer(auth.Config{SigningKey: bytes.Repeat([]byte("k"), 32), Issuer: "sb", Audience: "sb"}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Token(ctx, auth.AdminClientID, got[0], nil); err != nil {
		t.Fatalf("admin token: %v", err)
	}
	cl, secret, err := auth.CreateClient(ctx, st, "crm-sync", auth.RoleIntegration)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Token(ctx, cl.ID, secret, nil); err != nil {
		t.Fatalf("integration token: %v", err)
	}
	cl.Disabled = true
	if err := st.UpdateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Token(ctx, cl.ID, secret, nil); err == nil {
		t.Fatal("a disabled client still got a token")
	}
	all, err := st.ListClients(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListClients = %d clients, %v; want 2", len(all), err)
	}
	if err := st.UpdateClient(ctx, auth.Client{ID: "ghost"}); !errors.Is(err, auth.ErrClientNotFound) {
		t.Fatalf("UpdateClient(unknown) = %v", err)
	}
}

func TestSigningKeyIsSharedAndStable(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	st := settings.New(c)
	if err := c.Ensure(ctx, slog.New(slog.DiscardHandler), st.Index()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := esauth.SigningKey(ctx, st)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("replica %d got key %x, replica 0 got %x", i, k, keys[0])
		}
	}
}
