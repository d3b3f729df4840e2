// Package logtemplate mines log templates online, Drain-style: each line
// is masked (numbers, addresses, ids → <*>), split into tokens and routed
// through a fixed-depth parse tree (token count, then the first tokens) to
// a leaf of candidate templates; it joins the most similar one, which
// generalises where they differ, or starts a new one. One pass, one line
// at a time, as lines arrive in production.
//
// Unlike plain Drain, a line may differ from a template's constant token
// only by a token of the same shape ("user cyrus" / "user news", but not
// "rhost=" / "rhost=<*>"), and a template generalises a token to its
// common key and brackets ("rhost=<*>", "(<*>)") rather than to a bare
// wildcard; see shape.go.
//
// A template keeps its id while it generalises, the state is bounded
// (least recently used templates are evicted) and can be exported and
// imported so a restart keeps the ids.
//
// Reference: He et al., "Drain: An Online Log Parsing Approach with Fixed
// Depth Tree", ICWS 2017.
package logtemplate

import (
	"container/list"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Config tunes the miner. The zero value of a field means its default.
type Config struct {
	// Depth is the number of token layers of the parse tree below the
	// token-count layer (Drain's depth minus two). Default 2.
	Depth int
	// Similarity is the least fraction of a template's tokens a line must
	// share to join it. Default 0.5.
	Similarity float64
	// MaxChildren bounds the fan-out of a tree node; further tokens are
	// routed to the <*> child. Default 100.
	MaxChildren int
	// MaxClusters bounds the number of templates; the least recently
	// matched are evicted. Default 50,000.
	MaxClusters int
	// MaxLineBytes truncates longer lines. Default 64 KiB.
	MaxLineBytes int
	// Settled, when positive, is the number of lines after which a
	// template's still-constant tokens are taken to be constants: a line
	// that differs there starts a new template rather than generalising
	// it. 0 disables the guard.
	Settled int
	// NoShapes turns off the shape guard: by default a line may differ
	// from a template's constant token only by a token of the same shape
	// (see sameShape), so "rhost=" never joins "rhost=<*>" and
	// "LOGIN(uid=<*>)" never joins "(uid=<*>)".
	NoShapes bool
	// Masks replace variable values before tokenising; nil means
	// DefaultMasks. An empty non-nil slice masks nothing.
	Masks []Mask
}

// DefaultConfig returns the one generic configuration.
func DefaultConfig() Config {
	return Config{Depth: 2, Similarity: 0.7, MaxChildren: 100, MaxClusters: 50000, MaxLineBytes: 64 << 10}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Depth == 0 {
		c.Depth = d.Depth
	}
	if c.Similarity == 0 {
		c.Similarity = d.Similarity
	}
	if c.MaxChildren == 0 {
		c.MaxChildren = d.MaxChildren
	}
	if c.MaxClusters == 0 {
		c.MaxClusters = d.MaxClusters
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = d.MaxLineBytes
	}
	return c
}

// Validate reports a configuration the miner cannot run with.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Depth < 1 || c.Depth > 16:
		return fmt.Errorf("logtemplate: depth %d: want 1..16", c.Depth)
	case c.Similarity < 0 || c.Similarity > 1:
		return fmt.Errorf("logtemplate: similarity %g: want 0..1", c.Similarity)
	case c.MaxChildren < 1:
		return fmt.Errorf("logtemplate: max children %d: want ≥ 1", c.MaxChildren)
	case c.MaxClusters < 1:
		return fmt.Errorf("logtemplate: max clusters %d: want ≥ 1", c.MaxClusters)
	case c.MaxLineBytes < 1:
		return fmt.Errorf("logtemplate: max line bytes %d: want ≥ 1", c.MaxLineBytes)
	}
	return nil
}

// Change says what adding a line did to its template.
type Change int

const (
	Unchanged   Change = iota // the line matched the template as it was
	Created                   // the line started a new template
	Generalised               // the template gained wildcards; its id is kept
)

func (c Change) String() string {
	switch c {
	case Created:
		return "created"
	case Generalised:
		return "generalised"
	}
	return "unchanged"
}

// Result is the template a line was assigned.
type Result struct {
	ID       int64
	Template string
	Change   Change
}

// Cluster is a template and how many lines it has absorbed.
type Cluster struct {
	ID       int64  `json:"id"`
	Template string `json:"template"`
	Size     int64  `json:"size"`
}

type cluster struct {
	id     int64
	tokens []string
	size   int64
	path   []string // tree keys from the root to its leaf
	elem   *list.Element
}

func (c *cluster) public() Cluster {
	return Cluster{ID: c.id, Template: strings.Join(c.tokens, " "), Size: c.size}
}

type node struct {
	children map[string]*node
	clusters []*cluster // at leaves
}

// Miner is an online template miner. It is safe for concurrent use; lines
// are serialised by a mutex, which is far cheaper than the masking done
// outside it.
type Miner struct {
	cfg    Config
	masker *Masker

	mu      sync.Mutex
	root    *node
	byID    map[int64]*cluster
	lru     *list.List // of *cluster, most recently used first
	nextID  int64
	evicted int64
}

// New returns an empty miner.
func New(cfg Config) (*Miner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := &Miner{cfg: cfg, masker: NewMasker(cfg.Masks)}
	m.reset()
	return m, nil
}

func (m *Miner) reset() {
	m.root = &node{children: map[string]*node{}}
	m.byID = map[int64]*cluster{}
	m.lru = list.New()
	m.nextID = 1
}

// Sanitize bounds a line to max bytes (on a rune boundary), replaces
// invalid UTF-8 and drops a trailing CR.
func Sanitize(line string, max int) string {
	if len(line) > max {
		cut := max
		for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut]
	}
	line = strings.TrimSuffix(line, "\r")
	return strings.ToValidUTF8(line, "\uFFFD")
}

// Tokens masks and tokenises a message as the miner does.
func (m *Miner) Tokens(msg string) []string {
	return strings.Fields(m.masker.Mask(Sanitize(msg, m.cfg.MaxLineBytes)))
}

// Add assigns msg (the message, without its header) to a template,
// creating or generalising one as needed.
func (m *Miner) Add(msg string) Result {
	toks := m.Tokens(msg)
	m.mu.Lock()
	defer m.mu.Unlock()
	path := m.path(toks, true)
	leaf := m.leaf(path, true)
	c := m.best(leaf.clusters, toks)
	if c == nil {
		c = &cluster{id: m.nextID, tokens: toks, size: 1, path: path}
		m.nextID++
		leaf.clusters = append(leaf.clusters, c)
		m.byID[c.id] = c
		c.elem = m.lru.PushFront(c)
		m.evict()
		return Result{ID: c.id, Template: strings.Join(toks, " "), Change: Created}
	}
	change := Unchanged
	for i, t := range toks {
		if !fits(c.tokens[i], t) {
			if change == Unchanged {
				// Copy on write: an exported or returned template never changes under a reader.
				c.tokens = append([]string(nil), c.tokens...)
			}
			if m.cfg.NoShapes {
				c.tokens[i] = Wildcard
			} else {
				c.tokens[i] = generalise(c.tokens[i], t)
			}
			change = Generalised
		}
	}
	c.size++
	m.lru.MoveToFront(c.elem)
	return Result{ID: c.id, Template: strings.Join(c.tokens, " "), Change: change}
}

// Template returns the current template of the cluster with id, if it is
// still kept.
func (m *Miner) Template(id int64) (Cluster, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[id]
	if !ok {
		return Cluster{}, false
	}
	return c.public(), true
}

// Match finds the template msg would join, without learning from it.
func (m *Miner) Match(msg string) (Cluster, bool) {
	toks := m.Tokens(msg)
	m.mu.Lock()
	defer m.mu.Unlock()
	leaf := m.leaf(m.path(toks, false), false)
	if leaf == nil {
		return Cluster{}, false
	}
	c := m.best(leaf.clusters, toks)
	if c == nil {
		return Cluster{}, false
	}
	return c.public(), true
}

// Clusters lists the templates, most recently used first.
func (m *Miner) Clusters() []Cluster {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Cluster, 0, m.lru.Len())
	for e := m.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*cluster).public())
	}
	return out
}

// path is the tree route of toks: the token count, then the first
// Depth tokens, where a token holding a digit or a wildcard is routed to
// the <*> branch (it is probably a value), as is any token once a node is
// full. With create, the route may open new branches.
func (m *Miner) path(toks []string, create bool) []string {
	path := []string{strconv.Itoa(len(toks))}
	n := m.root.children[path[0]]
	for i := 0; i < m.cfg.Depth && i < len(toks); i++ {
		key := toks[i]
		if hasDigit(key) || strings.Contains(key, Wildcard) {
			key = Wildcard
		}
		var next *node
		if n != nil {
			next = n.children[key]
			if next == nil && key != Wildcard && (!create || len(n.children) >= m.cfg.MaxChildren) {
				key = Wildcard
				next = n.children[key]
			}
		}
		path = append(path, key)
		n = next
	}
	return path
}

func (m *Miner) leaf(path []string, create bool) *node {
	n := m.root
	for _, k := range path {
		next := n.children[k]
		if next == nil {
			if !create {
				return nil
			}
			next = &node{children: map[string]*node{}}
			n.children[k] = next
		}
		n = next
	}
	return n
}

// best returns the most similar cluster of a leaf, or nil when none
// reaches the threshold. Similarity is the fraction of positions where
// template and line have the same token; among equals the template with
// more wildcards wins, as in Drain.
func (m *Miner) best(cs []*cluster, toks []string) *cluster {
	var best *cluster
	bestSim, bestPar := -1.0, -1
	for _, c := range cs {
		if len(c.tokens) != len(toks) {
			continue
		}
		same, par, clash := 0, 0, false
		for i, t := range c.tokens {
			switch {
			case t == toks[i]:
				// Two masked values agree too: both are variables there.
				same++
			case fits(t, toks[i]):
				par++
			case !m.cfg.NoShapes && !sameShape(t, toks[i]):
				clash = true
			}
		}
		if clash {
			continue
		}
		if m.cfg.Settled > 0 && c.size >= int64(m.cfg.Settled) && same+par < len(toks) {
			settled := false
			for i, t := range c.tokens {
				if t != Wildcard && t != toks[i] {
					settled = true
					break
				}
			}
			if settled {
				continue
			}
		}
		sim := 1.0
		if len(toks) > 0 {
			sim = float64(same) / float64(len(toks))
		}
		if sim > bestSim || sim == bestSim && par > bestPar {
			best, bestSim, bestPar = c, sim, par
		}
	}
	if best == nil || bestSim < m.cfg.Similarity {
		return nil
	}
	return best
}

func (m *Miner) evict() {
	for m.lru.Len() > m.cfg.MaxClusters {
		c := m.lru.Remove(m.lru.Back()).(*cluster)
		delete(m.byID, c.id)
		m.evicted++
		if leaf := m.leaf(c.path, false); leaf != nil {
			for i, x := range leaf.clusters {
				if x == c {
					leaf.clusters = append(leaf.clusters[:i], leaf.clusters[i+1:]...)
					break
				}
			}
		}
	}
}

// Stats are counters for monitoring.
type Stats struct {
	Clusters int   `json:"clusters"`
	Evicted  int64 `json:"evicted"`
	NextID   int64 `json:"next_id"`
}

// Stats reports the miner's size.
func (m *Miner) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Clusters: m.lru.Len(), Evicted: m.evicted, NextID: m.nextID}
}

// stateVersion is bumped when the export format changes incompatibly.
const stateVersion = 1

type stateJSON struct {
	Version  int           `json:"version"`
	NextID   int64         `json:"next_id"`
	Clusters []clusterJSON `json:"clusters"` // most recently used first
}

type clusterJSON struct {
	ID     int64    `json:"id"`
	Tokens []string `json:"tokens"`
	Size   int64    `json:"size"`
	Path   []string `json:"path"`
}

// ErrBadState is returned by Import for state it cannot use.
var ErrBadState = errors.New("logtemplate: bad state")

// Export serialises the templates, their ids and tree routes as JSON.
func (m *Miner) Export() ([]byte, error) {
	m.mu.Lock()
	st := stateJSON{Version: stateVersion, NextID: m.nextID, Clusters: make([]clusterJSON, 0, m.lru.Len())}
	for e := m.lru.Front(); e != nil; e = e.Next() {
		c := e.Value.(*cluster)
		st.Clusters = append(st.Clusters, clusterJSON{ID: c.id, Tokens: c.tokens, Size: c.size, Path: c.path})
	}
	m.mu.Unlock()
	return json.Marshal(st)
}

// Import replaces the miner's state with an Export. Ids continue from
// the exported ones. On error the miner is unchanged.
func (m *Miner) Import(data []byte) error {
	var st stateJSON
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("%w: %w", ErrBadState, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, st.Version, stateVersion)
	}
	fresh := &Miner{cfg: m.cfg}
	fresh.reset()
	fresh.nextID = st.NextID
	for _, cj := range st.Clusters {
		switch {
		case cj.ID <= 0 || cj.ID >= st.NextID:
			return fmt.Errorf("%w: cluster id %d outside 1..%d", ErrBadState, cj.ID, st.NextID-1)
		case fresh.byID[cj.ID] != nil:
			return fmt.Errorf("%w: duplicate cluster id %d", ErrBadState, cj.ID)
		case len(cj.Path) == 0 || cj.Path[0] != strconv.Itoa(len(cj.Tokens)):
			return fmt.Errorf("%w: cluster %d: path does not match its tokens", ErrBadState, cj.ID)
		}
		c := &cluster{id: cj.ID, tokens: cj.Tokens, size: cj.Size, path: cj.Path}
		leaf := fresh.leaf(c.path, true)
		leaf.clusters = append(leaf.clusters, c)
		fresh.byID[c.id] = c
		c.elem = fresh.lru.PushBack(c)
	}
	fresh.evict()
	m.mu.Lock()
	m.root, m.byID, m.lru, m.nextID = fresh.root, fresh.byID, fresh.lru, fresh.nextID
	m.mu.Unlock()
	return nil
}
