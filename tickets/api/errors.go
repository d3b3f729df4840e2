package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// mappings turn error kinds into statuses; this is the only place the
// ticket domain's errors meet HTTP. Order matters: the first match wins,
// and an illegal transition must not be taken for a generic conflict.
func mappings() problem.Mapper {
	return problem.Mapper{
		{Err: tickets.ErrIllegalTransition, Status: http.StatusConflict, Title: "Illegal transition"},
		{Err: tickets.ErrInvalid, Status: http.StatusUnprocessableEntity, Title: "Invalid input"},
		{Err: tickets.ErrNotFound, Status: http.StatusNotFound},
		{Err: tickets.ErrPrecondition, Status: http.StatusPreconditionFailed},
		{Err: tickets.ErrConflict, Status: http.StatusConflict},
		{Err: tickets.ErrUnavailable, Status: http.StatusServiceUnavailable},
		{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
		{Err: auth.ErrClientNotFound, Status: http.StatusNotFound},
		{Err: auth.ErrClientExists, Status: http.StatusConflict},
		{Err: auth.ErrInvalidRole, Status: http.StatusUnprocessableEntity, Title: "Invalid input"},
	}
}

// fail answers err as a problem. Field violations of a
// *tickets.ValidationError become the problem's errors list; a
// *tickets.TransitionError adds from, to and allowed. Server-side failures
// are attached to the gin context for the access log, which records them
// once, with the request ID; the client sees only a generic detail.
func (a *API) fail(c *gin.Context, err error) {
	a.failAs(c, err, 0)
}

// failAs is fail with invalid input answered as invalidStatus instead of
// 422; query-string handlers use 400 because a bad parameter is a malformed
// request, not a rule broken by a well-formed one.
func (a *API) failAs(c *gin.Context, err error, invalidStatus int) {
	p := mappings().Problem(err)
	var ve *tickets.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			p.Errors = append(p.Errors, problem.FieldError{Field: v.Field, Message: v.Message})
		}
	}
	if invalidStatus != 0 && p.Status == http.StatusUnprocessableEntity {
		p.Status, p.Title = invalidStatus, ""
	}
	if p.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(int(a.cfg.RetryAfter.Seconds())))
	}
	if p.Status >= 500 {
		_ = c.Error(err)
	}
	problem.Write(c, p)
}

// write answers a problem built by the handler itself.
func write(c *gin.Context, p problem.Problem) { problem.Write(c, p) }

// notConfigured answers a route whose collaborator this deployment lacks.
func notConfigured(c *gin.Context, what string) {
	write(c, problem.New(http.StatusNotImplemented, what+" are not configured on this server"))
}
