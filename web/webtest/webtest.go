// Package webtest gives API tests the real web server with its real
// authentication: a web.Server over the registrars under test, an Issuer
// and one API client per role (id "test-<role>", secret
// "secret-<role>"), and tokens minted by that Issuer with all of the
// role's scopes. Domain APIs test their route × role matrix against it.
package webtest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Server is a test web server.
type Server struct {
	Handler http.Handler
	Issuer  *auth.Issuer

	t      testing.TB
	mu     sync.Mutex
	tokens map[auth.Role]string
}

// ClientID is the id of the test client with role r.
func ClientID(r auth.Role) string { return "test-" + string(r) }

// New returns a server over apis.
func New(t testing.TB, apis ...web.Registrar) *Server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	clients := auth.NewMemoryStore()
	for _, r := range auth.Roles() {
		// bcrypt.MinCost: the real verification reads the cost from the
		// hash, and the default would spend a second per token under -race.
		hash, err := bcrypt.GenerateFromPassword([]byte("secret-"+string(r)), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		c := auth.Client{ID: ClientID(r), Name: string(r), Role: r, SecretHash: string(hash), CreatedAt: time.Now()}
		if err := clients.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	iss, err := auth.NewIssuer(auth.Config{SigningKey: []byte("webtest-signing-key-0123456789abcdefgh"), Issuer: "https://switchboard.test", Audience: "switchboard"}, clients, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{}, web.Deps{Issuer: iss, APIs: apis})
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Handler: srv.Handler(), Issuer: iss, t: t, tokens: map[auth.Role]string{}}
}

// Token returns an access token of the test client with role r.
func (s *Server) Token(r auth.Role) string {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := s.tokens[r]; ok {
		return tok
	}
	tok, err := s.Issuer.Token(context.Background(), ClientID(r), "secret-"+string(r), nil)
	if err != nil {
		s.t.Fatalf("webtest: token for %s: %v", r, err)
	}
	s.tokens[r] = tok.AccessToken
	return tok.AccessToken
}
