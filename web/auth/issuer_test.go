package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-cc/switchboard/web/auth"
)

func TestToken(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		id, secret string
		scopes     []string
		wantErr    error
		wantScope  string
	}{
		{name: "all of the role's scopes", id: "c-agent", secret: "secret-c-agent",
			wantScope: "tickets:read tickets:write stats:read nlu:read calls:read agents:manage"},
		{name: "requested subset, canonical order, deduplicated", id: "c-agent", secret: "secret-c-agent",
			scopes: []string{"stats:read", "tickets:read", "stats:read"}, wantScope: "tickets:read stats:read"},
		{name: "admin gets clients:manage", id: "c-admin", secret: "secret-c-admin",
			scopes: []string{"clients:manage"}, wantScope: "clients:manage"},
		{name: "wrong secret", id: "c-agent", secret: "secret-c-admin", wantErr: auth.ErrInvalidClient},
		{name: "empty secret", id: "c-agent", secret: "", wantErr: auth.ErrInvalidClient},
		{name: "overlong secret", id: "c-agent", secret: "secret-c-agent" + strings.Repeat("x", 100), wantErr: auth.ErrInvalidClient},
		{name: "unknown client", id: "c-nobody", secret: "secret-c-nobody", wantErr: auth.ErrInvalidClient},
		{name: "disabled client", id: "c-disabled", secret: "secret-c-disabled", wantErr: auth.ErrInvalidClient},
		{name: "scope escalation", id: "c-agent", secret: "secret-c-agent",
			scopes: []string{"tickets:read", "tickets:admin"}, wantErr: auth.ErrInvalidScope},
		{name: "clients:manage beyond integration", id: "c-integration", secret: "secret-c-integration",
			scopes: []string{"clients:manage"}, wantErr: auth.ErrInvalidScope},
		{name: "unknown scope", id: "c-admin", secret: "secret-c-admin",
			scopes: []string{"everything"}, wantErr: auth.ErrInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := f.iss.Token(context.Background(), tt.id, tt.secret, tt.scopes)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Token error = %v, want %v", err, tt.wantErr)
				}
				if tok.AccessToken != "" {
					t.Error("token issued despite error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != tt.wantScope {
				t.Errorf("token = %+v, want Bearer, 3600, %q", tok, tt.wantScope)
			}
			claims, err := f.iss.Verify(tok.AccessToken)
			if err != nil {
				t.Fatalf("Verify(issued token): %v", err)
			}
			if claims.Subject != tt.id || strings.Join(claims.Scopes, " ") != tt.wantScope ||
				!claims.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)) || claims.ID == "" {
				t.Errorf("claims = %+v", claims)
			}
		})
	}
}

// forge signs claims with the given method and key, bypassing the Issuer.
func forge(t *testing.T, method jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
	t.Helper()
	now := newClock().Now()
	claims := jwt.MapClaims{
		"iss": "https://switchboard.test", "aud": "switchboard-api", "sub": "c-agent",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"role": "agent", "scope": "tickets:read",
	}
	if mutate != nil {
		mutate(claims)
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	issued, err := f.iss.Token(context.Background(), "c-agent", "secret-c-agent", nil)
	if err != nil {
		t.Fatal(err)
	}
	otherAud := testConfig()
	otherAud.Audience = "someone-else"
	otherIss := testConfig()
	otherIss.Issuer = "https://evil.test"
	otherKey := testConfig()
	otherKey.SigningKey = []byte("ffffffffffffffffffffffffffffffff")
	tokenFrom := func(cfg auth.Config) string {
		iss, err := auth.NewIssuer(cfg, f.store, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := iss.Token(context.Background(), "c-agent", "secret-c-agent", nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	// Tamper with the payload but keep the signature.
	parts := strings.Split(issued.AccessToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), `"role":"agent"`, `"role":"admin"`, 1))
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	tests := []struct {
		name    string
		token   string
		advance time.Duration // clock movement before Verify
		wantOK  bool
	}{
		{"issued token", issued.AccessToken, 0, true},
		{"near expiry", issued.AccessToken, 59 * time.Minute, true},
		{"expired", issued.AccessToken, time.Hour + time.Minute, false},
		{"not yet valid", forge(t, jwt.SigningMethodHS256, testKey, func(c jwt.MapClaims) {
			c["nbf"] = newClock().Now().Add(10 * time.Minute).Unix()
		}), 0, false},
		{"issued in the future", forge(t, jwt.SigningMethodHS256, testKey, func(c jwt.MapClaims) {
			c["iat"] = newClock().Now().Add(10 * time.Minute).Unix()
		}), 0, false},
		{"forged with the right key", forge(t, jwt.SigningMethodHS256, testKey, nil), 0, true},
		{"signed with another key", tokenFrom(otherKey), 0, false},
		{"alg none", forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil), 0, false},
		{"HS512 with the right key", forge(t, jwt.SigningMethodHS512, testKey, nil), 0, false},
		{"wrong audience", tokenFrom(otherAud), 0, false},
		{"wrong issuer", tokenFrom(otherIss), 0, false},
		{"no expiry", forge(t, jwt.SigningMethodHS256, testKey, func(c jwt.MapClaims) { delete(c, "exp") }), 0, false},
		{"no subject", forge(t, jwt.SigningMethodHS256, testKey, func(c jwt.MapClaims) { delete(c, "sub") }), 0, false},
		{"scope beyond role", forge(t, jwt.SigningMethodHS256, testKey, func(c jwt.MapClaims) { c["scope"] = "tickets:read clients:manage" }), 0, false},
		{"unknown role", forge(t, jwt.SigningMethodHS256, testKey, func(c jwt.MapClaims) { c["role"] = "root" }), 0, false},
		{"tampered payload", tampered, 0, false},
		{"garbage", "not.a.jwt", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: f.clock.Now().Add(tt.advance)}
			iss, err := auth.NewIssuer(testConfig(), f.store, c.Now)
			if err != nil {
				t.Fatal(err)
			}
			claims, err := iss.Verify(tt.token)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if claims.Subject != "c-agent" || claims.Role != auth.RoleAgent || len(claims.Scopes) == 0 {
					t.Errorf("claims = %+v", claims)
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Verify error = %v, want ErrInvalidToken", err)
			}
			if !slices.Equal(claims.Scopes, nil) || claims.Subject != "" {
				t.Errorf("claims returned with error: %+v", claims)
			}
		})
	}
}
