package agents_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/agents"
)

var testConfig = agents.Config{
	Realm:      "switchboard.test",
	SeedGroups: []string{"sales"},
	Seed: []agents.AgentConfig{
		{ID: "seeded", Name: "Seeded", URI: "sip:seeded@127.0.0.1", Groups: []string{"sales"}, Password: "seed-secret", State: agents.Available},
	},
}

// esDir returns a loaded Directory on c (whose index it ensures).
func esDir(t *testing.T, c *es.Client, cfg agents.Config) *agents.Directory {
	t.Helper()
	d, err := agents.New(c, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ensure(t.Context(), slog.New(slog.DiscardHandler), d.Index()); err != nil {
		t.Fatal(err)
	}
	if err := d.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPersistence changes definitions and states, then starts a second
// Directory on the same store: definitions survive, states do not (except
// the seeded one), and no password is stored.
func TestPersistence(t *testing.T) {
	c := estest.Client(t)
	ctx := t.Context()
	d := esDir(t, c, testConfig)
	if _, err := d.Agent("seeded"); err != nil {
		t.Fatalf("seed agent: %v", err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.PutGroup(ctx, agents.Group{Name: "support", Description: "Second level"}))
	must(d.PutGroup(ctx, agents.Group{Name: "gone"}))
	_, err := d.PutAgent(ctx, agents.Agent{ID: "alice", Name: "Alice", URI: "sip:alice@pbx.example", Groups: []string{"support", "sales", "support"}}, "alice-secret")
	must(err)
	_, err = d.PutAgent(ctx, agents.Agent{ID: "bob", URI: "sip:bob@pbx.example", Groups: []string{"sales"}}, "")
	must(err)
	must(d.DeleteGroup(ctx, "gone"))
	_, err = d.SetState(ctx, "alice", agents.Available)
	must(err)
	// A rename keeps the password.
	_, err = d.PutAgent(ctx, agents.Agent{ID: "alice", Name: "Alice Liddell", URI: "sip:alice@pbx.example", Groups: []string{"support"}}, "")
	must(err)

	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"delete a group with members", d.DeleteGroup(ctx, "support"), agents.ErrInUse},
		{"delete an unknown group", d.DeleteGroup(ctx, "nope"), agents.ErrNotFound},
		{"agent in an unknown group", put(d, agents.Agent{ID: "carol", URI: "sip:carol@pbx.example", Groups: []string{"nope"}}), agents.ErrInvalid},
		{"agent with a tel: URI", put(d, agents.Agent{ID: "carol", URI: "tel:+4930123"}), agents.ErrInvalid},
		{"agent with a bad id", put(d, agents.Agent{ID: "carol smith", URI: "sip:carol@pbx.example"}), agents.ErrInvalid},
		{"delete an unknown agent", d.DeleteAgent(ctx, "nope"), agents.ErrNotFound},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}

	d2 := esDir(t, c, testConfig)
	if got, want := d2.Groups(), []agents.Group{{Name: "sales"}, {Name: "support", Description: "Second level"}}; !slices.Equal(got, want) {
		t.Errorf("groups after restart %v, want %v", got, want)
	}
	type view struct {
		id, name, groups string
		state            agents.State
		password         bool
	}
	var got []view
	for _, a := range d2.Agents("") {
		got = append(got, view{a.ID, a.Name, strings.Join(a.Groups, ","), a.State, a.HasPassword})
	}
	want := []view{
		{"alice", "Alice Liddell", "support", agents.Offline, true},
		{"bob", "", "sales", agents.Offline, false},
		{"seeded", "Seeded", "sales", agents.Available, true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("agents after restart\n got %v\nwant %v", got, want)
	}

	// The store holds HA1s, never passwords.
	must(c.Refresh(ctx, c.Name("agents")))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/"+c.Name("agents")+"/_search?size=100", nil)
	res, err := c.Raw().Perform(req)
	must(err)
	raw, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	for _, secret := range []string{"alice-secret", "seed-secret"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the store holds the password %q", secret)
		}
	}
	if ha1 := agents.HA1("alice", testConfig.Realm, "alice-secret"); !strings.Contains(string(raw), ha1) {
		t.Errorf("the store lacks alice's HA1 %s", ha1)
	}

	// A deleted agent stays deleted; a deleted seed comes back.
	must(d2.DeleteAgent(ctx, "bob"))
	must(d2.DeleteAgent(ctx, "seeded"))
	d3 := esDir(t, c, testConfig)
	var ids []string
	for _, a := range d3.Agents("") {
		ids = append(ids, a.ID)
	}
	if want := []string{"alice", "seeded"}; !slices.Equal(ids, want) {
		t.Errorf("agents after deletes and restart %v, want %v", ids, want)
	}
}

func put(d *agents.Directory, a agents.Agent) error {
	_, err := d.PutAgent(context.Background(), a, "")
	return err
}
