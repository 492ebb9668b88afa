package polyipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// drain ranges over q.Messages(ctx) to the end, within d: the messages it
// yielded and the errors (the loop body never breaks, so this also checks
// that the sequence stops by itself after an error).
func drain(t *testing.T, q *Queue, ctx context.Context, d time.Duration) (msgs []string, errs []error) {
	t.Helper()
	type result struct {
		msgs []string
		errs []error
	}
	r := within(t, d, "the Messages loop", func() (r result) {
		for msg, err := range q.Messages(ctx) {
			if err != nil {
				r.errs = append(r.errs, err)
				continue // no break: the sequence must end by itself
			}
			r.msgs = append(r.msgs, string(msg))
		}
		return r
	})
	return r.msgs, r.errs
}

// Another process puts N jobs and closes the queue for writing; the loop
// yields exactly those N, in order, then ends without an error.
func TestMessagesFromAnotherProcessUntilEndOfStream(t *testing.T) {
	q := openQueue(t)
	const n = 300
	cmd, _ := child(t, "produce", q.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(n))
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	msgs, errs := drain(t, q, ctx, 90*time.Second)
	if len(errs) != 0 {
		t.Fatalf("the loop yielded errors %v (after %d messages)", errs, len(msgs))
	}
	if len(msgs) != n {
		t.Fatalf("the loop yielded %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		var j job
		if err := json.Unmarshal([]byte(m), &j); err != nil {
			t.Fatalf("message %d %q: %v", i, m, err)
		}
		if j.Job != i || j.From != "go" || j.Pid != cmd.Process.Pid {
			t.Fatalf("message %d is %+v, want job %d from pid %d", i, j, i, cmd.Process.Pid)
		}
	}
	if err := waitChild(t, cmd, 30*time.Second); err != nil {
		t.Fatalf("producer child: %v", err)
	}
	// Ended for good: another range ends at once too, and Get says ErrClosed.
	if msgs, errs := drain(t, q, bg, 5*time.Second); len(msgs) != 0 || len(errs) != 0 {
		t.Fatalf("second range over the ended stream: %q, %v", msgs, errs)
	}
	_, err := q.Get(bg)
	wantStatus(t, err, ErrClosed)
}

// On a queue already closed for writing and drained the loop ends at once,
// with nothing, even with a context that never ends.
func TestMessagesOnClosedDrainedQueueEndsAtOnce(t *testing.T) {
	q := openQueue(t)
	mustPut(t, q, `1`)
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, q); got != `1` {
		t.Fatalf("got %s", got)
	}
	start := time.Now()
	msgs, errs := drain(t, q, bg, 5*time.Second)
	if len(msgs) != 0 || len(errs) != 0 {
		t.Fatalf("closed and drained: the loop yielded %q, %v", msgs, errs)
	}
	// No wait at all (a blocked Get would take at least a 50 ms slice).
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("the loop took %v to end", elapsed)
	}
}

// Breaking out after k messages takes no more than those k: a later Get
// takes message k+1, and another range goes on from there.
func TestMessagesBreakLeavesTheRest(t *testing.T) {
	q := openQueue(t)
	const n, k = 10, 4
	for i := 1; i <= n; i++ {
		mustPut(t, q, strconv.Itoa(i))
	}
	var got []string
	within(t, 10*time.Second, "the loop", func() struct{} {
		for msg, err := range q.Messages(bg) {
			if err != nil {
				t.Errorf("Messages: %v", err)
				break
			}
			got = append(got, string(msg))
			if len(got) == k {
				break
			}
		}
		return struct{}{}
	})
	if fmt.Sprint(got) != "[1 2 3 4]" {
		t.Fatalf("before the break: %q", got)
	}
	if size, err := q.Size(); err != nil || size != n-k {
		t.Fatalf("after the break Size = %d, %v; want %d", size, err, n-k)
	}
	if next := mustGet(t, q); next != strconv.Itoa(k+1) {
		t.Fatalf("Get after the break gave %s, want %d", next, k+1)
	}
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	msgs, errs := drain(t, q, bg, 10*time.Second)
	if fmt.Sprint(msgs) != "[6 7 8 9 10]" || len(errs) != 0 {
		t.Fatalf("second range: %q, %v", msgs, errs)
	}
}

// On a joinable queue each message is a lease as with Get: TaskDone each in
// the loop, and Join returns.
func TestMessagesJoinableTaskDoneThenJoin(t *testing.T) {
	q := openQueue(t, Joinable())
	const n = 150
	for i := 0; i < n; i++ {
		mustPut(t, q, strconv.Itoa(i))
	}
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	// Leases still open: Join waits (and runs out).
	short, cancelShort := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancelShort()
	wantStatus(t, q.Join(short), ErrTimeout)

	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	count := 0
	within(t, 30*time.Second, "the loop", func() struct{} {
		for msg, err := range q.Messages(ctx) {
			if err != nil {
				t.Errorf("Messages: %v", err)
				break
			}
			if string(msg) != strconv.Itoa(count) {
				t.Errorf("message %d is %s", count, msg)
			}
			count++
			// Alternate the two ways of ending a lease.
			if count%2 == 0 {
				err = q.TaskDone()
			} else {
				err = q.TaskDoneMessage(msg)
			}
			if err != nil {
				t.Errorf("ending the lease of %s: %v", msg, err)
				break
			}
		}
		return struct{}{}
	})
	if count != n {
		t.Fatalf("the loop yielded %d messages, want %d", count, n)
	}
	if err := within(t, 30*time.Second, "Join", func() error { return q.Join(ctx) }); err != nil {
		t.Fatalf("Join after the loop: %v", err)
	}
}

// stimulusWhileBlocked ranges over q.Messages(ctx), q holding the one
// message "first": after that message, while the next step waits on the now
// empty queue, it runs stimulus (a timer, not a synchronisation: the loop
// waits either way). It checks that the loop yielded "first", then exactly
// one error, and ended within a second of the stimulus; it returns the error.
func stimulusWhileBlocked(t *testing.T, q *Queue, ctx context.Context, stimulus func()) error {
	t.Helper()
	mustPut(t, q, `"first"`)
	var mu sync.Mutex
	var stimulatedAt time.Time
	type result struct {
		msgs     []string
		errs     []error
		returned time.Time
	}
	var timer *time.Timer
	r := within(t, 10*time.Second, "the blocked loop", func() (r result) {
		for msg, err := range q.Messages(ctx) {
			if err != nil {
				r.errs = append(r.errs, err)
				continue // no break: the sequence must end by itself
			}
			r.msgs = append(r.msgs, string(msg))
			timer = time.AfterFunc(150*time.Millisecond, func() {
				mu.Lock()
				stimulatedAt = time.Now()
				mu.Unlock()
				stimulus()
			})
		}
		r.returned = time.Now()
		return r
	})
	mu.Lock()
	at := stimulatedAt
	mu.Unlock()
	if at.IsZero() {
		if timer != nil {
			timer.Stop()
		}
		t.Fatalf("the loop ended before the stimulus: %q, %v", r.msgs, r.errs)
	}
	if len(r.msgs) != 1 || r.msgs[0] != `"first"` {
		t.Fatalf("messages %q, want [\"first\"]", r.msgs)
	}
	if len(r.errs) != 1 {
		t.Fatalf("errors %v, want exactly one", r.errs)
	}
	if lag := r.returned.Sub(at); lag > time.Second {
		t.Fatalf("the loop ended %v after the stimulus", lag)
	}
	return r.errs[0]
}

// A loop blocked on an empty queue ends when its context is cancelled
// (context.Canceled), when its deadline passes (ErrTimeout, matching
// context.DeadlineExceeded) or when the handle is closed (ErrHandleClosed):
// the error is yielded exactly once, and the sequence ends.
func TestMessagesBlockedLoopEndsOnCancelDeadlineOrClose(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		q := openQueue(t)
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		err := stimulusWhileBlocked(t, q, ctx, cancel)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the loop yielded %v, want context.Canceled", err)
		}
		if errors.Is(err, ErrClosed) {
			t.Fatalf("%v matches ErrClosed", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		q := openQueue(t)
		ctx, cancel := context.WithTimeout(bg, 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		msgs, errs := drain(t, q, ctx, 10*time.Second)
		elapsed := time.Since(start)
		if len(msgs) != 0 || len(errs) != 1 {
			t.Fatalf("the loop yielded %q, %v; want one error", msgs, errs)
		}
		wantStatus(t, errs[0], ErrTimeout)
		if !errors.Is(errs[0], context.DeadlineExceeded) {
			t.Fatalf("%v does not match context.DeadlineExceeded", errs[0])
		}
		if elapsed < 140*time.Millisecond || elapsed > 2*time.Second {
			t.Fatalf("the loop ended after %v, want about 150ms", elapsed)
		}
	})
	t.Run("handle closed", func(t *testing.T) {
		q := openQueue(t) // its cleanup's Close is then a no-op
		err := stimulusWhileBlocked(t, q, bg, func() {
			if err := q.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		if !errors.Is(err, ErrHandleClosed) {
			t.Fatalf("the loop yielded %v, want ErrHandleClosed", err)
		}
	})
	t.Run("end of stream while blocked", func(t *testing.T) {
		// CloseWrites by another handle while the loop waits: the loop
		// ends normally, with no error.
		q := openQueue(t)
		other := openQueueOnly(t, q)
		mustPut(t, q, `"first"`)
		var timer *time.Timer
		var msgs []string
		var errs []error
		within(t, 10*time.Second, "the loop", func() struct{} {
			for msg, err := range q.Messages(bg) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				msgs = append(msgs, string(msg))
				timer = time.AfterFunc(150*time.Millisecond, func() {
					if err := other.CloseWrites(); err != nil {
						t.Errorf("CloseWrites: %v", err)
					}
				})
			}
			return struct{}{}
		})
		if timer != nil {
			timer.Stop()
		}
		if fmt.Sprint(msgs) != `["first"]` || len(errs) != 0 {
			t.Fatalf("the loop yielded %q, %v; want [\"first\"] and no error", msgs, errs)
		}
	})
}
