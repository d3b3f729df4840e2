// Package logsapi receives service logs over HTTP: POST /api/v1/logs with
// a body of JSON lines (ECS-style fields), answered with how many lines
// were accepted and how many were rejected, by reason. It is a
// web.Registrar like the other APIs; openapi.yaml here is its fragment of
// the OpenAPI document.
package logsapi

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/aiops/logs"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// Ingester takes log lines; *logs.Ingester is one.
type Ingester interface {
	Ingest(ctx context.Context, r io.Reader, def logs.Defaults) (logs.Result, error)
}

// MaxBodyBytes bounds one request (64 MiB); larger batches are split by
// the sender.
const MaxBodyBytes = 64 << 20

// PathLogs is the route.
const PathLogs = "/api/v1/logs"

// API serves the route.
type API struct{ in Ingester }

// New returns the API.
func New(in Ingester) *API { return &API{in: in} }

// Routes is the route table.
func (a *API) Routes() []web.Route {
	return []web.Route{{Method: http.MethodPost, Path: PathLogs, Scope: auth.ScopeAIOpsManage,
		Summary: "Ingest service logs (JSON lines)", MaxBodyBytes: MaxBodyBytes}}
}

// Register adds the route behind guard.
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	rt := a.Routes()[0]
	r.Handle(rt.Method, rt.Path, guard(rt.Scope), a.ingest)
}

func (a *API) ingest(c *gin.Context) {
	def := logs.Defaults{Service: c.Query("service"), Host: c.Query("host")}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	res, err := a.in.Ingest(c.Request.Context(), body, def)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		problem.Write(c, problem.New(http.StatusRequestEntityTooLarge, "the body is over 64 MiB; send smaller batches (lines before the limit were taken)"))
		return
	case err != nil:
		_ = c.Error(err)
		problem.Write(c, problem.New(http.StatusServiceUnavailable, "logs could not be stored; retry later"))
		return
	}
	c.JSON(http.StatusOK, res)
}
