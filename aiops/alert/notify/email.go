package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-cc/switchboard/aiops/alert"
)

// Email sends a plain-text mail per notification over SMTP with the
// standard library: STARTTLS when the server offers it (required unless
// AllowPlaintext), then PLAIN authentication when Username is set. Port
// 465 (implicit TLS) is not supported; use 587.
type Email struct {
	Label    string // default "email"
	Addr     string // host:port, e.g. smtp.example.com:587
	From     string
	To       []string
	Username string
	Password string
	// AllowPlaintext sends without STARTTLS when the server does not offer
	// it; for a relay on localhost or in tests only.
	AllowPlaintext bool
	// TLS overrides the STARTTLS configuration (default: verify Addr's host).
	TLS   *tls.Config
	Retry Retry
	Now   func() time.Time
}

// Name returns the channel's name.
func (e *Email) Name() string { return or(e.Label, "email") }

// Notify delivers n.
func (e *Email) Notify(ctx context.Context, n alert.Notification) error {
	if e.Addr == "" || e.From == "" || len(e.To) == 0 {
		return fmt.Errorf("notify %s: %w: Addr, From and To are required", e.Name(), alert.ErrInvalid)
	}
	msg := e.message(n)
	err := e.Retry.do(ctx, func(ctx context.Context) error { return e.send(ctx, msg) })
	if err != nil {
		return fmt.Errorf("notify %s: %w", e.Name(), err)
	}
	return nil
}

// message renders n as an RFC 5322 message.
func (e *Email) message(n alert.Notification) []byte {
	m := render(n)
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", e.From)
	h("To", strings.Join(e.To, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", m.title))
	h("Date", nowFn(e.Now).Format(time.RFC1123Z))
	h("Message-ID", "<"+uuid.NewString()+"@switchboard>")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	h("X-Switchboard-Alert", n.Alert.ID)
	b.WriteString("\r\n")
	for _, l := range append([]string{m.title, ""}, m.lines...) {
		// net/smtp's DATA writer dot-stuffs and turns "\n" into CRLF.
		b.WriteString(l + "\n")
	}
	return b.Bytes()
}

func (e *Email) send(ctx context.Context, msg []byte) error {
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return permanent{fmt.Errorf("bad address %q: %w", e.Addr, err)}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := e.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	} else if !e.AllowPlaintext {
		return permanent{errors.New("server does not offer STARTTLS")}
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			return permanent{fmt.Errorf("auth: %w", err)}
		}
	}
	if err := c.Mail(e.From); err != nil {
		return smtpErr(err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return smtpErr(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(err)
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return smtpErr(err)
	}
	return c.Quit()
}

// smtpErr makes 5xx replies permanent; 4xx are worth a retry.
func smtpErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent{err}
	}
	return err
}

var _ alert.Notifier = (*Email)(nil)
