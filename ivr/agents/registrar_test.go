package agents_test

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/switchboard-cc/switchboard/ivr/agents"
)

// registrar serves d's ServeRegister from a sipgo server on a random UDP
// port of 127.0.0.1, as ivr/sip does, and returns a sipgo client and the
// server's port.
func registrar(t *testing.T, d *agents.Directory) (*sipgo.Client, int) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("registrar-test"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(d.ServeRegister)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.ServeUDP(conn) }()
	cua, err := sipgo.NewUA(sipgo.WithUserAgent("phone"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(cua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cua.Close()
		_ = ua.Close()
		_ = conn.Close()
		<-served
	})
	return client, conn.LocalAddr().(*net.UDPAddr).Port
}

// register builds a REGISTER for the AOR of user from a phone at contact
// ("" for none) with the Expires header expires ("" for none).
func register(port int, user, contact, expires string) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: port})
	aor := sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	if contact != "" {
		var u sip.Uri
		if err := sip.ParseUri(contact, &u); err != nil {
			panic(err)
		}
		req.AppendHeader(&sip.ContactHeader{Address: u, Params: sip.NewParams()})
	}
	if expires != "" {
		req.AppendHeader(sip.NewHeader("Expires", expires))
	}
	return req
}

// registerDigest sends req, answers the 401 with the credentials and
// returns the challenge and the final response.
func registerDigest(t *testing.T, client *sipgo.Client, req *sip.Request, username, password string) (*digest.Challenge, *sip.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := client.Do(ctx, req)
	if err != nil {
		t.Fatalf("REGISTER: %v", err)
	}
	if res.StatusCode != sip.StatusUnauthorized {
		t.Fatalf("REGISTER without credentials: %d, want 401", res.StatusCode)
	}
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatal("401 without WWW-Authenticate")
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatalf("challenge %q: %v", h.Value(), err)
	}
	if chal.Realm != "switchboard.test" || chal.Algorithm != "MD5" || !chal.SupportsQOP("auth") || chal.Nonce == "" {
		t.Errorf("challenge %q, want realm switchboard.test, MD5, qop=auth and a nonce", h.Value())
	}
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: username, Password: password})
	if err != nil {
		t.Fatalf("REGISTER with credentials: %v", err)
	}
	return chal, res
}

func registrarDir(t *testing.T) *agents.Directory {
	t.Helper()
	d, err := agents.New(nil, agents.Config{
		Realm:      "switchboard.test",
		SeedGroups: []string{"sales"},
		Seed: []agents.AgentConfig{
			{ID: "alice", URI: "sip:alice@pbx.example", Groups: []string{"sales"}, Password: "wonderland"},
			{ID: "bob", URI: "sip:bob@pbx.example", Groups: []string{"sales"}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRegister runs the digest flow with sipgo's client, one REGISTER
// after another on one registrar, checking the answer and the binding.
func TestRegister(t *testing.T) {
	d := registrarDir(t)
	client, port := registrar(t, d)
	tests := []struct {
		name                 string
		to, username, passwd string
		contact, expires     string
		code                 int
		// With 200: the binding the agent has afterwards, and the expiry
		// the answer's Contact states.
		wantContact string
		wantExpires int
	}{
		{name: "wrong password", to: "alice", username: "alice", passwd: "looking-glass", contact: "sip:alice@10.0.0.7:5062", code: 403},
		{name: "unknown agent", to: "mallory", username: "mallory", passwd: "x", contact: "sip:mallory@10.0.0.9", code: 403},
		{name: "agent without a password", to: "bob", username: "bob", passwd: "", contact: "sip:bob@10.0.0.8", code: 403},
		{name: "someone else's AOR", to: "alice", username: "bob", passwd: "", contact: "sip:bob@10.0.0.8", code: 403},
		{name: "register", to: "alice", username: "alice", passwd: "wonderland", contact: "sip:alice@10.0.0.7:5062;transport=udp", expires: "600", code: 200, wantContact: "sip:alice@10.0.0.7:5062;transport=udp", wantExpires: 600},
		{name: "query", to: "alice", username: "alice", passwd: "wonderland", code: 200, wantContact: "sip:alice@10.0.0.7:5062;transport=udp", wantExpires: 600},
		{name: "expiry is capped", to: "alice", username: "alice", passwd: "wonderland", contact: "sip:alice@10.0.0.7:5064", expires: "86400", code: 200, wantContact: "sip:alice@10.0.0.7:5064", wantExpires: agents.MaxExpires},
		{name: "default expiry", to: "alice", username: "alice", passwd: "wonderland", contact: "sip:alice@10.0.0.7:5066", code: 200, wantContact: "sip:alice@10.0.0.7:5066", wantExpires: agents.DefaultExpires},
		{name: "unregister", to: "alice", username: "alice", passwd: "wonderland", contact: "sip:alice@10.0.0.7:5066", expires: "0", code: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res := registerDigest(t, client, register(port, tt.to, tt.contact, tt.expires), tt.username, tt.passwd)
			if res.StatusCode != tt.code {
				t.Fatalf("answer %d %s, want %d", res.StatusCode, res.Reason, tt.code)
			}
			if tt.code != 200 {
				return
			}
			a, err := d.Agent(tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if a.Contact != tt.wantContact {
				t.Errorf("binding %q, want %q", a.Contact, tt.wantContact)
			}
			c := res.Contact()
			if tt.wantContact == "" {
				if c != nil || !a.Expires.IsZero() || a.Target() != a.URI {
					t.Errorf("after unregistering: answer's Contact %v, expires %v, target %s", c, a.Expires, a.Target())
				}
				return
			}
			if left := time.Until(a.Expires); left < time.Duration(tt.wantExpires-5)*time.Second || left > time.Duration(tt.wantExpires)*time.Second {
				t.Errorf("binding expires in %v, want %ds", left, tt.wantExpires)
			}
			if a.Target() != tt.wantContact {
				t.Errorf("Target() = %s, want the contact", a.Target())
			}
			if c == nil || c.Address.String() != tt.wantContact {
				t.Fatalf("answer's Contact %v, want %s", c, tt.wantContact)
			}
			e, _ := c.Params.Get("expires")
			if n, err := strconv.Atoi(e); err != nil || n < tt.wantExpires-2 || n > tt.wantExpires {
				t.Errorf("answer's Contact expires=%q, want about %d", e, tt.wantExpires)
			}
		})
	}
}

// TestRegisterStaleNonce: an answer to a challenge older than NonceTTL is
// challenged again with stale=true, and a nonce of another realm's
// registrar is not ours.
func TestRegisterStaleNonce(t *testing.T) {
	d := registrarDir(t)
	var skew atomic.Int64
	agents.SetClock(d, func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	client, port := registrar(t, d)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := register(port, "alice", "sip:alice@10.0.0.7", "60")
	res, err := client.Do(ctx, req)
	if err != nil || res.StatusCode != 401 {
		t.Fatalf("first REGISTER: %v %v", res, err)
	}
	skew.Store(int64(agents.NonceTTL + time.Minute))
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "wonderland"})
	if err != nil {
		t.Fatal(err)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if res.StatusCode != 401 || err != nil || !chal.Stale {
		t.Fatalf("answer to an old challenge: %d %v, want 401 with stale=true", res.StatusCode, res.GetHeader("WWW-Authenticate"))
	}
	// Answering the fresh challenge succeeds.
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "wonderland"})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("answer to the fresh challenge: %v %v, want 200", res, err)
	}

	// A nonce another registrar (same realm name, other key) issued.
	other := registrarDir(t)
	otherClient, otherPort := registrar(t, other)
	foreign, err := otherClient.Do(ctx, register(otherPort, "alice", "sip:alice@10.0.0.7", "60"))
	if err != nil || foreign.StatusCode != 401 {
		t.Fatalf("REGISTER to the other registrar: %v %v", foreign, err)
	}
	req = register(port, "alice", "sip:alice@10.0.0.7", "60")
	if res, err = client.Do(ctx, req); err != nil || res.StatusCode != 401 {
		t.Fatalf("REGISTER: %v %v", res, err)
	}
	res.ReplaceHeader(foreign.GetHeader("WWW-Authenticate"))
	res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: "wonderland"})
	if err != nil {
		t.Fatal(err)
	}
	chal, err = digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if res.StatusCode != 401 || err != nil || chal.Stale {
		t.Fatalf("answer with a foreign nonce: %d %v, want 401 without stale", res.StatusCode, res.GetHeader("WWW-Authenticate"))
	}
}
