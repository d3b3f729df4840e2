package agents

import (
	"context"
	"crypto/md5" //nolint:gosec // SIP digest (RFC 2617/3261) is defined on MD5; phones speak nothing else
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-cc/switchboard/es"
)

// Errors callers branch on. The HTTP API maps them to statuses.
var (
	// ErrInvalid marks a definition or request that is malformed: a bad
	// id, SIP URI or state, or a group that does not exist.
	ErrInvalid = errors.New("agents: invalid")
	// ErrNotFound means no such agent or group.
	ErrNotFound = errors.New("agents: not found")
	// ErrInUse means a group still has members or waiting callers and
	// cannot be deleted.
	ErrInUse = errors.New("agents: in use")
	// ErrNoAgent means no agent of the group became available within the
	// maximum wait; the caller falls back to a callback ticket.
	ErrNoAgent = errors.New("agents: no agent available")
)

// State is an agent's availability.
type State string

// The states. Only an Available agent is offered calls.
const (
	Offline   State = "offline"
	Available State = "available"
	Busy      State = "busy"
)

// Valid reports whether s is one of the states.
func (s State) Valid() bool { return s == Offline || s == Available || s == Busy }

// ParseState reads a state by its name.
func ParseState(s string) (State, error) {
	st := State(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("%w: unknown state %q (want available, busy or offline)", ErrInvalid, s)
	}
	return st, nil
}

// Agent is a human agent and its SIP phone.
type Agent struct {
	// ID is the agent's id and its SIP digest username.
	ID   string `json:"id"`
	Name string `json:"name"`
	// URI is where a call is transferred to (sip: or sips:), unless the
	// phone has registered a Contact.
	URI    string   `json:"uri"`
	Groups []string `json:"groups"`
	// State and Since (when it was entered) are volatile: see the package
	// doc.
	State State     `json:"state"`
	Since time.Time `json:"since"`
	// Contact is the phone's current address from its last REGISTER, and
	// Expires when that registration lapses; empty when not registered.
	Contact string    `json:"contact,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	// HasPassword says whether the agent may register (a digest HA1 is
	// stored).
	HasPassword bool `json:"has_password"`
}

// Target is the URI to transfer a call to: the registered Contact while
// the registration lasts, the configured URI otherwise.
func (a Agent) Target() string {
	if a.Contact != "" {
		return a.Contact
	}
	return a.URI
}

// Group is a skill group.
type Group struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// AgentConfig is an agent defined in the configuration file.
type AgentConfig struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	URI      string   `yaml:"uri"`
	Groups   []string `yaml:"groups"`
	Password string   `yaml:"password"`
	// State "available" makes the agent available at every start; empty
	// or "offline" leaves it offline until it says otherwise.
	State State `yaml:"state"`
}

// Config configures a Directory.
type Config struct {
	// Realm is the SIP digest realm. HA1s are computed in it, so changing
	// it invalidates every stored password.
	Realm string
	// Seed are agents created at Load when absent from the store (so the
	// API's later changes win); their State applies at every start.
	Seed []AgentConfig
	// SeedGroups are groups created at Load when absent.
	SeedGroups []string
}

// Validate checks c without contacting anything.
func (c Config) Validate() error {
	var errs []error
	if c.Realm == "" || strings.ContainsAny(c.Realm, "\"\\\r\n") {
		errs = append(errs, errors.New("agents: realm must be non-empty without quotes, backslashes or line breaks"))
	}
	for _, g := range c.SeedGroups {
		if err := validName("group", g); err != nil {
			errs = append(errs, err)
		}
	}
	for _, a := range c.Seed {
		if err := validateAgent(Agent{ID: a.ID, URI: a.URI, Groups: a.Groups}); err != nil {
			errs = append(errs, fmt.Errorf("agents: seed %q: %w", a.ID, err))
		}
		if a.State != "" && a.State != Available && a.State != Offline {
			errs = append(errs, fmt.Errorf("agents: seed %q: state must be available or offline, not %q", a.ID, a.State))
		}
	}
	return errors.Join(errs...)
}

// record is an agent as the directory holds it.
type record struct {
	Agent
	ha1 string
	// lease identifies the Acquire that made the agent busy; release
	// only frees the agent while its lease is current, so a late or
	// repeated release cannot free an agent that moved on.
	lease uint64
}

// Directory holds the groups and agents, routes callers to agents and
// registers the agents' phones. It is safe for concurrent use.
type Directory struct {
	c     *es.Client
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	nonce nonceKey

	// wmu serialises changes so that the order of writes to
	// Elasticsearch is the order they are applied in memory.
	wmu sync.Mutex

	mu     sync.Mutex
	groups map[string]Group
	agents map[string]*record
	queues map[string][]*waiter
	seq    uint64 // waiter arrival order and lease ids
}

// New returns an empty Directory; Load fills it. A nil client keeps the
// definitions in memory only (tools and tests that need no store).
func New(c *es.Client, cfg Config, log *slog.Logger) (*Directory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Directory{
		c: c, cfg: cfg, log: log, now: time.Now,
		groups: map[string]Group{}, agents: map[string]*record{}, queues: map[string][]*waiter{},
	}
	if _, err := rand.Read(d.nonce[:]); err != nil {
		return nil, fmt.Errorf("agents: nonce key: %w", err)
	}
	return d, nil
}

// Realm is the SIP digest realm.
func (d *Directory) Realm() string { return d.cfg.Realm }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validName checks an agent id or group name: it is a SIP user part and a
// URL path segment, so it keeps to unreserved characters.
func validName(what, s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("%w: %s %q must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, what, s)
	}
	return nil
}

// validURI checks a transfer target.
func validURI(s string) error {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || (u.Scheme != "sip" && u.Scheme != "sips") || u.Host == "" || u.Wildcard {
		return fmt.Errorf("%w: %q is not a sip: or sips: URI with a host", ErrInvalid, s)
	}
	return nil
}

func validateAgent(a Agent) error {
	var errs []error
	if err := validName("agent id", a.ID); err != nil {
		errs = append(errs, err)
	}
	if err := validURI(a.URI); err != nil {
		errs = append(errs, err)
	}
	for _, g := range a.Groups {
		if err := validName("group", g); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HA1 is the digest secret stored for an agent: md5(id:realm:password).
func HA1(id, realm, password string) string {
	sum := md5.Sum([]byte(id + ":" + realm + ":" + password)) //nolint:gosec // see import
	return hex.EncodeToString(sum[:])
}

// Load reads the definitions from the store, creates the seeds that are
// missing, and seeds the configured states. Call it once, after
// es.Client.Ensure(Index()) and before serving.
func (d *Directory) Load(ctx context.Context) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	groups, agents, err := d.loadDocs(ctx)
	if err != nil {
		return err
	}
	for _, name := range d.cfg.SeedGroups {
		if _, ok := groups[name]; ok {
			continue
		}
		g := Group{Name: name}
		if err := d.writeGroup(ctx, g); err != nil {
			return err
		}
		groups[name] = g
	}
	for _, s := range d.cfg.Seed {
		if _, ok := agents[s.ID]; ok {
			continue
		}
		for _, g := range s.Groups {
			if _, ok := groups[g]; !ok {
				return fmt.Errorf("agents: seed %q: %w: group %q is not defined (add it to the seed groups)", s.ID, ErrInvalid, g)
			}
		}
		r := &record{Agent: Agent{ID: s.ID, Name: s.Name, URI: s.URI, Groups: slices.Clone(s.Groups)}}
		if s.Password != "" {
			r.ha1 = HA1(s.ID, d.cfg.Realm, s.Password)
		}
		if err := d.writeAgent(ctx, r); err != nil {
			return err
		}
		agents[s.ID] = r
	}
	now := d.now()
	for _, r := range agents {
		r.State, r.Since = Offline, now
		r.HasPassword = r.ha1 != ""
	}
	for _, s := range d.cfg.Seed {
		if r := agents[s.ID]; r != nil && s.State == Available {
			r.State = Available
		}
	}
	d.mu.Lock()
	d.groups, d.agents = groups, agents
	d.mu.Unlock()
	d.log.InfoContext(ctx, "agents loaded", "groups", len(groups), "agents", len(agents))
	return nil
}

// PutGroup creates or updates a group.
func (d *Directory) PutGroup(ctx context.Context, g Group) error {
	if err := validName("group", g.Name); err != nil {
		return err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.writeGroup(ctx, g); err != nil {
		return err
	}
	d.mu.Lock()
	d.groups[g.Name] = g
	d.mu.Unlock()
	return nil
}

// DeleteGroup deletes a group that has no members and no waiting callers.
func (d *Directory) DeleteGroup(ctx context.Context, name string) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.Lock()
	_, ok := d.groups[name]
	var members []string
	for _, r := range d.agents {
		if slices.Contains(r.Groups, name) {
			members = append(members, r.ID)
		}
	}
	queued := len(d.queues[name])
	d.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("%w: group %q", ErrNotFound, name)
	case len(members) > 0:
		slices.Sort(members)
		return fmt.Errorf("%w: group %q has agents %s", ErrInUse, name, strings.Join(members, ", "))
	case queued > 0:
		return fmt.Errorf("%w: group %q has %d callers waiting", ErrInUse, name, queued)
	}
	if err := d.deleteDoc(ctx, groupDocID(name)); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.groups, name)
	d.mu.Unlock()
	return nil
}

// Groups returns every group, by name.
func (d *Directory) Groups() []Group {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Collect(maps.Values(d.groups))
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PutAgent creates or updates an agent's definition (id, name, URI,
// groups); its state and registration are kept. A non-empty password sets
// the digest secret; an empty one keeps the stored one (a new agent
// without one cannot register). A new agent starts offline.
func (d *Directory) PutAgent(ctx context.Context, a Agent, password string) (Agent, error) {
	if err := validateAgent(a); err != nil {
		return Agent{}, err
	}
	a.Groups = slices.Compact(slices.Sorted(slices.Values(a.Groups)))
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.Lock()
	for _, g := range a.Groups {
		if _, ok := d.groups[g]; !ok {
			d.mu.Unlock()
			return Agent{}, fmt.Errorf("%w: group %q does not exist", ErrInvalid, g)
		}
	}
	nr := &record{Agent: Agent{ID: a.ID, Name: a.Name, URI: a.URI, Groups: a.Groups, State: Offline, Since: d.now()}}
	if old := d.agents[a.ID]; old != nil {
		nr.ha1 = old.ha1
	}
	d.mu.Unlock()
	if password != "" {
		nr.ha1 = HA1(a.ID, d.cfg.Realm, password)
	}
	if err := d.writeAgent(ctx, nr); err != nil {
		return Agent{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.agents[a.ID]
	if r == nil {
		r = nr
		d.agents[a.ID] = r
	} else {
		r.Name, r.URI, r.Groups, r.ha1 = nr.Name, nr.URI, nr.Groups, nr.ha1
	}
	r.HasPassword = r.ha1 != ""
	if r.State == Available {
		// It may have joined a group with callers waiting.
		d.dispatchLocked(r)
	}
	return d.viewLocked(r), nil
}

// DeleteAgent deletes an agent. A call it is on is not affected; the
// call's release is then a no-op.
func (d *Directory) DeleteAgent(ctx context.Context, id string) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.Lock()
	_, ok := d.agents[id]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: agent %q", ErrNotFound, id)
	}
	if err := d.deleteDoc(ctx, agentDocID(id)); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.agents, id)
	d.mu.Unlock()
	return nil
}

// Agents returns the agents of group, or every agent when group is
// empty, by id.
func (d *Directory) Agents(group string) []Agent {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []Agent{}
	for _, r := range d.agents {
		if group == "" || slices.Contains(r.Groups, group) {
			out = append(out, d.viewLocked(r))
		}
	}
	slices.SortFunc(out, func(a, b Agent) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Agent returns one agent.
func (d *Directory) Agent(id string) (Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.agents[id]
	if r == nil {
		return Agent{}, fmt.Errorf("%w: agent %q", ErrNotFound, id)
	}
	return d.viewLocked(r), nil
}

// viewLocked copies r for a caller, hiding a lapsed registration.
func (d *Directory) viewLocked(r *record) Agent {
	a := r.Agent
	a.Groups = slices.Clone(r.Groups)
	if a.Contact != "" && !d.now().Before(a.Expires) {
		a.Contact, a.Expires = "", time.Time{}
	}
	return a
}

// SetState sets an agent's state. Making an agent available hands it to
// the longest waiting caller of its groups, if any, so the agent may be
// busy again on return. Setting the state ends any lease an Acquire holds
// on the agent: its release then changes nothing.
func (d *Directory) SetState(ctx context.Context, id string, s State) (Agent, error) {
	if !s.Valid() {
		return Agent{}, fmt.Errorf("%w: unknown state %q", ErrInvalid, s)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.agents[id]
	if r == nil {
		return Agent{}, fmt.Errorf("%w: agent %q", ErrNotFound, id)
	}
	r.lease = 0
	if r.State != s {
		r.State, r.Since = s, d.now()
		d.log.InfoContext(ctx, "agent state", "agent", id, "state", s)
	}
	if s == Available {
		d.dispatchLocked(r)
	}
	return d.viewLocked(r), nil
}
