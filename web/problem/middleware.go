package problem

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/gin-gonic/gin"
)

// Recovery returns middleware that turns a panic in a later handler into a
// 500 problem and logs it, with its stack, once. It replaces gin.Recovery,
// which writes a text body and logs outside slog.
//
// A panic with http.ErrAbortHandler is re-raised so net/http aborts the
// response silently, as that value asks.
func Recovery(logger *slog.Logger) gin.HandlerFunc {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			if err, ok := r.(error); ok && brokenConnection(err) {
				// The client went away mid-response; there is no one to
				// answer and nothing wrong with the server.
				logger.LogAttrs(c.Request.Context(), slog.LevelDebug, "client connection lost",
					slog.String("method", c.Request.Method),
					slog.String("path", c.Request.URL.Path),
					slog.Any("error", err))
				c.Abort()
				return
			}
			logger.LogAttrs(c.Request.Context(), slog.LevelError, "panic serving request",
				slog.String("method", c.Request.Method),
				slog.String("path", c.Request.URL.Path),
				slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
			Write(c, Internal("the server hit an unexpected error"))
		}()
		c.Next()
	}
}

// brokenConnection reports whether err says the peer closed the connection.
func brokenConnection(err error) bool {
	var ne *net.OpError
	if !errors.As(err, &ne) {
		return false
	}
	var se *os.SyscallError
	if errors.As(ne, &se) {
		return errors.Is(se.Err, syscall.EPIPE) || errors.Is(se.Err, syscall.ECONNRESET)
	}
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// NoRoute returns a handler for gin's Engine.NoRoute that answers 404 with a
// problem instead of gin's text body.
func NoRoute() gin.HandlerFunc {
	return func(c *gin.Context) {
		Write(c, NotFound("no resource at "+c.Request.URL.Path))
	}
}

// NoMethod returns a handler for gin's Engine.NoMethod that answers 405 with
// a problem. gin calls it only when Engine.HandleMethodNotAllowed is true,
// and sets the Allow header itself.
func NoMethod() gin.HandlerFunc {
	return func(c *gin.Context) {
		Write(c, MethodNotAllowed(c.Request.Method+" is not allowed on "+c.Request.URL.Path))
	}
}
