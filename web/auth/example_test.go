package auth_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/switchboard-cc/switchboard/web/auth"
)

func Example() {
	ctx := context.Background()
	store := auth.NewMemoryStore()
	client, secret, err := auth.CreateClient(ctx, store, "CRM sync", auth.RoleIntegration)
	if err != nil {
		log.Fatal(err)
	}

	now := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	iss, err := auth.NewIssuer(auth.Config{
		SigningKey: []byte("an example key of at least 32 bytes!"),
		Issuer:     "https://switchboard.example",
		Audience:   "switchboard-api",
	}, store, now)
	if err != nil {
		log.Fatal(err)
	}

	tok, err := iss.Token(ctx, client.ID, secret, []string{auth.ScopeTicketsImport, auth.ScopeTicketsRead})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn, tok.Scope)

	claims, err := iss.Verify(tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject == client.ID, claims.Role, claims.Scopes, claims.ExpiresAt)
	fmt.Println(claims.Has(auth.ScopeTicketsWrite))
	// Output:
	// Bearer 3600 tickets:read tickets:import
	// true integration [tickets:read tickets:import] 2026-03-01 10:00:00 +0000 UTC
	// false
}
