package problem_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/web/problem"
)

func ExampleFromError() {
	errNotFound := errors.New("ticket not found")
	mapper := problem.Mapper{{Err: errNotFound, Status: http.StatusNotFound}}

	e := gin.New()
	e.GET("/tickets/:id", func(c *gin.Context) {
		err := fmt.Errorf("get %s: %w", c.Param("id"), errNotFound)
		problem.Write(c, mapper.Problem(err))
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tickets/T-1", nil))

	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body.String())
	// Output:
	// 404 application/problem+json
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"get T-1: ticket not found"}
}
