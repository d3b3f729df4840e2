package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// RequestIDHeader carries the request ID in both directions.
const RequestIDHeader = "X-Request-ID"

// requestIDKey keys the request ID in request contexts.
type requestIDKey struct{}

// RequestID returns the ID of the request ctx belongs to, or "" outside a
// request; handlers add it to their log lines to join them with the access
// log.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// maxRequestIDLen bounds a client-supplied request ID.
const maxRequestIDLen = 128

// validRequestID reports whether a client-supplied ID is safe to echo and
// log: short and made of URL-safe characters only, so it can neither break
// a log line nor smuggle a header.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.:", r):
		default:
			return false
		}
	}
	return true
}

// requestID adopts the client's X-Request-ID (a proxy may have set it to
// correlate its own logs) or makes one, and returns it in the response.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(RequestIDHeader)
		if !validRequestID(id) {
			var b [16]byte
			_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
			id = hex.EncodeToString(b[:])
		}
		c.Header(RequestIDHeader, id)
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), requestIDKey{}, id))
		c.Next()
	}
}

// metrics are the HTTP server's Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total",
			Help: "HTTP requests served, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method and route template.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("web: register metrics: %w", err)
		}
	}
	return m, nil
}

// unmatchedRoute labels requests no route matched; using their paths would
// let any client create unbounded label values.
const unmatchedRoute = "unmatched"

// quiet reports whether route is polled by probes and scrapers; logging
// each poll at info would drown the requests people look for.
func quiet(route string) bool {
	return route == "/healthz" || route == "/readyz" || route == "/metrics"
}

// observe records every request in the access log and the metrics. It logs
// the route template, never the raw path or query (they may hold customer
// data) and never headers (Authorization holds a bearer token). Errors
// attached with c.Error, which handlers use for server-side failures, are
// logged here, once.
func (s *Server) observe(m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := s.d.Now()
		c.Next()
		elapsed := s.d.Now().Sub(start)
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		status := c.Writer.Status()
		m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(c.Request.Method, route).Observe(elapsed.Seconds())

		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case quiet(route) && len(c.Errors) == 0:
			level = slog.LevelDebug
		}
		ctx := c.Request.Context()
		if !s.log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("request_id", RequestID(ctx)),
			slog.String("remote_ip", c.ClientIP()),
		}
		if claims, ok := auth.FromContext(c); ok {
			attrs = append(attrs, slog.String("client_id", claims.Subject))
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, slog.String("error", c.Errors.String()))
		}
		s.log.LogAttrs(ctx, level, "http request", attrs...)
	}
}

// bodyLimit bounds request bodies: limits overrides def for the routes it
// names ("METHOD /path"). A declared Content-Length over the limit is
// refused before any handler runs; a body that turns out longer fails its
// reader with *http.MaxBytesError, which the decoders report as 413.
func bodyLimit(def int64, limits map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := def
		if l, ok := limits[c.Request.Method+" "+c.FullPath()]; ok {
			limit = l
		}
		if c.Request.ContentLength > limit {
			problem.Write(c, problem.PayloadTooLarge(fmt.Sprintf("request body exceeds %d bytes", limit)))
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}
