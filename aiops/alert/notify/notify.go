// Package notify delivers alert notifications to chat and e-mail channels:
// a generic signed JSON webhook, Slack, DingTalk, Feishu/Lark and WeCom
// incoming webhooks, and SMTP e-mail. Each is an alert.Notifier with a
// per-attempt timeout and retries with exponential backoff for failures
// that may pass (network errors, 5xx, 429).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
)

// Retry is the delivery policy shared by the channels.
type Retry struct {
	// Attempts is the number of tries in all; default 3.
	Attempts int
	// Backoff is the wait before the second try, doubled before each
	// further one; default 1 s.
	Backoff time.Duration
	// Timeout bounds each try; default 10 s.
	Timeout time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 3
	}
	if r.Backoff <= 0 {
		r.Backoff = time.Second
	}
	if r.Timeout <= 0 {
		r.Timeout = 10 * time.Second
	}
	return r
}

// permanent marks an error retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// do runs try up to r.Attempts times, waiting between tries, until it
// succeeds, fails permanently or ctx ends.
func (r Retry) do(ctx context.Context, try func(ctx context.Context) error) error {
	r = r.withDefaults()
	wait := r.Backoff
	var err error
	for i := range r.Attempts {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(err, ctx.Err())
			case <-t.C:
			}
			wait *= 2
		}
		tctx, cancel := context.WithTimeout(ctx, r.Timeout)
		err = try(tctx)
		cancel()
		var p permanent
		if err == nil || errors.As(err, &p) {
			return err
		}
	}
	return fmt.Errorf("after %d attempts: %w", r.Attempts, err)
}

// poster sends JSON bodies over HTTP with a Retry policy.
type poster struct {
	client *http.Client
	retry  Retry
}

func newPoster(c *http.Client, r Retry) poster {
	if c == nil {
		c = http.DefaultClient
	}
	return poster{client: c, retry: r}
}

// post sends body to the URL target() returns (asked per attempt, since
// signatures carry a timestamp) and hands a 2xx answer to check, which
// reports vendor errors carried in a 200.
func (p poster) post(ctx context.Context, target func() (string, []byte, error), header http.Header, check func(body []byte) error) error {
	return p.retry.do(ctx, func(ctx context.Context) error {
		u, body, err := target()
		if err != nil {
			return permanent{err}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return permanent{err}
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		res, err := p.client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // keep secrets in the URL out of history and logs
			}
			return err
		}
		defer res.Body.Close()
		resp, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		switch {
		case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
			return fmt.Errorf("HTTP %d: %s", res.StatusCode, snippet(resp))
		case res.StatusCode >= 300:
			return permanent{fmt.Errorf("HTTP %d: %s", res.StatusCode, snippet(resp))}
		}
		if check != nil {
			return check(resp)
		}
		return nil
	})
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// errcode checks the {"errcode": 0, "errmsg": "ok"} answer of DingTalk and
// WeCom. Their rate limits (DingTalk 130101, WeCom 45009) are worth a
// retry; other codes (bad token, bad signature, keyword filter) are not.
func errcode(retryable ...int) func([]byte) error {
	return func(body []byte) error {
		var r struct {
			Code *int   `json:"errcode"`
			Msg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.Code == nil {
			return permanent{fmt.Errorf("unexpected answer: %s", snippet(body))}
		}
		if *r.Code == 0 {
			return nil
		}
		err := fmt.Errorf("errcode %d: %s", *r.Code, r.Msg)
		for _, c := range retryable {
			if *r.Code == c {
				return err
			}
		}
		return permanent{err}
	}
}

// message is the text of a notification, rendered once for every channel.
type message struct {
	title string // one line
	lines []string
}

func render(n alert.Notification) message {
	a := n.Alert
	prefix := map[alert.Kind]string{
		alert.KindFiring:     "[" + strings.ToUpper(string(a.Severity)) + "]",
		alert.KindEscalation: "[ESCALATED " + strings.ToUpper(string(a.Severity)) + "]",
		alert.KindResolved:   "[RESOLVED]",
	}[n.Kind]
	m := message{title: strings.TrimSpace(prefix + " " + a.Title)}
	if a.Summary != "" {
		m.lines = append(m.lines, a.Summary)
	}
	if ev := a.Evidence; ev != nil {
		metric := ev.Metric
		if metric == "" {
			metric = "value"
		}
		m.lines = append(m.lines, fmt.Sprintf("%s: observed %g, expected %g", metric, ev.Observed, ev.Expected))
		if len(ev.Dimensions) > 0 {
			keys := make([]string, 0, len(ev.Dimensions))
			for k := range ev.Dimensions {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + ev.Dimensions[k]
			}
			m.lines = append(m.lines, "dimensions: "+strings.Join(parts, ", "))
		}
		for i, c := range ev.Candidates {
			if i == 3 {
				break
			}
			m.lines = append(m.lines, fmt.Sprintf("cause? %s=%s: %d → %d", c.Dimension, c.Value, c.Before, c.After))
		}
	}
	m.lines = append(m.lines, fmt.Sprintf("source %s · key %s · id %s · count %d · since %s",
		a.Source, a.Key, a.ID, a.Count, a.FirstAt.UTC().Format(time.RFC3339)))
	return m
}

// text is the message as plain text.
func (m message) text() string { return m.title + "\n" + strings.Join(m.lines, "\n") }

// markdown is the message as the Markdown subset chat apps share: a bold
// title and one paragraph per line.
func (m message) markdown() string {
	var b strings.Builder
	b.WriteString("**" + m.title + "**\n\n")
	for _, l := range m.lines {
		b.WriteString(l + "\n\n")
	}
	return strings.TrimSuffix(b.String(), "\n\n")
}
