package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// syncBuffer lets the test read what the server prints while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeEndToEnd runs `switchboard serve` as a user would, against the
// test cluster: the banner shows a one-time admin secret, that secret gets a
// token, the token creates and reads a ticket, a second start reuses
// everything and shows no secret, and cancelling stops the server cleanly.
func TestServeEndToEnd(t *testing.T) {
	esURL := estest.URL(t)
	prefix := estest.Prefix(t)
	t.Cleanup(func() { estest.Cleanup(t, mustClient(t, esURL, prefix)) })

	start := func() (addr string, out *syncBuffer, stop func() int) {
		addr = freeAddr(t)
		out = &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() {
			done <- run(ctx, []string{"serve", "--es-url", esURL, "--index-prefix", prefix, "--addr", addr, "--log-level", "warn"}, nil, out, io.Discard)
		}()
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(out.String(), "Switchboard is running") {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("server did not start; output:\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitHTTP(t, "http://"+addr+"/readyz")
		return addr, out, func() int { cancel(); return <-done }
	}

	addr, out, stop := start()
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("first start printed no admin secret:\n%s", out)
	}
	base := "http://" + addr
	tok := token(t, base, "admin", m[1])

	body := `{"channel":"email","customer":{"email":"li@example.com"},"subject":"退款还没到账","priority":"high"}`
	res := do(t, http.MethodPost, base+"/api/v1/tickets", tok, body)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	var created struct {
		ID     string `json:"id"`
		Number int64  `json:"number"`
		SLA    struct {
			Policy string `json:"policy"`
		} `json:"sla"`
	}
	mustJSON(t, res.body, &created)
	if created.Number != 1 || created.SLA.Policy == "" {
		t.Fatalf("created ticket %+v: want number 1 and an SLA policy", created)
	}
	if r := do(t, http.MethodGet, base+"/api/v1/tickets/"+created.ID, tok, ""); r.status != http.StatusOK {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, base+"/api/v1/tickets/"+created.ID, "", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("get without a token: %d, want 401", r.status)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d after cancel", code)
	}

	// Second start: same cluster, nothing recreated, no new secret; the
	// first start's token is still accepted (shared signing key).
	addr, out, stop = start()
	if strings.Contains(out.String(), "client_secret") {
		t.Fatalf("second start printed a new admin secret:\n%s", out)
	}
	if r := do(t, http.MethodGet, "http://"+addr+"/api/v1/tickets/"+created.ID, tok, ""); r.status != http.StatusOK {
		t.Fatalf("token from the first start on the second: %d %s", r.status, r.body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d after cancel", code)
	}
}

// TestImportCommand imports a generated legacy export twice: the second
// run stores nothing new, and a dry run touches nothing.
func TestImportCommand(t *testing.T) {
	esURL := estest.URL(t)
	prefix := estest.Prefix(t)
	c := mustClient(t, esURL, prefix)
	t.Cleanup(func() { estest.Cleanup(t, c) })
	dir := t.TempDir()
	in := filepath.Join(dir, "legacy.csv")
	var buf bytes.Buffer
	if err := importer.GenerateCSV(&buf, 300, 7); err != nil {
		t.Fatal(err)
	}
	// One broken row: its rejection must not stop the other 300.
	buf.WriteString("broken,row\n")
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	mapping := filepath.Join("..", "..", "tickets", "importer", "testdata", "generated-mapping.yaml")
	args := []string{"import", "--es-url", esURL, "--index-prefix", prefix, "--mapping", mapping, "--quiet", in}

	var out bytes.Buffer
	if code := run(context.Background(), append([]string{"import", "--dry-run"}, args[1:]...), nil, &out, io.Discard); code != 0 {
		t.Fatalf("dry run exited %d: %s", code, out.String())
	}
	if n := countTickets(t, esURL, prefix); n != 0 {
		t.Fatalf("dry run stored %d tickets", n)
	}
	for i, want := range []string{"300 imported, 0 already present", "0 imported, 300 already present"} {
		out.Reset()
		var errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errOut); code != 0 {
			t.Fatalf("run %d exited %d: %s %s", i+1, code, out.String(), errOut.String())
		}
		if !strings.Contains(strings.ToLower(out.String()), want) {
			t.Fatalf("run %d summary %q does not say %q", i+1, out.String(), want)
		}
		if n := countTickets(t, esURL, prefix); n != 300 {
			t.Fatalf("after run %d the index holds %d tickets, want 300", i+1, n)
		}
	}
	rejects, err := os.ReadFile(in + ".rejects.csv")
	if err != nil || !strings.Contains(string(rejects), "broken") {
		t.Fatalf("rejection report: %v\n%s", err, rejects)
	}

	// The imported labels are training data: `training export` hands them
	// out oldest first, and refuses bad flags.
	out.Reset()
	exportArgs := []string{"training", "export", "--es-url", esURL, "--index-prefix", prefix, "--quiet"}
	if code := run(context.Background(), exportArgs, nil, &out, io.Discard); code != 0 {
		t.Fatalf("training export exited %d: %s", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 100 {
		t.Fatalf("training export wrote %d rows, want the imported labelled tickets", len(lines))
	}
	var last time.Time
	for i, l := range lines {
		var row exportRow
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatalf("row %d: %v: %s", i, err, l)
		}
		if row.Text == "" || row.Label == "" || row.Source != "import" || row.CreatedAt.Before(last) {
			t.Fatalf("row %d: %+v", i, row)
		}
		last = row.CreatedAt
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--sources", "robots"}, {"--since", "2026-02-01", "--until", "2026-01-01"}} {
		if code := run(context.Background(), append(exportArgs, bad...), nil, io.Discard, io.Discard); code == 0 {
			t.Errorf("training export %v succeeded, want an error", bad)
		}
	}
}

type response struct {
	status int
	body   []byte
}

func do(t *testing.T, method, u, tok, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, b}
}

func token(t *testing.T, base, id, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", res.StatusCode, b)
	}
	mustJSON(t, b, &tok)
	return tok.AccessToken
}

func waitHTTP(t *testing.T, u string) {
	t.Helper()
	for i := 0; ; i++ {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if i > 200 {
			t.Fatalf("%s never became ready: %v", u, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func countTickets(t *testing.T, esURL, prefix string) int {
	t.Helper()
	c := mustClient(t, esURL, prefix)
	ctx := context.Background()
	var res struct {
		Count int `json:"count"`
	}
	if err := c.Refresh(ctx, c.Name("tickets")); err != nil {
		return 0 // no index yet
	}
	if err := c.Do(ctx, http.MethodGet, "/"+c.Name("tickets")+"/_count", nil, &res); err != nil {
		t.Fatal(err)
	}
	return res.Count
}

func mustClient(t *testing.T, esURL, prefix string) *es.Client {
	t.Helper()
	c, err := es.New(es.Config{URLs: []string{esURL}, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExampleConfigParses(t *testing.T) {
	fc, err := loadFileConfig(filepath.Join("..", "..", "deploy", "switchboard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Webhooks.Endpoints) != 3 || fc.HTTP.Addr == "" {
		t.Fatalf("example config parsed to %+v", fc)
	}
	if fc.ASR.Enabled == nil || fc.ASR.MaxConcurrent == 0 {
		t.Fatalf("example asr section parsed to %+v", fc.ASR)
	}
	if err := fc.ASR.apiConfig().Validate(); err != nil {
		t.Fatalf("example asr section: %v", err)
	}
	if n, err := notifiers(fc.AIOps.Alerts.Notify); err != nil || len(n) != 2 {
		t.Fatalf("example alert channels: %d, %v", len(n), err)
	}
	if n, err := notifiers(fc.AIOps.Alerts.Escalate); err != nil || len(n) != 1 {
		t.Fatalf("example escalation channels: %d, %v", len(n), err)
	}
	if m := fc.AIOps.Monitor; len(m.Holidays) != 2 || m.Holidays[1] != "2026-12-25" || m.HolidayAs != "Sunday" {
		t.Fatalf("example monitor section parsed to %+v", m)
	}
	if _, err := notifiers([]alertChannel{{Kind: "pager"}}); err == nil {
		t.Fatal("an unknown alert channel kind was accepted")
	}
	if fc.IVR.Flow == "" || fc.IVR.Session.TurnGrace != 500*time.Millisecond || len(fc.IVR.Agents.Seed) != 1 || fc.IVR.Systems["orders"].Timeout != 3*time.Second {
		t.Fatalf("example ivr section parsed to %+v", fc.IVR)
	}
	if _, err := loadFileConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing config file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("htttp:\n  addr: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFileConfig(bad); err == nil || !strings.Contains(err.Error(), "htttp") {
		t.Fatalf("a misspelt section was accepted or not named: %v", err)
	}
}
