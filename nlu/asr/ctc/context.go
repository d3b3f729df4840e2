package ctc

import (
	"errors"
	"fmt"
)

// DefaultBoost is the bonus, in nats per token, of a Phrase without one.
// 1.5 nats lifts a token the model ranks about 4.5 times less likely than
// the best one (e^1.5) — enough to turn a near miss on a rare name into the
// phrase, while a token the model clearly rejects (posterior 100 times
// below) still loses.
const DefaultBoost = 1.5

// Phrase is a text to bias beam search towards.
type Phrase struct {
	Text string
	// Boost is the bonus per token in nats; 0 means DefaultBoost.
	Boost float32
}

// Context is a contextual-biasing graph (the hotwords of sherpa-onnx): a
// token-level Aho-Corasick automaton over phrases. A hypothesis that
// advances along a phrase gains the phrase's boost for each token; when it
// falls off a partial match the bonus gathered is taken back (keeping only
// the bonus of a phrase suffix it still matches), so biasing cannot reward
// half a phrase; completing a phrase keeps the bonus and matching restarts.
// When one phrase is a prefix of another the shorter completes first.
// A Context is read-only and safe for concurrent use.
type Context struct {
	nodes []ctxNode // nodes[0] is the root
}

type ctxNode struct {
	next  map[int]int32
	fail  int32
	score float64 // bonus gathered from the root to here
	end   bool    // a phrase ends here
}

// NewContext builds a Context from phrases, each tokenized with
// vocab.Encode. Phrases configure an IVR node, so any phrase that cannot be
// encoded fails the whole call (an error wrapping ErrUnencodable that
// names every such phrase and its characters): the operator learns when
// the flow loads, not from a caller that is never understood.
func NewContext(vocab *Vocab, phrases []Phrase) (*Context, error) {
	if vocab == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrInvalid)
	}
	c := &Context{nodes: []ctxNode{{}}}
	var errs []error
	for _, p := range phrases {
		boost := float64(p.Boost)
		if boost == 0 {
			boost = DefaultBoost
		}
		if boost < 0 || boost != boost {
			errs = append(errs, fmt.Errorf("phrase %q: boost %v: %w", p.Text, p.Boost, ErrInvalid))
			continue
		}
		ids, err := vocab.Encode(p.Text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(ids) == 0 {
			errs = append(errs, fmt.Errorf("%w: empty phrase %q", ErrInvalid, p.Text))
			continue
		}
		c.add(ids, boost)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ctc: context: %w", errors.Join(errs...))
	}
	c.link()
	return c, nil
}

func (c *Context) add(ids []int, boost float64) {
	n := int32(0)
	for _, id := range ids {
		child, ok := c.nodes[n].next[id]
		if !ok {
			child = int32(len(c.nodes))
			c.nodes = append(c.nodes, ctxNode{score: c.nodes[n].score + boost})
			if c.nodes[n].next == nil {
				c.nodes[n].next = map[int]int32{}
			}
			c.nodes[n].next[id] = child
		} else {
			// Phrases sharing a prefix: the larger boost wins.
			c.nodes[child].score = max(c.nodes[child].score, c.nodes[n].score+boost)
		}
		n = child
	}
	c.nodes[n].end = true
}

// link sets failure links breadth first: a node's fail is the longest
// proper suffix of its path that is a path from the root.
func (c *Context) link() {
	queue := []int32{0}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for id, child := range c.nodes[n].next {
			if n != 0 {
				f := c.nodes[n].fail
				for {
					if to, ok := c.nodes[f].next[id]; ok {
						c.nodes[child].fail = to
						break
					}
					if f == 0 {
						break
					}
					f = c.nodes[f].fail
				}
			}
			queue = append(queue, child)
		}
	}
}

// step advances state by token. The hypothesis's bonus is then
// committed + nodes[next].score; a completed phrase commits its bonus and
// returns to the root.
func (c *Context) step(state int32, token int) (next int32, commit float64) {
	n := state
	for {
		if to, ok := c.nodes[n].next[token]; ok {
			n = to
			break
		}
		if n == 0 {
			break
		}
		n = c.nodes[n].fail
	}
	if c.nodes[n].end {
		return 0, c.nodes[n].score
	}
	return n, 0
}

// partial is the bonus of a match in progress at state.
func (c *Context) partial(state int32) float64 {
	if c == nil {
		return 0
	}
	return c.nodes[state].score
}
