package recordapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// auditTimeout bounds the audit write, which the listener waits for.
const auditTimeout = 10 * time.Second

// retryAfter is what a 503 tells clients to wait, in seconds.
const retryAfter = "5"

// clip bounds the client-chosen strings stored in the audit log.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// recording serves a call's WAV file after auditing the access.
func (a *API) recording(c *gin.Context) {
	id := c.Param("id")
	f, info, openErr := a.d.Recordings.Open(id)
	if f != nil {
		defer f.Close()
	}
	e := Entry{
		At:         time.Now(),
		Actor:      auth.Actor(c),
		CallID:     clip(id, 256),
		RemoteAddr: c.ClientIP(),
		Range:      clip(c.GetHeader("Range"), 256),
		RequestID:  web.RequestID(c.Request.Context()),
	}
	switch {
	case openErr == nil:
		e.Result, e.Bytes = ResultServed, info.Bytes
	case errors.Is(openErr, record.ErrNotFound):
		e.Result = ResultNotFound
	default:
		e.Result = ResultError
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), auditTimeout)
	err := a.d.Audit.Log(ctx, e)
	cancel()
	if err != nil {
		_ = c.Error(fmt.Errorf("%w: %w", errNoAudit, err))
		c.Header("Retry-After", retryAfter)
		problem.Write(c, problem.Problem{
			Status: http.StatusServiceUnavailable,
			Title:  "Audit log unavailable",
			Detail: "The access could not be recorded in the audit log, so the recording is not served; try again later.",
		})
		return
	}
	switch e.Result {
	case ResultNotFound:
		problem.Write(c, problem.NotFound("The call has no recording."))
		return
	case ResultError:
		_ = c.Error(openErr)
		problem.Write(c, problem.Internal("The recording could not be read."))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Content-Disposition", `attachment; filename="`+id+`.wav"`) // id is [A-Za-z0-9_-]
	// Unredacted audio must not linger in shared caches or browsers.
	h.Set("Cache-Control", "no-store")
	http.ServeContent(c.Writer, c.Request, id+".wav", info.ModTime, f)
}

// AuditList is the answer of GET /api/v1/recordings/audit.
type AuditList struct {
	// Entries are the accesses, newest first.
	Entries []Entry `json:"entries"`
}

// defaultAuditSize is how many entries a listing returns unless asked.
const defaultAuditSize = 100

// audit lists accesses, newest first, optionally of one call.
func (a *API) audit(c *gin.Context) {
	callID := c.Query("call_id")
	if callID != "" && !record.ValidID(callID) {
		problem.Write(c, problem.BadRequest("call_id is not a call ID.",
			problem.FieldError{Field: "call_id", Message: "must be 1 to 128 of A-Z, a-z, 0-9, _ and -"}))
		return
	}
	size := defaultAuditSize
	if s, ok := c.GetQuery("size"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxList {
			problem.Write(c, problem.BadRequest("size is out of range.",
				problem.FieldError{Field: "size", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxList)}))
			return
		}
		size = n
	}
	entries, err := a.d.Audit.List(c.Request.Context(), callID, size)
	if err != nil {
		_ = c.Error(err)
		if errors.Is(err, es.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			c.Header("Retry-After", retryAfter)
			problem.Write(c, problem.Unavailable("The audit log is unavailable; try again later."))
			return
		}
		problem.Write(c, problem.Internal("The audit log could not be read."))
		return
	}
	c.JSON(http.StatusOK, AuditList{Entries: entries})
}
