package agents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// waiter is a caller in a group's queue.
type waiter struct {
	group string
	seq   uint64 // arrival order across all groups
	since time.Time
	// got receives the agent handed to the waiter; it is buffered, and
	// the send happens under Directory.mu together with the waiter's
	// removal from its queue, so a waiter not in its queue has one.
	got chan assignment
	// pos holds the latest position not yet reported (overwritten, not
	// queued: only the latest matters); sent is the last one put there.
	pos  chan int
	sent int
}

type assignment struct {
	agent Agent
	lease uint64
}

// Acquire finds an agent of group for a caller. It takes the available
// agent idle the longest and marks it busy. When none is available the
// caller joins the group's FIFO queue; position is called (on the calling
// goroutine, may be nil) with the caller's 1-based place when it joins and
// whenever that changes, e.g. to announce it. The caller leaves the queue
// with ErrNoAgent after maxWait (at once if maxWait is not positive), with
// ctx.Err() when ctx ends (the caller hung up), or with an agent when one
// becomes available and the caller is the longest waiting of the agent's
// groups.
//
// release returns the agent to available, which hands it to the next
// waiting caller. It is idempotent, and a no-op once the agent's state was
// set by SetState meanwhile. It must be called when the transfer has
// failed or the agent's call has ended.
func (d *Directory) Acquire(ctx context.Context, group string, maxWait time.Duration, position func(pos int)) (Agent, func(), error) {
	if err := ctx.Err(); err != nil {
		return Agent{}, nil, err
	}
	d.mu.Lock()
	if _, ok := d.groups[group]; !ok {
		d.mu.Unlock()
		return Agent{}, nil, fmt.Errorf("%w: group %q", ErrNotFound, group)
	}
	if r := d.idlestLocked(group); r != nil {
		as := d.leaseLocked(r)
		d.mu.Unlock()
		return as.agent, d.releaser(as), nil
	}
	if maxWait <= 0 {
		d.mu.Unlock()
		return Agent{}, nil, fmt.Errorf("%w in group %q", ErrNoAgent, group)
	}
	d.seq++
	w := &waiter{group: group, seq: d.seq, since: d.now(), got: make(chan assignment, 1), pos: make(chan int, 1)}
	d.queues[group] = append(d.queues[group], w)
	w.sent = len(d.queues[group])
	last := w.sent // w.sent is d.mu's from here on
	d.mu.Unlock()

	if position != nil {
		position(last)
	}
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	for {
		select {
		case as := <-w.got:
			return as.agent, d.releaser(as), nil
		case p := <-w.pos:
			if p != last && position != nil {
				position(p)
			}
			last = p
		case <-timer.C:
			return d.leave(w, fmt.Errorf("%w in group %q within %v", ErrNoAgent, group, maxWait), false)
		case <-ctx.Done():
			return d.leave(w, ctx.Err(), true)
		}
	}
}

// leave takes w out of its queue and returns err; if an agent was handed
// to w meanwhile, a caller still there (timeout) takes it, and one that
// hung up gives it back.
func (d *Directory) leave(w *waiter, err error, hungUp bool) (Agent, func(), error) {
	d.mu.Lock()
	q := d.queues[w.group]
	if i := slices.Index(q, w); i >= 0 {
		d.queues[w.group] = slices.Delete(q, i, i+1)
		d.repositionLocked(w.group)
		d.mu.Unlock()
		return Agent{}, nil, err
	}
	d.mu.Unlock()
	as := <-w.got
	release := d.releaser(as)
	if hungUp {
		release()
		return Agent{}, nil, err
	}
	return as.agent, release, nil
}

// idlestLocked returns the available agent of group that has been idle
// the longest (ties by id, for determinism), or nil.
func (d *Directory) idlestLocked(group string) *record {
	var best *record
	for _, r := range d.agents {
		if r.State != Available || !slices.Contains(r.Groups, group) {
			continue
		}
		if best == nil || r.Since.Before(best.Since) || (r.Since.Equal(best.Since) && r.ID < best.ID) {
			best = r
		}
	}
	return best
}

// leaseLocked makes r busy for one Acquire.
func (d *Directory) leaseLocked(r *record) assignment {
	d.seq++
	r.State, r.Since, r.lease = Busy, d.now(), d.seq
	return assignment{agent: d.viewLocked(r), lease: r.lease}
}

func (d *Directory) releaser(as assignment) func() {
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		r := d.agents[as.agent.ID]
		if r == nil || r.lease != as.lease {
			return
		}
		r.lease = 0
		r.State, r.Since = Available, d.now()
		d.dispatchLocked(r)
	}
}

// dispatchLocked hands the available agent r to the longest waiting
// caller of its groups, if there is one.
func (d *Directory) dispatchLocked(r *record) {
	var first *waiter
	for _, g := range r.Groups {
		if q := d.queues[g]; len(q) > 0 && (first == nil || q[0].seq < first.seq) {
			first = q[0]
		}
	}
	if first == nil {
		return
	}
	d.queues[first.group] = slices.Delete(d.queues[first.group], 0, 1)
	first.got <- d.leaseLocked(r)
	d.repositionLocked(first.group)
}

// repositionLocked tells the waiters of group whose place changed.
func (d *Directory) repositionLocked(group string) {
	q := d.queues[group]
	if len(q) == 0 {
		delete(d.queues, group)
		return
	}
	for i, w := range q {
		if w.sent == i+1 {
			continue
		}
		w.sent = i + 1
		select { // drop the unreported one: only the latest matters
		case <-w.pos:
		default:
		}
		w.pos <- i + 1 // cannot block: emptied above, and every sender holds d.mu
	}
}

// QueueLen returns how many callers wait for an agent of group.
func (d *Directory) QueueLen(group string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queues[group])
}

// GroupStatus is a group with its agents' and queue's state at one moment.
type GroupStatus struct {
	Group
	// Agents counts the group's members; Available, Busy and Offline
	// count them by state.
	Agents    int `json:"agents"`
	Available int `json:"available"`
	Busy      int `json:"busy"`
	Offline   int `json:"offline"`
	// Queued is how many callers wait, and LongestWaitMS how long the
	// first of them has waited.
	Queued        int   `json:"queued"`
	LongestWaitMS int64 `json:"longest_wait_ms"`
}

// Snapshot returns every group's status, by name.
func (d *Directory) Snapshot() []GroupStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	out := make([]GroupStatus, 0, len(d.groups))
	for _, g := range d.groups {
		s := GroupStatus{Group: g, Queued: len(d.queues[g.Name])}
		if s.Queued > 0 {
			s.LongestWaitMS = now.Sub(d.queues[g.Name][0].since).Milliseconds()
		}
		for _, r := range d.agents {
			if !slices.Contains(r.Groups, g.Name) {
				continue
			}
			s.Agents++
			switch r.State {
			case Available:
				s.Available++
			case Busy:
				s.Busy++
			default:
				s.Offline++
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b GroupStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}
