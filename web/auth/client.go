package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// AdminClientID is the ID of the bootstrap client EnsureAdmin creates.
const AdminClientID = "admin"

// clientIDPrefix marks generated client IDs, so a leaked ID is recognisable
// in logs and secret scanners.
const clientIDPrefix = "sb_"

// Client is a registered API client.
type Client struct {
	ID   string
	Name string
	Role Role
	// SecretHash is the bcrypt hash of the client secret; the secret itself
	// is never stored.
	SecretHash string
	CreatedAt  time.Time
	// Disabled clients cannot obtain tokens; this is how a client is
	// revoked.
	Disabled bool
}

// ClientGetter looks up a client by ID. It returns an error wrapping
// ErrClientNotFound for an unknown ID.
type ClientGetter interface {
	GetClient(ctx context.Context, id string) (Client, error)
}

// ClientCreator stores a new client. CreateClient must be create-only and
// atomic: when the ID already exists it stores nothing and returns an error
// wrapping ErrClientExists, even if several replicas race. EnsureAdmin
// relies on this to create exactly one admin.
type ClientCreator interface {
	CreateClient(ctx context.Context, c Client) error
}

// ClientStore is the client registry this package and the admin API need.
// Implementations must be safe for concurrent use; Clients are values, so
// the store and its callers never share mutable state.
type ClientStore interface {
	ClientGetter
	ClientCreator
	// ListClients returns all clients, disabled ones included.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces an existing client, e.g. to disable it; it
	// returns an error wrapping ErrClientNotFound for an unknown ID.
	UpdateClient(ctx context.Context, c Client) error
}

// CreateClient registers a new client named name with role r and returns it
// with its secret. The secret is returned only here; store or show it at
// once.
func CreateClient(ctx context.Context, store ClientCreator, name string, r Role) (Client, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Client{}, "", errors.New("auth: create client: name is empty")
	}
	if !r.Valid() {
		return Client{}, "", fmt.Errorf("auth: create client %q: role %q: %w", name, r, ErrInvalidRole)
	}
	id, err := randomString(16, hex.EncodeToString)
	if err != nil {
		return Client{}, "", fmt.Errorf("auth: create client %q: %w", name, err)
	}
	c, secret, err := newClient(clientIDPrefix+id, name, r)
	if err != nil {
		return Client{}, "", fmt.Errorf("auth: create client %q: %w", name, err)
	}
	if err := store.CreateClient(ctx, c); err != nil {
		return Client{}, "", fmt.Errorf("auth: create client %q: %w", name, err)
	}
	return c, secret, nil
}

// EnsureAdmin creates the admin client with a fresh random secret if it does
// not exist yet, and returns that secret with created true so the caller
// can show it once. If the admin exists, possibly created a moment ago by
// another replica, it returns "", false, nil: the secret cannot be recovered
// and a new one is never forced on a running installation.
func EnsureAdmin(ctx context.Context, store ClientStore, logger *slog.Logger) (secret string, created bool, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The look-up spares the bcrypt work on every start once the admin
	// exists; it does not decide the race, the create-only store does.
	_, err = store.GetClient(ctx, AdminClientID)
	switch {
	case err == nil:
		return "", false, nil
	case !errors.Is(err, ErrClientNotFound):
		return "", false, fmt.Errorf("auth: ensure admin: %w", err)
	}
	c, secret, err := newClient(AdminClientID, "Administrator", RoleAdmin)
	if err != nil {
		return "", false, fmt.Errorf("auth: ensure admin: %w", err)
	}
	if err := store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, ErrClientExists) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("auth: ensure admin: %w", err)
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "created admin API client",
		slog.String("client_id", c.ID), slog.String("role", string(c.Role)))
	return secret, true, nil
}

// newClient returns a client with a fresh secret and that secret.
func newClient(id, name string, r Role) (Client, string, error) {
	secret, err := randomString(32, base64.RawURLEncoding.EncodeToString)
	if err != nil {
		return Client{}, "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
	if err != nil {
		return Client{}, "", fmt.Errorf("hash secret: %w", err)
	}
	return Client{
		ID:         id,
		Name:       name,
		Role:       r,
		SecretHash: string(hash),
		CreatedAt:  time.Now().UTC(),
	}, secret, nil
}

// randomString returns n bytes from crypto/rand, encoded.
func randomString(n int, encode func([]byte) string) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return encode(b), nil
}
