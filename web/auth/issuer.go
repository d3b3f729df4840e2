package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// DefaultTTL is the access token lifetime when Config.TTL is zero.
const DefaultTTL = time.Hour

// minKeyLen is the HS256 key length RFC 7518 §3.2 requires: a key at least
// as long as the hash output.
const minKeyLen = 32

// clockSkew is how far replicas' clocks may disagree: a token issued by one
// must not be "not yet valid" on another.
const clockSkew = 10 * time.Second

// Config configures an Issuer.
type Config struct {
	// SigningKey is the HS256 key shared by every replica; at least 32
	// random bytes. Rotating it invalidates all tokens at once.
	SigningKey []byte
	// Issuer is the "iss" claim, e.g. the server's external URL.
	Issuer string
	// Audience is the "aud" claim tokens are issued for and checked against.
	Audience string
	// TTL is how long a token is valid; zero means DefaultTTL.
	TTL time.Duration
}

// Validate reports whether c can be used, after defaults.
func (c Config) Validate() error {
	var errs []error
	if len(c.SigningKey) < minKeyLen {
		errs = append(errs, fmt.Errorf("signing key has %d bytes, need at least %d", len(c.SigningKey), minKeyLen))
	}
	// Empty iss or aud would make the checks in Verify vacuous.
	if c.Issuer == "" {
		errs = append(errs, errors.New("issuer is empty"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("audience is empty"))
	}
	if c.TTL < 0 {
		errs = append(errs, fmt.Errorf("ttl %v is negative", c.TTL))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("auth: config: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	c.SigningKey = slices.Clone(c.SigningKey)
	return c
}

// Token is a successful token response (RFC 6749 §5.1).
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is the lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
	// Scope lists the granted scopes, space-separated.
	Scope string `json:"scope"`
}

// Claims are what a verified access token says about its bearer.
type Claims struct {
	// Subject is the client ID.
	Subject string
	Role    Role
	// Scopes are the granted scopes, in AllScopes order.
	Scopes []string
	// IssuedAt and ExpiresAt are in UTC.
	IssuedAt  time.Time
	ExpiresAt time.Time
	// ID is the token's unique "jti", for audit logs.
	ID string
}

// Has reports whether the token grants scope.
func (c Claims) Has(scope string) bool { return slices.Contains(c.Scopes, scope) }

// jwtClaims is the token's JSON payload. Scope follows RFC 9068 §2.2.3:
// one space-separated string.
type jwtClaims struct {
	jwt.RegisteredClaims
	Role  Role   `json:"role"`
	Scope string `json:"scope"`
}

// Issuer authenticates clients, issues access tokens and verifies them. It
// is safe for concurrent use.
type Issuer struct {
	cfg    Config
	store  ClientGetter
	now    func() time.Time
	parser *jwt.Parser
}

// dummyHash is compared against when the client is unknown, so that unknown
// and known IDs take the same time and cannot be enumerated. It is a bcrypt
// hash at bcrypt.DefaultCost, the cost newClient uses, of a string no
// generated secret can equal (generated secrets have no spaces).
const dummyHash = "$2a$10$PbKXU2wUEUCdL570atSEteM.3W19QUdHWpGtoPfCxCDUHhapMRwtS"

// NewIssuer returns an Issuer that looks clients up in store and reads the
// time from now (time.Now if nil).
func NewIssuer(cfg Config, store ClientGetter, now func() time.Time) (*Issuer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("auth: new issuer: nil client store")
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		cfg:   cfg,
		store: store,
		now:   now,
		parser: jwt.NewParser(
			// Pinning the algorithm is what stops alg=none and RS/HS
			// confusion tokens.
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(clockSkew),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// maxSecretLen bounds the secret bcrypt sees; bcrypt ignores bytes after 72
// and longer input only costs time.
const maxSecretLen = 72

// Token authenticates the client and issues an access token carrying the
// requested scopes, or all of its role's scopes if none are requested.
// Authentication failures wrap ErrInvalidClient, scopes beyond the role
// ErrInvalidScope; any other error is the store's.
func (iss *Issuer) Token(ctx context.Context, clientID, secret string, requestedScopes []string) (Token, error) {
	c, err := iss.authenticate(ctx, clientID, secret)
	if err != nil {
		return Token{}, err
	}
	allowed := ScopesForRole(c.Role)
	for _, s := range requestedScopes {
		if !slices.Contains(allowed, s) {
			return Token{}, fmt.Errorf("auth: token for %s: scope %q not allowed for role %s: %w", c.ID, s, c.Role, ErrInvalidScope)
		}
	}
	granted := allowed
	if len(requestedScopes) > 0 {
		granted = canonical(requestedScopes)
	}

	now := iss.now()
	exp := now.Add(iss.cfg.TTL)
	scope := strings.Join(granted, " ")
	claims := jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    iss.cfg.Issuer,
			Subject:   c.ID,
			Audience:  jwt.ClaimStrings{iss.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		Role:  c.Role,
		Scope: scope,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(iss.cfg.SigningKey)
	if err != nil {
		return Token{}, fmt.Errorf("auth: token for %s: sign: %w", c.ID, err)
	}
	return Token{
		AccessToken: signed,
		TokenType:   "Bearer",
		ExpiresIn:   int(iss.cfg.TTL / time.Second),
		Scope:       scope,
	}, nil
}

// authenticate returns the enabled client whose secret matches. Every
// failure costs one bcrypt comparison, so timing does not tell which check
// failed.
func (iss *Issuer) authenticate(ctx context.Context, clientID, secret string) (Client, error) {
	fail := func(reason string) (Client, error) {
		return Client{}, fmt.Errorf("auth: authenticate %q: %s: %w", clientID, reason, ErrInvalidClient)
	}
	if clientID == "" || secret == "" || len(secret) > maxSecretLen {
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(secret[:min(len(secret), maxSecretLen)]))
		return fail("malformed credentials")
	}
	c, err := iss.store.GetClient(ctx, clientID)
	if err != nil {
		if errors.Is(err, ErrClientNotFound) {
			_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(secret))
			return fail("unknown client")
		}
		return Client{}, fmt.Errorf("auth: authenticate %q: %w", clientID, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(c.SecretHash), []byte(secret)) != nil {
		return fail("wrong secret")
	}
	if c.Disabled {
		return fail("client disabled")
	}
	if !c.Role.Valid() {
		return fail(fmt.Sprintf("unknown role %q", c.Role))
	}
	return c, nil
}

// Verify checks an access token's signature (HS256 only), expiry, not-before,
// issuer and audience, and that its scopes are within its role, and returns
// its claims. Every failure wraps ErrInvalidToken.
func (iss *Issuer) Verify(token string) (Claims, error) {
	var jc jwtClaims
	_, err := iss.parser.ParseWithClaims(token, &jc, func(t *jwt.Token) (any, error) {
		// WithValidMethods already checks alg; asserting the type too
		// keeps a future parser option from widening what is accepted.
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return iss.cfg.SigningKey, nil
	})
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if jc.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	scopes := strings.Fields(jc.Scope)
	// A token minted before the role table shrank must not keep the
	// removed powers.
	allowed := ScopesForRole(jc.Role)
	if allowed == nil {
		return Claims{}, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, jc.Role)
	}
	for _, s := range scopes {
		if !slices.Contains(allowed, s) {
			return Claims{}, fmt.Errorf("%w: scope %q beyond role %s", ErrInvalidToken, s, jc.Role)
		}
	}
	claims := Claims{
		Subject: jc.Subject,
		Role:    jc.Role,
		Scopes:  canonical(scopes),
		ID:      jc.ID,
	}
	if jc.IssuedAt != nil {
		claims.IssuedAt = jc.IssuedAt.UTC()
	}
	if jc.ExpiresAt != nil {
		claims.ExpiresAt = jc.ExpiresAt.UTC()
	}
	return claims, nil
}
