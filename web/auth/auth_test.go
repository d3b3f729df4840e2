package auth_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard-cc/switchboard/web/auth"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// clock is an injectable, advanceable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKey is a 32-byte HS256 key.
var testKey = []byte("0123456789abcdef0123456789abcdef")

func testConfig() auth.Config {
	return auth.Config{SigningKey: testKey, Issuer: "https://switchboard.test", Audience: "switchboard-api"}
}

// fixture is an issuer over a store holding one client per role plus a
// disabled one, each with secret "secret-<id>".
type fixture struct {
	store *auth.MemoryStore
	clock *clock
	iss   *auth.Issuer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: auth.NewMemoryStore(), clock: newClock()}
	for _, r := range auth.Roles() {
		f.addClient(t, "c-"+string(r), r, false)
	}
	f.addClient(t, "c-disabled", auth.RoleAdmin, true)
	iss, err := auth.NewIssuer(testConfig(), f.store, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	f.iss = iss
	return f
}

// addClient stores a client directly. It hashes with bcrypt.MinCost:
// verification reads the cost from the hash, so the real code path runs
// without DefaultCost's second per comparison under the race detector.
func (f *fixture) addClient(t *testing.T, id string, r auth.Role, disabled bool) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret-"+id), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	c := auth.Client{ID: id, Name: id, Role: r, SecretHash: string(hash), CreatedAt: f.clock.Now(), Disabled: disabled}
	if err := f.store.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func TestScopesForRole(t *testing.T) {
	tests := []struct {
		role auth.Role
		want []string
	}{
		{auth.RoleAgent, []string{"tickets:read", "tickets:write", "stats:read", "nlu:read", "calls:read", "agents:manage"}},
		{auth.RoleSupervisor, []string{"tickets:read", "tickets:write", "tickets:admin", "stats:read", "nlu:read", "aiops:read", "calls:read", "agents:manage", "recordings:read"}},
		{auth.RoleMLEngineer, []string{"tickets:read", "stats:read", "nlu:read", "models:manage"}},
		{auth.RoleOps, []string{"tickets:read", "stats:read", "aiops:read", "aiops:manage", "calls:read"}},
		{auth.RoleIntegration, []string{"tickets:read", "tickets:write", "tickets:import", "webhooks:manage", "nlu:read"}},
		{auth.RoleAdmin, auth.AllScopes()},
		{auth.Role("root"), nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			got := auth.ScopesForRole(tt.role)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ScopesForRole(%s) = %v, want %v", tt.role, got, tt.want)
			}
			for _, s := range auth.AllScopes() {
				if got, want := tt.role.Has(s), slices.Contains(tt.want, s); got != want {
					t.Errorf("%s.Has(%s) = %v, want %v", tt.role, s, got, want)
				}
			}
			if _, err := auth.ParseRole(string(tt.role)); (err == nil) != (tt.want != nil) {
				t.Errorf("ParseRole(%s) error = %v", tt.role, err)
			}
		})
	}
	if len(tests)-1 != len(auth.Roles()) {
		t.Errorf("table covers %d roles, Roles() has %d", len(tests)-1, len(auth.Roles()))
	}
	// Only admin may manage clients: issuing clients is issuing power.
	for _, r := range auth.Roles() {
		if r != auth.RoleAdmin && r.Has(auth.ScopeClientsManage) {
			t.Errorf("role %s has %s", r, auth.ScopeClientsManage)
		}
	}
	s := auth.ScopesForRole(auth.RoleAgent)
	s[0] = "mutated"
	if auth.ScopesForRole(auth.RoleAgent)[0] == "mutated" {
		t.Error("ScopesForRole returned shared state")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*auth.Config)
		wantErr bool
	}{
		{"valid", func(*auth.Config) {}, false},
		{"short key", func(c *auth.Config) { c.SigningKey = testKey[:31] }, true},
		{"no key", func(c *auth.Config) { c.SigningKey = nil }, true},
		{"no issuer", func(c *auth.Config) { c.Issuer = "" }, true},
		{"no audience", func(c *auth.Config) { c.Audience = "" }, true},
		{"negative ttl", func(c *auth.Config) { c.TTL = -time.Second }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.mutate(&cfg)
			if err := cfg.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if _, err := auth.NewIssuer(cfg, auth.NewMemoryStore(), nil); err == nil {
					t.Error("NewIssuer accepted an invalid config")
				}
			}
		})
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s := auth.NewMemoryStore()
	for _, id := range []string{"b", "a"} {
		if err := s.CreateClient(ctx, auth.Client{ID: id, Role: auth.RoleAgent}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateClient(ctx, auth.Client{ID: "a", Role: auth.RoleAdmin}); !errors.Is(err, auth.ErrClientExists) {
		t.Errorf("duplicate create: %v, want ErrClientExists", err)
	}
	if c, _ := s.GetClient(ctx, "a"); c.Role != auth.RoleAgent {
		t.Error("duplicate create overwrote the client")
	}
	if _, err := s.GetClient(ctx, "zz"); !errors.Is(err, auth.ErrClientNotFound) {
		t.Errorf("get unknown: %v, want ErrClientNotFound", err)
	}
	if err := s.UpdateClient(ctx, auth.Client{ID: "zz"}); !errors.Is(err, auth.ErrClientNotFound) {
		t.Errorf("update unknown: %v, want ErrClientNotFound", err)
	}
	if err := s.UpdateClient(ctx, auth.Client{ID: "a", Role: auth.RoleAgent, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "a" || !list[0].Disabled || list[1].ID != "b" {
		t.Errorf("ListClients = %+v", list)
	}
}

func TestCreateClient(t *testing.T) {
	ctx := context.Background()
	store := auth.NewMemoryStore()
	c, secret, err := auth.CreateClient(ctx, store, " CRM sync ", auth.RoleIntegration)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != len("sb_")+32 || c.ID[:3] != "sb_" {
		t.Errorf("ID = %q, want sb_ + 32 hex digits", c.ID)
	}
	if c.Name != "CRM sync" || c.Role != auth.RoleIntegration || c.Disabled || c.CreatedAt.IsZero() {
		t.Errorf("client = %+v", c)
	}
	if len(secret) != 43 {
		t.Errorf("secret has %d characters, want 43 (32 bytes base64url)", len(secret))
	}
	if c.SecretHash == secret || bcrypt.CompareHashAndPassword([]byte(c.SecretHash), []byte(secret)) != nil {
		t.Error("SecretHash is not a bcrypt hash of the secret")
	}
	if stored, err := store.GetClient(ctx, c.ID); err != nil || stored != c {
		t.Errorf("stored = %+v, %v", stored, err)
	}
	for _, bad := range []struct {
		name string
		role auth.Role
	}{{"x", "root"}, {"  ", auth.RoleAgent}} {
		if _, _, err := auth.CreateClient(ctx, store, bad.name, bad.role); err == nil {
			t.Errorf("CreateClient(%q, %q) succeeded", bad.name, bad.role)
		}
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	store := auth.NewMemoryStore()
	secret, created, err := auth.EnsureAdmin(ctx, store, nil)
	if err != nil || !created || len(secret) != 43 {
		t.Fatalf("first EnsureAdmin = %q, %v, %v", secret, created, err)
	}
	again, created, err := auth.EnsureAdmin(ctx, store, nil)
	if err != nil || created || again != "" {
		t.Fatalf("second EnsureAdmin = %q, %v, %v; want no secret, not created", again, created, err)
	}
	iss, err := auth.NewIssuer(testConfig(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Token(ctx, auth.AdminClientID, secret, []string{auth.ScopeClientsManage})
	if err != nil {
		t.Fatalf("admin secret from the first call does not work: %v", err)
	}
	if tok.Scope != auth.ScopeClientsManage {
		t.Errorf("scope = %q", tok.Scope)
	}
}

func TestEnsureAdminConcurrent(t *testing.T) {
	const replicas = 10
	store := auth.NewMemoryStore()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		secrets []string
		start   = make(chan struct{})
	)
	for range replicas {
		wg.Go(func() {
			<-start
			secret, created, err := auth.EnsureAdmin(context.Background(), store, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if created != (secret != "") {
				t.Errorf("created = %v with secret %q", created, secret)
			}
			if created {
				mu.Lock()
				secrets = append(secrets, secret)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(secrets) != 1 {
		t.Fatalf("%d replicas created the admin, want exactly 1", len(secrets))
	}
	admin, err := store.GetClient(context.Background(), auth.AdminClientID)
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(admin.SecretHash), []byte(secrets[0])) != nil {
		t.Error("the stored admin is not the one whose secret was returned")
	}
}
