package auth

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxTokenRequestBytes bounds a token request body; a legitimate one is a
// few hundred bytes.
const maxTokenRequestBytes = 8 << 10

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// TokenHandler returns the token endpoint for the client credentials grant
// (RFC 6749 §4.4): a POST of application/x-www-form-urlencoded with
// grant_type=client_credentials and an optional space-separated scope. The
// client authenticates with HTTP Basic or with client_id and client_secret
// form fields, not both. Errors follow RFC 6749 §5.2. Failures other than
// the client's are attached to the gin context with c.Error for the
// logging middleware, and answered with 500.
func TokenHandler(iss *Issuer) gin.HandlerFunc {
	return func(c *gin.Context) {
		// Tokens and errors about credentials must never be cached
		// (RFC 6749 §5.1).
		c.Header("Cache-Control", "no-store")
		c.Header("Pragma", "no-cache")

		if c.Request.Method != http.MethodPost {
			c.Header("Allow", http.MethodPost)
			oauthFail(c, http.StatusMethodNotAllowed, "invalid_request", "use POST")
			return
		}
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			oauthFail(c, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxTokenRequestBytes)
		if err := c.Request.ParseForm(); err != nil {
			oauthFail(c, http.StatusBadRequest, "invalid_request", "malformed form body")
			return
		}
		// Only the body counts: credentials in a query string end up in
		// access logs (RFC 6749 §2.3.1).
		form := c.Request.PostForm
		for k, v := range form {
			if len(v) > 1 {
				oauthFail(c, http.StatusBadRequest, "invalid_request", "parameter "+k+" repeated")
				return
			}
		}
		switch gt := form.Get("grant_type"); gt {
		case "client_credentials":
		case "":
			oauthFail(c, http.StatusBadRequest, "invalid_request", "grant_type is required")
			return
		default:
			oauthFail(c, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
			return
		}

		id, secret, ok := clientCredentials(c.Request, form)
		if !ok {
			oauthInvalidClient(c, "exactly one client authentication method is required")
			return
		}
		var scopes []string
		if form.Has("scope") {
			scopes = strings.Fields(form.Get("scope"))
		}

		tok, err := iss.Token(c.Request.Context(), id, secret, scopes)
		switch {
		case err == nil:
			c.JSON(http.StatusOK, tok)
		case errors.Is(err, ErrInvalidClient):
			oauthInvalidClient(c, "client authentication failed")
		case errors.Is(err, ErrInvalidScope):
			oauthFail(c, http.StatusBadRequest, "invalid_scope", "a requested scope is not allowed for this client")
		default:
			_ = c.Error(err)
			oauthFail(c, http.StatusInternalServerError, "server_error", "")
		}
	}
}

// clientCredentials returns the client ID and secret from exactly one of
// HTTP Basic and the form; ok is false if neither or both are present.
func clientCredentials(r *http.Request, form url.Values) (id, secret string, ok bool) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	hasForm := form.Has("client_id") || form.Has("client_secret")
	switch {
	case hasBasic && hasForm, !hasBasic && !hasForm:
		return "", "", false
	case hasBasic:
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic
		// encoding.
		id, err1 := url.QueryUnescape(basicID)
		secret, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return "", "", false
		}
		return id, secret, true
	default:
		return form.Get("client_id"), form.Get("client_secret"), true
	}
}

func oauthInvalidClient(c *gin.Context, desc string) {
	c.Header("WWW-Authenticate", `Basic realm="switchboard", charset="UTF-8"`)
	oauthFail(c, http.StatusUnauthorized, "invalid_client", desc)
}

func oauthFail(c *gin.Context, status int, code, desc string) {
	c.AbortWithStatusJSON(status, oauthError{Error: code, Description: desc})
}
