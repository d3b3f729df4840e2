package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/openapi"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// swaggerUICDN is where /docs loads Swagger UI from without DocsAssetsDir;
// the version is pinned so the page does not change under us.
const swaggerUICDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14"

// registerOwn adds the server's own routes: token, health, readiness,
// metrics and documentation. They are public; /metrics should be kept from
// the Internet by the network, like any Prometheus target.
func (s *Server) registerOwn(e *gin.Engine) error {
	if s.d.Issuer != nil {
		e.POST("/oauth/token", auth.TokenHandler(s.d.Issuer))
	}
	e.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	e.GET("/readyz", s.ready)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.d.Registry, promhttp.HandlerOpts{
		ErrorLog: promLogger{s},
		// Report failed collections as an error response, so that a
		// partial scrape is never mistaken for the whole truth.
		ErrorHandling: promhttp.HTTPErrorOnError,
	})))

	doc, err := s.openAPIDocument()
	if err != nil {
		return err
	}
	e.GET("/openapi.json", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", doc)
	})
	page, err := docsPage(s.cfg.DocsAssetsDir != "")
	if err != nil {
		return err
	}
	e.GET("/docs", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", page)
	})
	e.GET("/docs/assets/:file", s.docsAsset)
	return nil
}

// ready answers 200 when Deps.Ready does, else a 503 problem; the cause is
// logged (through c.Error) but not shown, as it names internal hosts.
func (s *Server) ready(c *gin.Context) {
	if s.d.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := s.d.Ready(ctx); err != nil {
			_ = c.Error(err)
			c.Header("Retry-After", "5")
			problem.Write(c, problem.Unavailable("a dependency is not available"))
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// openAPIDocument returns the document served at /openapi.json: the
// embedded one, pointed at PublicURL when that is set, so Swagger UI's
// "Try it out" and its token request reach the server through the proxy.
func (s *Server) openAPIDocument() ([]byte, error) {
	raw := openapi.JSON()
	if s.cfg.PublicURL == "" {
		return raw, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("web: openapi document: %w", err)
	}
	doc["servers"] = []any{map[string]any{"url": s.cfg.PublicURL}}
	if comps, ok := doc["components"].(map[string]any); ok {
		if schemes, ok := comps["securitySchemes"].(map[string]any); ok {
			for _, sc := range schemes {
				flows, _ := sc.(map[string]any)["flows"].(map[string]any)
				for _, f := range flows {
					if fm, ok := f.(map[string]any); ok {
						if tu, ok := fm["tokenUrl"].(string); ok && strings.HasPrefix(tu, "/") {
							fm["tokenUrl"] = s.cfg.PublicURL + tu
						}
					}
				}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("web: openapi document: %w", err)
	}
	return out, nil
}

// docsTemplate is the Swagger UI page. Paths are relative so the page works
// behind a proxy that mounts the server under a prefix.
const docsTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard API</title>
<link rel="stylesheet" href="{{.Base}}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{.Base}}/swagger-ui-bundle.js" crossorigin></script>
<script>
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false
  });
};
</script>
</body>
</html>
`

// docsPage renders the Swagger UI page with local or CDN assets.
func docsPage(local bool) ([]byte, error) {
	base := swaggerUICDN
	if local {
		base = "docs/assets"
	}
	t, err := template.New("docs").Parse(docsTemplate)
	if err != nil {
		return nil, fmt.Errorf("web: docs page: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, struct{ Base string }{base}); err != nil {
		return nil, fmt.Errorf("web: docs page: %w", err)
	}
	return buf.Bytes(), nil
}

// docsAsset serves one file of DocsAssetsDir. Names are a single path
// segment by route, and fs.ValidPath refuses anything that could climb out
// of the directory.
func (s *Server) docsAsset(c *gin.Context) {
	name := c.Param("file")
	if s.cfg.DocsAssetsDir == "" || !fs.ValidPath(name) || strings.HasPrefix(name, ".") {
		problem.Write(c, problem.NotFound("no resource at "+c.Request.URL.Path))
		return
	}
	fsys := os.DirFS(s.cfg.DocsAssetsDir)
	f, err := fsys.Open(name)
	if err != nil {
		problem.Write(c, problem.NotFound("no resource at "+c.Request.URL.Path))
		return
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	rs, seekable := f.(io.ReadSeeker)
	if err != nil || st.IsDir() || !seekable {
		problem.Write(c, problem.NotFound("no resource at "+c.Request.URL.Path))
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	http.ServeContent(c.Writer, c.Request, name, st.ModTime(), rs)
}

// promLogger sends promhttp's errors to the server's log.
type promLogger struct{ s *Server }

func (l promLogger) Println(v ...any) {
	l.s.log.Error("serving metrics", "err", fmt.Sprint(v...))
}
