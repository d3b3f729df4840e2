package agents_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/agents"
)

// memDir is a Directory without a store, for the routing tests that run
// in a synctest bubble (no network there): groups sales and support;
// a1-a3 in sales, b1 in support, x1 in both; everybody offline.
func memDir(t *testing.T) *agents.Directory {
	t.Helper()
	d, err := agents.New(nil, agents.Config{
		Realm:      "test",
		SeedGroups: []string{"sales", "support"},
		Seed: []agents.AgentConfig{
			{ID: "a1", URI: "sip:a1@127.0.0.1", Groups: []string{"sales"}},
			{ID: "a2", URI: "sip:a2@127.0.0.1", Groups: []string{"sales"}},
			{ID: "a3", URI: "sip:a3@127.0.0.1", Groups: []string{"sales"}},
			{ID: "b1", URI: "sip:b1@127.0.0.1", Groups: []string{"support"}},
			{ID: "x1", URI: "sip:x1@127.0.0.1", Groups: []string{"sales", "support"}},
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

// caller is one Acquire running on its own goroutine.
type caller struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	positions []int
	agent     agents.Agent
	release   func()
	err       error
	waited    time.Duration
}

// call starts an Acquire and waits until it is served or queued.
func call(d *agents.Directory, group string, maxWait time.Duration) *caller {
	ctx, cancel := context.WithCancel(context.Background())
	c := &caller{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		start := time.Now()
		a, rel, err := d.Acquire(ctx, group, maxWait, func(p int) {
			c.mu.Lock()
			c.positions = append(c.positions, p)
			c.mu.Unlock()
		})
		c.mu.Lock()
		c.agent, c.release, c.err, c.waited = a, rel, err, time.Since(start)
		c.mu.Unlock()
	}()
	synctest.Wait()
	return c
}

// served waits for the caller's answer and checks it got agent want.
func (c *caller) served(t *testing.T, want string) func() {
	t.Helper()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.agent.ID != want {
		t.Fatalf("Acquire = %q, %v; want agent %s", c.agent.ID, c.err, want)
	}
	if c.agent.State != agents.Busy {
		t.Errorf("agent %s handed over in state %s, want busy", c.agent.ID, c.agent.State)
	}
	return c.release
}

func (c *caller) pending(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
		t.Fatalf("Acquire returned %q, %v; want it still waiting", c.agent.ID, c.err)
	default:
	}
}

func (c *caller) gotPositions(t *testing.T, want ...int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Equal(c.positions, want) {
		t.Errorf("positions %v, want %v", c.positions, want)
	}
}

func setState(t *testing.T, d *agents.Directory, id string, s agents.State) {
	t.Helper()
	if _, err := d.SetState(context.Background(), id, s); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
}

func wantState(t *testing.T, d *agents.Directory, id string, s agents.State) {
	t.Helper()
	a, err := d.Agent(id)
	if err != nil || a.State != s {
		t.Errorf("agent %s: %s, %v; want %s", id, a.State, err, s)
	}
}

func wantQueue(t *testing.T, d *agents.Directory, group string, n int) {
	t.Helper()
	if got := d.QueueLen(group); got != n {
		t.Errorf("QueueLen(%s) = %d, want %d", group, got, n)
	}
}

// TestAcquire runs each routing scenario in a synctest bubble: time is
// virtual, and the bubble fails the test if an Acquire goroutine is left
// blocked (a leak).
func TestAcquire(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, d *agents.Directory)
	}{
		{"longest idle first", func(t *testing.T, d *agents.Directory) {
			for _, id := range []string{"a2", "a3", "a1"} {
				setState(t, d, id, agents.Available)
				time.Sleep(time.Second)
			}
			for _, want := range []string{"a2", "a3", "a1"} {
				call(d, "sales", 0).served(t, want)
			}
			c := call(d, "sales", 0)
			<-c.done
			if !errors.Is(c.err, agents.ErrNoAgent) || c.positions != nil {
				t.Errorf("with nobody available and no wait: %v, positions %v; want ErrNoAgent at once", c.err, c.positions)
			}
		}},
		{"queue is FIFO and positions are reported", func(t *testing.T, d *agents.Directory) {
			c1, c2, c3 := call(d, "sales", time.Minute), call(d, "sales", time.Minute), call(d, "sales", time.Minute)
			wantQueue(t, d, "sales", 3)
			setState(t, d, "a1", agents.Available)
			release := c1.served(t, "a1")
			c2.pending(t)
			wantQueue(t, d, "sales", 2)
			release()
			synctest.Wait()
			release = c2.served(t, "a1")
			release()
			synctest.Wait()
			c3.served(t, "a1")()
			c1.gotPositions(t, 1)
			c2.gotPositions(t, 2, 1)
			c3.gotPositions(t, 3, 2, 1)
			wantQueue(t, d, "sales", 0)
			wantState(t, d, "a1", agents.Available)
		}},
		{"timeout is ErrNoAgent and leaves the queue", func(t *testing.T, d *agents.Directory) {
			c1, c2 := call(d, "sales", 30*time.Second), call(d, "sales", time.Minute)
			time.Sleep(30 * time.Second)
			synctest.Wait()
			<-c1.done
			if !errors.Is(c1.err, agents.ErrNoAgent) || c1.waited != 30*time.Second {
				t.Errorf("after %v: %v, want ErrNoAgent after 30s", c1.waited, c1.err)
			}
			c2.gotPositions(t, 2, 1)
			wantQueue(t, d, "sales", 1)
			time.Sleep(30 * time.Second)
			<-c2.done
			wantQueue(t, d, "sales", 0)
		}},
		{"hang-up leaves the queue", func(t *testing.T, d *agents.Directory) {
			c1, c2 := call(d, "sales", time.Minute), call(d, "sales", time.Minute)
			c1.cancel()
			<-c1.done
			if !errors.Is(c1.err, context.Canceled) {
				t.Errorf("hung up: %v, want context.Canceled", c1.err)
			}
			synctest.Wait()
			c2.gotPositions(t, 2, 1)
			wantQueue(t, d, "sales", 1)
			setState(t, d, "a1", agents.Available)
			c2.served(t, "a1")
		}},
		{"release hands the agent to the waiter, once", func(t *testing.T, d *agents.Directory) {
			setState(t, d, "b1", agents.Available)
			release0 := call(d, "support", 0).served(t, "b1")
			c1 := call(d, "support", time.Minute)
			c1.gotPositions(t, 1)
			release0()
			synctest.Wait()
			release1 := c1.served(t, "b1")
			release0() // idempotent: must not free b1 from c1's call
			wantState(t, d, "b1", agents.Busy)
			release1()
			wantState(t, d, "b1", agents.Available)
		}},
		{"release after SetState changes nothing", func(t *testing.T, d *agents.Directory) {
			setState(t, d, "b1", agents.Available)
			release := call(d, "support", 0).served(t, "b1")
			setState(t, d, "b1", agents.Offline)
			release()
			wantState(t, d, "b1", agents.Offline)
		}},
		{"an agent of two groups serves the oldest waiter of either", func(t *testing.T, d *agents.Directory) {
			support := call(d, "support", time.Minute)
			time.Sleep(time.Second)
			sales := call(d, "sales", time.Minute)
			setState(t, d, "x1", agents.Available)
			release := support.served(t, "x1")
			sales.pending(t)
			release()
			synctest.Wait()
			sales.served(t, "x1")()
			wantState(t, d, "x1", agents.Available)
		}},
		{"joining a group with waiters serves them", func(t *testing.T, d *agents.Directory) {
			c := call(d, "support", time.Minute)
			setState(t, d, "a1", agents.Available)
			c.pending(t)
			if _, err := d.PutAgent(context.Background(), agents.Agent{ID: "a1", URI: "sip:a1@127.0.0.1", Groups: []string{"sales", "support"}}, ""); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			c.served(t, "a1")()
		}},
		{"snapshot", func(t *testing.T, d *agents.Directory) {
			setState(t, d, "a1", agents.Available)
			setState(t, d, "b1", agents.Busy)
			c := call(d, "support", time.Minute)
			time.Sleep(1500 * time.Millisecond)
			want := []agents.GroupStatus{
				{Group: agents.Group{Name: "sales"}, Agents: 4, Available: 1, Offline: 3},
				{Group: agents.Group{Name: "support"}, Agents: 2, Busy: 1, Offline: 1, Queued: 1, LongestWaitMS: 1500},
			}
			if got := d.Snapshot(); !slices.Equal(got, want) {
				t.Errorf("Snapshot\n got %+v\nwant %+v", got, want)
			}
			c.cancel()
			<-c.done
		}},
		{"unknown group", func(t *testing.T, d *agents.Directory) {
			if _, _, err := d.Acquire(context.Background(), "nope", time.Minute, nil); !errors.Is(err, agents.ErrNotFound) {
				t.Errorf("Acquire(nope) = %v, want ErrNotFound", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { tt.run(t, memDir(t)) })
		})
	}
}

// TestAcquireConcurrent hammers the directory from many callers in real
// time, some hanging up, some timing out, under the race detector; at the
// end no caller may be left queued and no agent left busy.
func TestAcquireConcurrent(t *testing.T) {
	d := memDir(t)
	for _, id := range []string{"a1", "a2", "x1", "b1"} {
		if _, err := d.SetState(t.Context(), id, agents.Available); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		holder = map[string]int{} // agent → callers holding it; must stay ≤ 1
	)
	for i := range 200 {
		wg.Go(func() {
			group := []string{"sales", "support"}[i%2]
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(20))*time.Millisecond)
			defer cancel()
			a, release, err := d.Acquire(ctx, group, time.Duration(rand.IntN(30))*time.Millisecond, nil)
			if err != nil {
				if !errors.Is(err, agents.ErrNoAgent) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("caller %d: %v", i, err)
				}
				return
			}
			mu.Lock()
			holder[a.ID]++
			if holder[a.ID] > 1 {
				t.Errorf("agent %s handed to two callers", a.ID)
			}
			mu.Unlock()
			time.Sleep(time.Duration(rand.IntN(2)) * time.Millisecond)
			mu.Lock()
			holder[a.ID]--
			mu.Unlock()
			release()
			release()
		})
	}
	wg.Wait()
	for _, g := range []string{"sales", "support"} {
		wantQueue(t, d, g, 0)
	}
	for _, a := range d.Agents("") {
		want := agents.Available
		if a.ID == "a3" {
			want = agents.Offline
		}
		if a.State != want {
			t.Errorf("agent %s ends %s, want %s", a.ID, a.State, want)
		}
	}
}

func ExampleDirectory_Acquire() {
	d, _ := agents.New(nil, agents.Config{
		Realm:      "switchboard",
		SeedGroups: []string{"billing"},
		Seed:       []agents.AgentConfig{{ID: "alice", URI: "sip:alice@pbx.example", Groups: []string{"billing"}, State: agents.Available}},
	}, nil)
	ctx := context.Background()
	_ = d.Load(ctx)
	a, release, err := d.Acquire(ctx, "billing", time.Minute, func(pos int) { fmt.Println("you are caller number", pos) })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("transfer to", a.Target())
	release() // when the transfer failed or the agent's call ended
	// Output: transfer to sip:alice@pbx.example
}
