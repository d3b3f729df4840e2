package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/web/problem"
)

// Verifier checks an access token and returns its claims; *Issuer is one.
type Verifier interface {
	Verify(token string) (Claims, error)
}

// claimsKey is the gin context key for the request's Claims; unexported so
// no other package can forge them.
type claimsKey struct{}

// Require returns middleware that admits a request only with a valid bearer
// token (RFC 6750 §2.1) granting scope, and stores its claims for
// FromContext. An empty scope requires only a valid token. It answers 401
// when the token is missing or invalid and 403 when the scope is missing,
// as problem+json with the WWW-Authenticate challenge RFC 6750 §3 asks for.
//
// Require panics if scope is not one of AllScopes(): a typo in route wiring
// would otherwise lock a route for everyone, or be noticed only in
// production.
func Require(v Verifier, scope string) gin.HandlerFunc {
	if scope != "" && !slices.Contains(AllScopes(), scope) {
		panic(fmt.Sprintf("auth: Require: unknown scope %q", scope))
	}
	return func(c *gin.Context) {
		raw, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="switchboard"`)
			problem.Write(c, problem.Unauthorized("a bearer access token is required"))
			return
		}
		claims, err := v.Verify(raw)
		if err != nil {
			// The reason stays in the server: telling a caller which check
			// failed helps forgers more than clients.
			c.Header("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token", error_description="the access token is invalid or expired"`)
			problem.Write(c, problem.Unauthorized("the access token is invalid or expired"))
			return
		}
		if scope != "" && !claims.Has(scope) {
			c.Header("WWW-Authenticate", `Bearer realm="switchboard", error="insufficient_scope", scope="`+scope+`"`)
			problem.Write(c, problem.Forbidden("the access token lacks the "+scope+" scope").
				WithExtensions(map[string]any{"required_scope": scope}))
			return
		}
		c.Set(claimsKey{}, claims)
		c.Next()
	}
}

// bearerToken extracts the token from an Authorization header value; the
// scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// FromContext returns the claims Require stored for this request.
func FromContext(c *gin.Context) (Claims, bool) {
	v, ok := c.Get(claimsKey{})
	if !ok {
		return Claims{}, false
	}
	claims, ok := v.(Claims)
	return claims, ok
}

// Actor returns the client ID of the request's caller for audit fields, or
// "" if the request was not authenticated by Require.
func Actor(c *gin.Context) string {
	claims, _ := FromContext(c)
	return claims.Subject
}

var _ Verifier = (*Issuer)(nil)
