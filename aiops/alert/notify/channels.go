package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard-cc/switchboard/aiops/alert"
)

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nowFn(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

func fixed(u string, v any) func() (string, []byte, error) {
	return func() (string, []byte, error) {
		b, err := json.Marshal(v)
		return u, b, err
	}
}

// Webhook headers.
const (
	HeaderEvent     = "X-Switchboard-Event"
	HeaderTimestamp = "X-Switchboard-Timestamp"
	HeaderSignature = "X-Switchboard-Signature"
)

// Webhook posts the notification as JSON ({"kind": ..., "alert": {...}}) to
// any endpoint. With a Secret each request carries X-Switchboard-Timestamp
// and X-Switchboard-Signature: "sha256=" + hex HMAC-SHA256(secret,
// timestamp + "." + body), the scheme of the tickets webhooks, so receivers
// verify both the same way.
type Webhook struct {
	Label  string // Name; default "webhook"
	URL    string
	Secret string
	Client *http.Client
	Retry  Retry
	Now    func() time.Time
}

// Name returns the channel's name.
func (w *Webhook) Name() string { return or(w.Label, "webhook") }

// Notify delivers n.
func (w *Webhook) Notify(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("notify %s: %w", w.Name(), err)
	}
	hdr := http.Header{HeaderEvent: {"alert." + string(n.Kind)}}
	target := func() (string, []byte, error) { return w.URL, body, nil }
	if w.Secret != "" {
		target = func() (string, []byte, error) {
			ts := nowFn(w.Now).Unix()
			m := hmac.New(sha256.New, []byte(w.Secret))
			fmt.Fprintf(m, "%d.", ts)
			m.Write(body)
			hdr.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
			hdr.Set(HeaderSignature, "sha256="+hex.EncodeToString(m.Sum(nil)))
			return w.URL, body, nil
		}
	}
	if err := newPoster(w.Client, w.Retry).post(ctx, target, hdr, nil); err != nil {
		return fmt.Errorf("notify %s: %w", w.Name(), err)
	}
	return nil
}

// Slack posts to a Slack incoming webhook: "text" as the notification
// fallback and Block Kit "blocks" (a header and a section) for display.
// Slack answers 200 "ok", and 4xx with a reason such as
// "invalid_payload".
type Slack struct {
	Label  string // default "slack"
	URL    string
	Client *http.Client
	Retry  Retry
}

// Name returns the channel's name.
func (s *Slack) Name() string { return or(s.Label, "slack") }

// SlackPayload is the body Slack receives.
func SlackPayload(n alert.Notification) map[string]any {
	m := render(n)
	title := m.title
	if r := []rune(title); len(r) > 150 { // header blocks take at most 150 characters
		title = string(r[:149]) + "…"
	}
	var body string
	for i, l := range m.lines {
		if i > 0 {
			body += "\n"
		}
		body += l
	}
	return map[string]any{
		"text": m.text(),
		"blocks": []any{
			map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": title}},
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": body}},
		},
	}
}

// Notify delivers n.
func (s *Slack) Notify(ctx context.Context, n alert.Notification) error {
	if err := newPoster(s.Client, s.Retry).post(ctx, fixed(s.URL, SlackPayload(n)), nil, nil); err != nil {
		return fmt.Errorf("notify %s: %w", s.Name(), err)
	}
	return nil
}

// DingTalk posts a markdown message to a DingTalk custom robot
// (https://oapi.dingtalk.com/robot/send?access_token=…). With a Secret
// ("SEC…", the robot's 加签 setting) each request adds the query
// parameters timestamp (Unix milliseconds) and sign: base64 HMAC-SHA256
// keyed by the secret over timestamp + "\n" + secret, URL-encoded.
type DingTalk struct {
	Label  string // default "dingtalk"
	URL    string
	Secret string
	Client *http.Client
	Retry  Retry
	Now    func() time.Time
}

// Name returns the channel's name.
func (d *DingTalk) Name() string { return or(d.Label, "dingtalk") }

// DingTalkSign returns the sign parameter for timestamp ts (milliseconds).
func DingTalkSign(secret string, ts int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// DingTalkPayload is the body DingTalk receives.
func DingTalkPayload(n alert.Notification) map[string]any {
	m := render(n)
	return map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": m.title, "text": m.markdown()}}
}

// Notify delivers n.
func (d *DingTalk) Notify(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(DingTalkPayload(n))
	if err != nil {
		return fmt.Errorf("notify %s: %w", d.Name(), err)
	}
	target := func() (string, []byte, error) {
		if d.Secret == "" {
			return d.URL, body, nil
		}
		u, err := url.Parse(d.URL)
		if err != nil {
			return "", nil, fmt.Errorf("bad URL: %w", err)
		}
		ts := nowFn(d.Now).UnixMilli()
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", DingTalkSign(d.Secret, ts))
		u.RawQuery = q.Encode()
		return u.String(), body, nil
	}
	// 130101: sending too fast (20 messages a minute per robot).
	if err := newPoster(d.Client, d.Retry).post(ctx, target, nil, errcode(130101)); err != nil {
		return fmt.Errorf("notify %s: %w", d.Name(), err)
	}
	return nil
}

// Feishu posts to a Feishu or Lark custom bot
// (https://open.feishu.cn/open-apis/bot/v2/hook/…): msg_type "text" or,
// with Card, "interactive" with a coloured header and a lark_md body. With
// a Secret the body adds "timestamp" (Unix seconds, as a string) and
// "sign": base64 HMAC-SHA256 keyed by timestamp + "\n" + secret over an
// empty message (Feishu's algorithm differs from DingTalk's here).
type Feishu struct {
	Label  string // default "feishu"
	URL    string
	Secret string
	Card   bool
	Client *http.Client
	Retry  Retry
	Now    func() time.Time
}

// Name returns the channel's name.
func (f *Feishu) Name() string { return or(f.Label, "feishu") }

// FeishuSign returns the sign field for timestamp ts (seconds).
func FeishuSign(secret string, ts int64) string {
	m := hmac.New(sha256.New, []byte(strconv.FormatInt(ts, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// FeishuPayload is the body Feishu receives, before signing.
func FeishuPayload(n alert.Notification, card bool) map[string]any {
	m := render(n)
	if !card {
		return map[string]any{"msg_type": "text", "content": map[string]any{"text": m.text()}}
	}
	color := map[alert.Severity]string{alert.SeverityCritical: "red", alert.SeverityWarning: "orange"}[n.Alert.Severity]
	if n.Kind == alert.KindResolved {
		color = "green"
	}
	var body string
	for i, l := range m.lines {
		if i > 0 {
			body += "\n"
		}
		body += l
	}
	return map[string]any{
		"msg_type": "interactive",
		"card": map[string]any{
			"header":   map[string]any{"title": map[string]any{"tag": "plain_text", "content": m.title}, "template": or(color, "blue")},
			"elements": []any{map[string]any{"tag": "div", "text": map[string]any{"tag": "lark_md", "content": body}}},
		},
	}
}

// Notify delivers n.
func (f *Feishu) Notify(ctx context.Context, n alert.Notification) error {
	payload := FeishuPayload(n, f.Card)
	target := func() (string, []byte, error) {
		if f.Secret != "" {
			ts := nowFn(f.Now).Unix()
			payload["timestamp"] = strconv.FormatInt(ts, 10)
			payload["sign"] = FeishuSign(f.Secret, ts)
		}
		b, err := json.Marshal(payload)
		return f.URL, b, err
	}
	if err := newPoster(f.Client, f.Retry).post(ctx, target, nil, feishuCheck); err != nil {
		return fmt.Errorf("notify %s: %w", f.Name(), err)
	}
	return nil
}

// feishuCheck reads {"code": 0, "msg": "success"}; older deployments
// answer {"StatusCode": 0, "StatusMessage": "success"}. 11232 is the rate
// limit.
func feishuCheck(body []byte) error {
	var r struct {
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
		StatusMsg  string `json:"StatusMessage"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return permanent{fmt.Errorf("unexpected answer: %s", snippet(body))}
	}
	code, msg := r.Code, r.Msg
	if code == nil {
		code, msg = r.StatusCode, r.StatusMsg
	}
	switch {
	case code == nil:
		return permanent{fmt.Errorf("unexpected answer: %s", snippet(body))}
	case *code == 0:
		return nil
	case *code == 11232:
		return fmt.Errorf("code %d: %s", *code, msg)
	}
	return permanent{fmt.Errorf("code %d: %s", *code, msg)}
}

// WeCom posts a markdown message to a WeCom (企业微信) group robot
// (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…). WeCom robots
// have no signing; the key in the URL is the credential.
type WeCom struct {
	Label  string // default "wecom"
	URL    string
	Client *http.Client
	Retry  Retry
}

// Name returns the channel's name.
func (w *WeCom) Name() string { return or(w.Label, "wecom") }

// WeComPayload is the body WeCom receives.
func WeComPayload(n alert.Notification) map[string]any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": render(n).markdown()}}
}

// Notify delivers n.
func (w *WeCom) Notify(ctx context.Context, n alert.Notification) error {
	// 45009: API frequency limit (20 messages a minute per robot).
	if err := newPoster(w.Client, w.Retry).post(ctx, fixed(w.URL, WeComPayload(n)), nil, errcode(45009)); err != nil {
		return fmt.Errorf("notify %s: %w", w.Name(), err)
	}
	return nil
}

var (
	_ alert.Notifier = (*Webhook)(nil)
	_ alert.Notifier = (*Slack)(nil)
	_ alert.Notifier = (*DingTalk)(nil)
	_ alert.Notifier = (*Feishu)(nil)
	_ alert.Notifier = (*WeCom)(nil)
)
