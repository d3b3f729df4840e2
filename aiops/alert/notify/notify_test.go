package notify_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/aiops/alert/notify"
)

// receiver is a fake vendor endpoint (a third-party system, so faking it
// is the only option): it records each request and answers from a script,
// the last answer repeating.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []*http.Request
	bodies  [][]byte
	answers []answer
}

type answer struct {
	status int
	body   string
}

func newReceiver(t *testing.T, answers ...answer) *receiver {
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.bodies = append(r.bodies, b)
		a := r.answers[min(len(r.reqs), len(r.answers))-1]
		r.mu.Unlock()
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) json(t *testing.T, i int) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.bodies[i], &v); err != nil {
		t.Fatalf("body %q: %v", r.bodies[i], err)
	}
	return v
}

var (
	t0    = time.Unix(1764000000, 0)
	fast  = notify.Retry{Attempts: 3, Backoff: time.Millisecond, Timeout: 2 * time.Second}
	fixed = func() time.Time { return t0 }
	note  = alert.Notification{Kind: alert.KindFiring, Alert: alert.Alert{
		ID: "a1", Key: "anomaly:calls:billing", Source: alert.SourceAnomaly, Severity: alert.SeverityCritical,
		Title: "Call volume spike in billing", Summary: "Calls are 2.4× the forecast.", State: alert.StateFiring,
		FirstAt: t0, LastAt: t0, Count: 1,
		Evidence: &alert.Evidence{Metric: "calls_per_minute", Expected: 40, Observed: 95,
			Dimensions: map[string]string{"skill_group": "billing"},
			Candidates: []alert.Candidate{{Dimension: "trunk", Value: "carrier-b", Before: 3, After: 60}}},
	}}
)

// get reads a path of nested objects and arrays ("card.header.title.content",
// "blocks.0.type").
func get(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestPayloads(t *testing.T) {
	const dingOK, feishuOK = `{"errcode":0,"errmsg":"ok"}`, `{"code":0,"msg":"success","data":{}}`
	tests := []struct {
		name   string
		answer answer
		make   func(url string) alert.Notifier
		want   map[string]string // JSON path → value (substring for text fields marked with ~)
	}{
		{"slack", answer{200, "ok"}, func(u string) alert.Notifier { return &notify.Slack{URL: u, Retry: fast} }, map[string]string{
			"text~":         "[CRITICAL] Call volume spike in billing",
			"blocks.0.type": "header", "blocks.0.text.type": "plain_text", "blocks.0.text.text": "[CRITICAL] Call volume spike in billing",
			"blocks.1.type": "section", "blocks.1.text.type": "mrkdwn", "blocks.1.text.text~": "trunk=carrier-b: 3 → 60",
		}},
		{"dingtalk", answer{200, dingOK}, func(u string) alert.Notifier {
			return &notify.DingTalk{URL: u + "/robot/send?access_token=tok", Retry: fast}
		}, map[string]string{
			"msgtype": "markdown", "markdown.title": "[CRITICAL] Call volume spike in billing",
			"markdown.text~": "**[CRITICAL] Call volume spike in billing**",
		}},
		{"feishu text", answer{200, feishuOK}, func(u string) alert.Notifier { return &notify.Feishu{URL: u, Retry: fast} }, map[string]string{
			"msg_type": "text", "content.text~": "calls_per_minute: observed 95, expected 40",
		}},
		{"feishu card", answer{200, feishuOK}, func(u string) alert.Notifier { return &notify.Feishu{URL: u, Card: true, Retry: fast} }, map[string]string{
			"msg_type": "interactive", "card.header.title.tag": "plain_text", "card.header.title.content": "[CRITICAL] Call volume spike in billing",
			"card.header.template": "red", "card.elements.0.tag": "div", "card.elements.0.text.tag": "lark_md",
			"card.elements.0.text.content~": "skill_group=billing",
		}},
		{"wecom", answer{200, dingOK}, func(u string) alert.Notifier { return &notify.WeCom{URL: u, Retry: fast} }, map[string]string{
			"msgtype": "markdown", "markdown.content~": "Calls are 2.4× the forecast.",
		}},
		{"webhook", answer{204, ""}, func(u string) alert.Notifier { return &notify.Webhook{URL: u, Retry: fast} }, map[string]string{
			"kind": "firing", "alert.id": "a1", "alert.evidence.dimensions.skill_group": "billing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, tt.answer)
			if err := tt.make(r.URL).Notify(context.Background(), note); err != nil {
				t.Fatal(err)
			}
			if len(r.reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(r.reqs))
			}
			if ct := r.reqs[0].Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			body := r.json(t, 0)
			for path, want := range tt.want {
				p, contains := strings.CutSuffix(path, "~")
				got, _ := get(body, p).(string)
				if (contains && !strings.Contains(got, want)) || (!contains && got != want) {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
		})
	}
}

// TestDingTalkSign: the robot's 加签 check. The expected value was computed
// independently in Python, following DingTalk's documented algorithm
// (hmac.new(secret, f"{timestamp}\n{secret}", sha256), base64, URL-encoded).
func TestDingTalkSign(t *testing.T) {
	const secret = "SECtestsecret"
	if got := notify.DingTalkSign(secret, 1764000000000); got != "Ikwhl+9KZbb7d82EdfNBT7LY4qG4czyKQ3KLRmCJKxI=" {
		t.Fatalf("sign = %s", got)
	}
	r := newReceiver(t, answer{200, `{"errcode":0,"errmsg":"ok"}`})
	d := &notify.DingTalk{URL: r.URL + "/robot/send?access_token=tok", Secret: secret, Retry: fast, Now: fixed}
	if err := d.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	raw := r.reqs[0].URL.RawQuery
	if !strings.Contains(raw, "sign=Ikwhl%2B9KZbb7d82EdfNBT7LY4qG4czyKQ3KLRmCJKxI%3D") {
		t.Errorf("query %s lacks the URL-encoded sign", raw)
	}
	q, _ := url.ParseQuery(raw)
	if q.Get("access_token") != "tok" || q.Get("timestamp") != "1764000000000" {
		t.Errorf("query %v", q)
	}
}

// TestFeishuSign: Feishu's algorithm keys the HMAC with timestamp + "\n" +
// secret over an empty message; the value was computed in Python.
func TestFeishuSign(t *testing.T) {
	r := newReceiver(t, answer{200, `{"code":0,"msg":"success"}`})
	f := &notify.Feishu{URL: r.URL, Secret: "SECtestsecret", Retry: fast, Now: fixed}
	if err := f.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	body := r.json(t, 0)
	if body["timestamp"] != "1764000000" || body["sign"] != "FLxtaO7fdjZyKS01e316oSHclBiiAOJBznRJICXBxDw=" {
		t.Errorf("timestamp %v sign %v", body["timestamp"], body["sign"])
	}
}

func TestWebhookSignature(t *testing.T) {
	r := newReceiver(t, answer{200, ""})
	w := &notify.Webhook{URL: r.URL, Secret: "s3cret", Retry: fast, Now: fixed}
	if err := w.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	h := r.reqs[0].Header
	m := hmac.New(sha256.New, []byte("s3cret"))
	io.WriteString(m, "1764000000.")
	m.Write(r.bodies[0])
	if got, want := h.Get(notify.HeaderSignature), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if h.Get(notify.HeaderTimestamp) != "1764000000" || h.Get(notify.HeaderEvent) != "alert.firing" {
		t.Errorf("headers %v", h)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		wantReqs int
		wantErr  string
	}{
		{"5xx then ok", []answer{{503, "busy"}, {200, `{"errcode":0}`}}, 2, ""},
		{"rate limited in a 200", []answer{{200, `{"errcode":130101,"errmsg":"send too fast"}`}, {200, `{"errcode":0}`}}, 2, ""},
		{"4xx is final", []answer{{400, "bad"}}, 1, "HTTP 400"},
		{"bad token is final", []answer{{200, `{"errcode":300001,"errmsg":"token is not exist"}`}}, 1, "errcode 300001"},
		{"gives up after 3", []answer{{500, "down"}}, 3, "after 3 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, tt.answers...)
			err := (&notify.DingTalk{URL: r.URL, Retry: fast}).Notify(context.Background(), note)
			if len(r.reqs) != tt.wantReqs {
				t.Errorf("%d requests, want %d", len(r.reqs), tt.wantReqs)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	start := time.Now()
	err := (&notify.Slack{URL: srv.URL, Retry: notify.Retry{Attempts: 2, Backoff: time.Millisecond, Timeout: 50 * time.Millisecond}}).Notify(context.Background(), note)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v, want a timeout error soon", err, time.Since(start))
	}
}

// smtpServer is a minimal SMTP receiver: enough of RFC 5321 for net/smtp
// (EHLO without STARTTLS, MAIL, RCPT, DATA, QUIT). It records the last
// message.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	from string
	to   []string
	data string
}

func newSMTP(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// addr is the <address> of a MAIL or RCPT command, without parameters.
func addr(line string) string {
	_, a, _ := strings.Cut(line, "<")
	a, _, _ = strings.Cut(a, ">")
	return a
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { io.WriteString(c, l+"\r\n") }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			s.mu.Lock()
			s.from, s.to = addr(line), nil
			s.mu.Unlock()
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			s.mu.Lock()
			s.to = append(s.to, addr(line))
			s.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			s.mu.Lock()
			s.data = b.String()
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func TestEmail(t *testing.T) {
	s := newSMTP(t)
	e := &notify.Email{Addr: s.addr, From: "switchboard@example.com", To: []string{"ops@example.com", "lead@example.com"}, Retry: fast, Now: fixed}
	// Without STARTTLS on offer, sending in plaintext must be opted into.
	if err := e.Notify(context.Background(), note); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("plaintext without opt-in: %v", err)
	}
	e.AllowPlaintext = true
	if err := e.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.from != "switchboard@example.com" || strings.Join(s.to, ",") != "ops@example.com,lead@example.com" {
		t.Errorf("envelope %s → %v", s.from, s.to)
	}
	for _, want := range []string{"Subject: [CRITICAL] Call volume spike in billing\r\n", "To: ops@example.com, lead@example.com\r\n",
		"X-Switchboard-Alert: a1\r\n", "\r\n\r\n[CRITICAL] Call volume spike in billing\r\n", "trunk=carrier-b: 3 → 60\r\n"} {
		if !strings.Contains(s.data, want) {
			t.Errorf("message lacks %q:\n%s", want, s.data)
		}
	}
}
