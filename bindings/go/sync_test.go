package polyipc

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	_ sync.Locker = (*Lock)(nil)
	_ sync.Locker = (*RLock)(nil)
	_ sync.Locker = (*Condition)(nil)
)

// syncName is a fresh name, unlinked (with the default condition lock
// "<name>.lock") when the test ends.
func syncName(t testing.TB) string {
	t.Helper()
	name := queueName(t)
	t.Cleanup(func() { _ = Unlink(name + ".lock") })
	return name
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func openLockT(t testing.TB, name string, opts ...Option) *Lock {
	t.Helper()
	l := must[*Lock](t)(OpenLock(name, opts...))
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func withTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(bg, d)
	t.Cleanup(cancel)
	return ctx
}

// inGoroutine runs f on a goroutine of its own and waits for it (bounded).
func inGoroutine[T any](t *testing.T, f func() T) T {
	t.Helper()
	return within(t, 30*time.Second, "the goroutine", f)
}

// panicOf runs f and returns what it panicked with (nil: it did not).
func panicOf(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

func TestLockBasicsAndOwnership(t *testing.T) {
	name := syncName(t)
	l := openLockT(t, name)
	if err := l.LockContext(withTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if locked, err := l.Locked(); err != nil || !locked {
		t.Fatalf("Locked = %v, %v", locked, err)
	}
	if held, err := l.Held(); err != nil || !held {
		t.Fatalf("Held = %v, %v", held, err)
	}
	// Another goroutine, even through another handle, neither gets it nor
	// can release it.
	other := openLockT(t, name)
	inGoroutine(t, func() bool {
		if other.TryLock() {
			t.Error("TryLock from another goroutine succeeded")
		}
		if held, _ := other.Held(); held {
			t.Error("Held from another goroutine")
		}
		wantStatus(t, other.Release(), ErrNotOwner)
		r := panicOf(l.Unlock)
		if e, ok := r.(*Error); !ok || e.Status != StatusNotOwner {
			t.Errorf("Unlock from another goroutine panicked with %v, want an ErrNotOwner *Error", r)
		}
		return true
	})
	// Not reentrant: the holder locking again fails at once.
	start := time.Now()
	wantStatus(t, l.LockContext(withTimeout(t, 10*time.Second)), ErrInvalidArg)
	if time.Since(start) > 5*time.Second {
		t.Fatal("relocking did not fail at once")
	}
	if l.TryLock() {
		t.Fatal("TryLock by the holder succeeded")
	}
	l.Unlock()
	if locked, _ := l.Locked(); locked {
		t.Fatal("still locked after Unlock")
	}
	wantStatus(t, l.Release(), ErrNotOwner)
	if !l.TryLock() {
		t.Fatal("TryLock of a free lock failed")
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Kind   string `json:"kind"`
		Locked bool   `json:"locked"`
	}
	raw := must[json.RawMessage](t)(l.Stat())
	if err := json.Unmarshal(raw, &st); err != nil || st.Locked {
		t.Fatalf("Stat: %s (%v)", raw, err)
	}
}

// The goroutines share a plain counter guarded only by the lock: the count
// is exact, and -race sees the order the lock creates.
func TestLockMutualExclusionAcrossGoroutines(t *testing.T) {
	name := syncName(t)
	shared := openLockT(t, name)
	const workers, rounds = 6, 150
	counter, inside := 0, atomic.Int32{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		l := shared
		if w%2 == 1 {
			l = openLockT(t, name) // handles of their own, same lock
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				l.Lock()
				if inside.Add(1) != 1 {
					t.Error("two goroutines inside the lock")
				}
				counter++
				if i%10 == 0 {
					runtime.Gosched()
				}
				inside.Add(-1)
				l.Unlock()
			}
		}()
	}
	within(t, 60*time.Second, "the workers", func() bool { wg.Wait(); return true })
	shared.Lock()
	defer shared.Unlock()
	if counter != workers*rounds {
		t.Fatalf("counter = %d, want %d", counter, workers*rounds)
	}
}

func TestLockContextDeadlineAndCancel(t *testing.T) {
	name := syncName(t)
	l := openLockT(t, name)
	l.Lock()
	defer l.Unlock()
	err := inGoroutine(t, func() error { return l.LockContext(withTimeout(t, 80*time.Millisecond)) })
	wantStatus(t, err, ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not match context.DeadlineExceeded", err)
	}
	// Timeouts of every sign: a deadline already passed, or now.
	for _, d := range []time.Duration{-time.Second, 0, time.Nanosecond} {
		err := inGoroutine(t, func() error { return l.LockContext(withTimeout(t, d)) })
		wantStatus(t, err, ErrTimeout)
	}
	// Cancellation is noticed within a slice.
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- l.LockContext(ctx) }()
	time.Sleep(120 * time.Millisecond) // let it wait a few slices (not a synchronisation)
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Fatalf("cancelled LockContext: %v", err)
		}
		// One 50 ms slice; the bound leaves room for a loaded machine under -race.
		if d := time.Since(cancelled); d > 500*time.Millisecond {
			t.Fatalf("the cancellation took %v", d)
		} else if d > 100*time.Millisecond {
			t.Logf("warning: the cancellation took %v (loaded machine?)", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled LockContext did not return")
	}
}

// A goroutine that ends while holding the lock ends its (pinned) OS thread:
// the lock comes back with ErrOwnerDead, held by the next acquirer. (Not
// when that thread is the process's main thread, which Go never ends: the
// goroutine makes sure it is not.)
func TestLockHolderGoroutineExitGivesOwnerDead(t *testing.T) {
	name := syncName(t)
	l := openLockT(t, name)
	for attempt := 0; ; attempt++ {
		locked := inGoroutine(t, func() bool {
			runtime.LockOSThread() // LockContext pins again: this goroutine's thread either way
			defer runtime.UnlockOSThread()
			if syscall.Gettid() == os.Getpid() {
				return false // the main thread: try another goroutine
			}
			if err := l.LockContext(withTimeout(t, 10*time.Second)); err != nil {
				t.Error(err)
			}
			return true // exits holding it
		})
		if locked {
			break
		}
		if attempt == 100 {
			t.Skip("every goroutine ran on the main thread")
		}
	}
	err := l.LockContext(withTimeout(t, 10*time.Second))
	wantStatus(t, err, ErrOwnerDead)
	if held, _ := l.Held(); !held {
		t.Fatal("ErrOwnerDead but the lock is not held")
	}
	l.Unlock()
	if err := l.LockContext(withTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("after the repair: %v", err)
	}
	l.Unlock()
}

func TestRLockCounts(t *testing.T) {
	name := syncName(t)
	r := must[*RLock](t)(OpenRLock(name))
	defer r.Close()
	for i := 1; i <= 3; i++ {
		if err := r.LockContext(withTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := r.Held(); err != nil || n != i {
			t.Fatalf("Held = %d, %v after %d locks", n, err, i)
		}
	}
	if !r.TryLock() {
		t.Fatal("TryLock by the holder failed")
	}
	inGoroutine(t, func() bool {
		if r.TryLock() {
			t.Error("another goroutine got the rlock")
		}
		wantStatus(t, r.Release(), ErrNotOwner)
		return true
	})
	for i := 4; i >= 1; i-- {
		r.Unlock()
		if n, _ := r.Held(); n != i-1 {
			t.Fatalf("Held = %d after an unlock, want %d", n, i-1)
		}
	}
	if locked, _ := r.Locked(); locked {
		t.Fatal("still locked")
	}
	wantStatus(t, r.Release(), ErrNotOwner)
	// A lock and an rlock never share a name.
	if _, err := OpenLock(name); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("OpenLock of an rlock: %v", err)
	}
}

func TestSemaphore(t *testing.T) {
	name := syncName(t)
	s := must[*Semaphore](t)(OpenSemaphore(name, 2))
	defer s.Close()
	if !s.TryAcquire() || !s.TryAcquire() || s.TryAcquire() {
		t.Fatal("TryAcquire on a semaphore of 2")
	}
	wantStatus(t, s.Acquire(withTimeout(t, 60*time.Millisecond)), ErrTimeout)
	if err := s.Release(3); err != nil { // unbounded
		t.Fatal(err)
	}
	if v, _ := s.Value(); v != 3 {
		t.Fatalf("Value = %d, want 3", v)
	}
	if err := s.AcquireN(withTimeout(t, 10*time.Second), 3); err != nil {
		t.Fatal(err)
	}
	if s.TryAcquireN(1) {
		t.Fatal("a slot after AcquireN took them all")
	}
	if err := s.AcquireN(bg, 0); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.AcquireN(bg, -1), ErrInvalidArg)
	wantStatus(t, s.Release(-1), ErrInvalidArg)
	if r := panicOf(func() { s.TryAcquireN(-1) }); r == nil {
		t.Fatal("TryAcquireN(-1) did not panic")
	}
	// A waiter wakes on a release from another goroutine.
	done := make(chan error, 1)
	go func() { done <- s.Acquire(withTimeout(t, 30*time.Second)) }()
	if err := s.Release(1); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Release(2); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Drain(); n != 2 {
		t.Fatalf("Drain took %d, want 2", n)
	}
}

func TestSemaphoreBoundsConcurrency(t *testing.T) {
	s := must[*Semaphore](t)(OpenSemaphore(syncName(t), 3))
	defer s.Close()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if err := s.Acquire(withTimeout(t, 30*time.Second)); err != nil {
					t.Error(err)
					return
				}
				raiseTo(&most, inside.Add(1))
				runtime.Gosched()
				inside.Add(-1)
				if err := s.Release(1); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	within(t, 60*time.Second, "the workers", func() bool { wg.Wait(); return true })
	if most.Load() > 3 {
		t.Fatalf("%d inside a semaphore of 3", most.Load())
	}
	if v, _ := s.Value(); v != 3 {
		t.Fatalf("Value = %d at the end, want 3", v)
	}
}

func TestBoundedSemaphore(t *testing.T) {
	name := syncName(t)
	s := must[*Semaphore](t)(OpenSemaphore(name, 1, Bounded(2)))
	defer s.Close()
	if err := s.Release(1); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s.Release(1), ErrInvalidArg) // past max: Python's ValueError
	if v, _ := s.Value(); v != 2 {
		t.Fatalf("Value = %d, want 2", v)
	}
	wantStatus(t, s.AcquireN(withTimeout(t, time.Second), 3), ErrInvalidArg)
	// Another max, or none, is another semaphore; OpenOnly takes it as it is.
	_, err := OpenSemaphore(name, 1, Bounded(3))
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenSemaphore(name, 1)
	wantStatus(t, err, ErrIncompatible)
	s2 := must[*Semaphore](t)(OpenSemaphore(name, 0, OpenOnly()))
	s2.Close()
	_, err = OpenSemaphore(syncName(t), 1, Bounded(0))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenSemaphore(syncName(t), 3, Bounded(2))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenSemaphore(syncName(t), -1)
	wantStatus(t, err, ErrInvalidArg)
}

func TestEvent(t *testing.T) {
	e := must[*Event](t)(OpenEvent(syncName(t)))
	defer e.Close()
	if set, err := e.IsSet(); err != nil || set {
		t.Fatalf("IsSet = %v, %v", set, err)
	}
	err := e.Wait(withTimeout(t, 60*time.Millisecond))
	wantStatus(t, err, ErrTimeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	// Set wakes every waiter; the value written before Set is seen after Wait.
	data := 0
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.Wait(withTimeout(t, 30*time.Second)); err != nil {
				t.Error(err)
			} else if data != 42 {
				t.Errorf("data = %d after Wait", data)
			}
		}()
	}
	data = 42
	if err := e.Set(); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "the waiters", func() bool { wg.Wait(); return true })
	if set, _ := e.IsSet(); !set {
		t.Fatal("not set")
	}
	if err := e.Wait(bg); err != nil { // set: returns at once
		t.Fatal(err)
	}
	if err := e.Clear(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- e.Wait(ctx) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled Wait did not return")
	}
}

// A bounded buffer in Go memory between goroutines, guarded by a Condition.
func TestConditionProducerConsumer(t *testing.T) {
	name := syncName(t)
	c := must[*Condition](t)(OpenCondition(name))
	defer c.Close()
	if c.LockName() != name+".lock" {
		t.Fatalf("LockName = %q", c.LockName())
	}
	const n, capacity = 200, 3
	var items []int
	ctx := withTimeout(t, 60*time.Second)
	done := make(chan error, 1)
	go func() { // consumer, its own handle
		cc, err := OpenCondition(name)
		if err != nil {
			done <- err
			return
		}
		defer cc.Close()
		for i := 0; i < n; i++ {
			if err := cc.LockContext(ctx); err != nil {
				done <- err
				return
			}
			if err := cc.WaitFor(ctx, func() bool { return len(items) > 0 }); err != nil {
				cc.Unlock()
				done <- err
				return
			}
			if items[0] != i {
				t.Errorf("took %d, want %d", items[0], i)
			}
			items = items[1:]
			err = cc.NotifyAll()
			cc.Unlock()
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < n; i++ {
		c.Lock()
		for len(items) >= capacity {
			if err := c.Wait(ctx); err != nil {
				c.Unlock()
				t.Fatal(err)
			}
		}
		items = append(items, i)
		if err := c.Notify(1); err != nil {
			t.Fatal(err)
		}
		c.Unlock()
	}
	if err := within(t, 60*time.Second, "the consumer", func() error { return <-done }); err != nil {
		t.Fatal(err)
	}
}

func TestConditionWaitTimeoutAndErrors(t *testing.T) {
	name := syncName(t)
	c := must[*Condition](t)(OpenCondition(name))
	defer c.Close()
	wantStatus(t, c.Wait(withTimeout(t, time.Second)), ErrNotOwner)
	wantStatus(t, c.Notify(1), ErrNotOwner)
	wantStatus(t, c.NotifyAll(), ErrNotOwner)
	l := openLockT(t, c.LockName())
	c.Lock()
	err := c.Wait(withTimeout(t, 80*time.Millisecond))
	wantStatus(t, err, ErrTimeout)
	if held, _ := l.Held(); !held {
		t.Fatal("the lock is not held after a timed-out Wait")
	}
	wantStatus(t, c.WaitFor(withTimeout(t, 80*time.Millisecond), func() bool { return false }), ErrTimeout)
	calls := 0
	if err := c.WaitFor(withTimeout(t, 80*time.Millisecond), func() bool { calls++; return calls > 1 }); err != nil {
		t.Fatalf("WaitFor whose predicate turned true on the last check: %v", err)
	}
	wantStatus(t, c.Notify(-1), ErrInvalidArg)
	c.Unlock()
	if locked, _ := l.Locked(); locked {
		t.Fatal("locked after Unlock")
	}
	// Bound to another lock by name.
	other := syncName(t)
	c2 := must[*Condition](t)(OpenCondition(syncName(t), WithLockName(other)))
	defer c2.Close()
	l2 := openLockT(t, other)
	c2.Lock()
	if locked, _ := l2.Locked(); !locked {
		t.Fatal("WithLockName: the named lock is not the condition's")
	}
	c2.Unlock()
}

func TestBarrier(t *testing.T) {
	name := syncName(t)
	const parties = 3
	b := must[*Barrier](t)(OpenBarrier(name, parties))
	defer b.Close()
	if p, _ := b.Parties(); p != parties {
		t.Fatalf("Parties = %d", p)
	}
	for round := 0; round < 3; round++ {
		results := make(chan int, parties)
		for i := 0; i < parties; i++ {
			go func() {
				idx, err := b.Wait(withTimeout(t, 30*time.Second))
				if err != nil {
					t.Error(err)
				}
				results <- idx
			}()
		}
		var got []int
		for i := 0; i < parties; i++ {
			got = append(got, within(t, 30*time.Second, "a party", func() int { return <-results }))
		}
		sort.Ints(got)
		if got[0] != 0 || got[1] != 1 || got[2] != 2 {
			t.Fatalf("round %d: indexes %v", round, got)
		}
	}
	_, err := OpenBarrier(name, 4)
	wantStatus(t, err, ErrIncompatible)
}

func TestBarrierTimeoutAndCancelBreakIt(t *testing.T) {
	b := must[*Barrier](t)(OpenBarrier(syncName(t), 3))
	defer b.Close()
	other := make(chan error, 1)
	go func() {
		_, err := b.Wait(withTimeout(t, 30*time.Second))
		other <- err
	}()
	// Give the first party time to arrive (bounded poll, not a sleep).
	within(t, 10*time.Second, "the first arrival", func() bool {
		for n, _ := b.NWaiting(); n < 1; n, _ = b.NWaiting() {
			time.Sleep(time.Millisecond)
		}
		return true
	})
	idx, err := b.Wait(withTimeout(t, 100*time.Millisecond))
	if idx != -1 || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out Wait = %d, %v", idx, err)
	}
	wantStatus(t, within(t, 10*time.Second, "the other party", func() error { return <-other }), ErrBroken)
	if broken, _ := b.Broken(); !broken {
		t.Fatal("not broken after a timeout")
	}
	_, err = b.Wait(bg)
	wantStatus(t, err, ErrBroken)
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	if broken, _ := b.Broken(); broken {
		t.Fatal("broken after Reset")
	}
	// Cancellation aborts too.
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() {
		_, err := b.Wait(ctx)
		done <- err
	}()
	within(t, 10*time.Second, "the arrival", func() bool {
		for n, _ := b.NWaiting(); n < 1; n, _ = b.NWaiting() {
			time.Sleep(time.Millisecond)
		}
		return true
	})
	cancel()
	err = within(t, 5*time.Second, "the cancelled Wait", func() error { return <-done })
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if broken, _ := b.Broken(); !broken {
		t.Fatal("not broken after a cancelled Wait")
	}
	if err := b.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	_, err = b.Wait(bg)
	wantStatus(t, err, ErrBroken)
}

func TestSyncUseAfterClose(t *testing.T) {
	name := syncName(t)
	l := must[*Lock](t)(OpenLock(name))
	r := must[*RLock](t)(OpenRLock(syncName(t)))
	s := must[*Semaphore](t)(OpenSemaphore(syncName(t), 1))
	e := must[*Event](t)(OpenEvent(syncName(t)))
	c := must[*Condition](t)(OpenCondition(syncName(t)))
	b := must[*Barrier](t)(OpenBarrier(syncName(t), 2))
	for _, closer := range []interface{ Close() error }{l, r, s, e, c, b} {
		if err := closer.Close(); err != nil {
			t.Fatal(err)
		}
		if err := closer.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
	}
	closed := func(err error) {
		t.Helper()
		if !errors.Is(err, ErrHandleClosed) || !errors.Is(err, ErrInvalidArg) {
			t.Fatalf("after Close: %v", err)
		}
	}
	closed(l.LockContext(bg))
	_, err := l.Locked()
	closed(err)
	closed(l.Release())
	if r := panicOf(l.Lock); r == nil {
		t.Fatal("Lock after Close did not panic")
	} else if e, ok := r.(error); !ok || !errors.Is(e, ErrHandleClosed) {
		t.Fatalf("Lock after Close panicked with %v", r)
	}
	if r := panicOf(func() { l.TryLock() }); r == nil {
		t.Fatal("TryLock after Close did not panic")
	}
	if r := panicOf(l.Unlock); r == nil {
		t.Fatal("Unlock after Close did not panic")
	}
	_, err = l.Stat()
	closed(err)
	closed(r.LockContext(bg))
	_, err = r.Held()
	closed(err)
	closed(s.Acquire(bg))
	closed(s.Release(1))
	_, err = s.Value()
	closed(err)
	closed(e.Set())
	closed(e.Wait(bg))
	_, err = e.IsSet()
	closed(err)
	closed(c.LockContext(bg))
	closed(c.Notify(1))
	closed(c.Wait(bg))
	_, err = b.Wait(bg)
	closed(err)
	closed(b.Abort())
	_, err = b.Broken()
	closed(err)
}

func TestSyncBadInput(t *testing.T) {
	name := syncName(t)
	for _, bad := range []string{"", "nul\x00name", "a/b", strings.Repeat("x", 300)} {
		if _, err := OpenLock(bad); !errors.Is(err, ErrInvalidArg) {
			t.Errorf("OpenLock(%q): %v", bad, err)
		}
		if _, err := OpenEvent(bad); !errors.Is(err, ErrInvalidArg) {
			t.Errorf("OpenEvent(%q): %v", bad, err)
		}
	}
	_, err := OpenCondition(name, WithLockName("nul\x00"))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenLock(name, WithCapacity(10))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenLock(name, Joinable())
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenEvent(name, Bounded(2))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenLock(name, WithLockName("x"))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenQueue(name, Bounded(2))
	wantStatus(t, err, ErrInvalidArg)
	for _, p := range []int{-1, 0, 257} {
		_, err = OpenBarrier(name, p)
		wantStatus(t, err, ErrInvalidArg)
	}
	_, err = OpenLock(name, OpenOnly())
	wantStatus(t, err, ErrNotFound)
	e := must[*Event](t)(OpenEvent(name, CreateOnly()))
	defer e.Close()
	_, err = OpenEvent(name, CreateOnly())
	wantStatus(t, err, ErrExists)
	// Another kind under the name.
	_, err = OpenLock(name)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenSemaphore(name, 1)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenBarrier(name, 2)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenQueue(name)
	wantStatus(t, err, ErrIncompatible)
}
