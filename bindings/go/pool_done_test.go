package polyipc

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

// watching reports whether p's goroutine that receives results for Done runs.
func watching(p *Pool) bool {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	return p.watching
}

// waitDone fails the test unless f's Done closes within d.
func waitDone(t *testing.T, f *Future, d time.Duration) {
	t.Helper()
	select {
	case <-f.Done():
	case <-time.After(d):
		t.Fatalf("task %d: Done did not close within %v", f.ID(), d)
	}
}

// waitNotWatching fails the test unless p's receiving goroutine ends within d.
func waitNotWatching(t *testing.T, p *Pool, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for watching(p) {
		if time.Now().After(end) {
			t.Fatalf("the goroutine receiving results for Done still runs after %v", d)
		}
		time.Sleep(time.Millisecond) // polling a state of another goroutine, bounded
	}
}

// Done closes with no goroutine in Wait: a select on it is enough, for
// results computed by a worker in another process.
func TestPoolDoneClosesWithNobodyWaiting(t *testing.T) {
	p := openPool(t)
	worker, out := child(t, "pool-serve", p.Name())
	futures := make([]*Future, 500)
	for i := range futures {
		futures[i] = submit(t, p, "add", []int{i, 1})
	}
	for i := len(futures) - 1; i >= 0; i-- { // the last first: the others come meanwhile
		waitDone(t, futures[i], 60*time.Second)
	}
	for i, f := range futures {
		r, err := f.Wait(bg) // at once: the result is here
		if err != nil || string(r) != strconv.Itoa(i+1) {
			t.Fatalf("task %d: %s, %v", i, r, err)
		}
	}
	waitNotWatching(t, p, 10*time.Second)

	// A failed task's Done closes too; the receiving goroutine starts again.
	failed := submit(t, p, "fail", "why")
	waitDone(t, failed, 30*time.Second)
	var te *TaskError
	if _, err := failed.Wait(bg); !errors.As(err, &te) || te.Message != "why" {
		t.Fatalf("failed task: %v", err)
	}
	waitNotWatching(t, p, 10*time.Second)

	if err := p.CloseTasks(); err != nil {
		t.Fatal(err)
	}
	if line := readLine(t, out, 30*time.Second); line != "served 501" {
		t.Fatalf("worker said %q", line)
	}
	if err := waitChild(t, worker, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Next(bg); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Next after every result: %v", err)
	}
}

// Close ends the Futures still pending: Done closes, Wait and Cancel say
// ErrHandleClosed, and the receiving goroutine ends.
func TestPoolDoneClosesWhenTheHandleCloses(t *testing.T) {
	p := openPool(t)
	pending := submit(t, p, "nobody-serves", 1)
	ch := pending.Done()
	if !watching(p) {
		t.Fatal("Done of a pending Future started nothing to receive its result")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Done stayed open after Close")
	}
	if _, err := pending.Wait(bg); !errors.Is(err, ErrHandleClosed) || !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Wait after Close: %v", err)
	}
	if ok, err := pending.Cancel(); ok || !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Cancel after Close: %v, %v", ok, err)
	}
	waitNotWatching(t, p, 10*time.Second)
}

// Done and Cancel: the cancelled Future's Done closes.
func TestPoolDoneOfACancelledTask(t *testing.T) {
	p := openPool(t)
	f := submit(t, p, "nobody-serves", 1)
	ch := f.Done()
	if !cancelNow(t, f) {
		t.Fatal("a task no worker took was not cancelled")
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Done of a cancelled task stayed open")
	}
	wantCancelled(t, f)
	waitNotWatching(t, p, 10*time.Second)
}

// Goroutines in Wait and a select on Done for the same Futures, and a Next
// of our own: every result reaches its Future once, nothing is lost.
func TestPoolDoneWaitAndNextShareResults(t *testing.T) {
	p := openPool(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- p.Serve(ctx, testHandlers()) }()
	const n = 300
	futures := make([]*Future, n)
	for i := range futures {
		futures[i] = submit(t, p, "add", []int{i, i})
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for k := 0; k < 3; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i := k; i < n; i += 3 {
				if r, err := futures[i].Wait(withTimeout(t, 60*time.Second)); err != nil || string(r) != strconv.Itoa(2*i) {
					errs <- errors.New("task " + strconv.Itoa(i) + ": " + string(r))
				}
			}
		}(k)
	}
	for _, f := range futures {
		waitDone(t, f, 60*time.Second)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := p.Next(bg); !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("Next after every result: %v", err)
	}
	waitNotWatching(t, p, 10*time.Second)
	cancel()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// A result that a Wait took just before Close still reaches its Future:
// Close waits for the hand-over, and ends with ErrHandleClosed only the
// Futures whose result had not come.
func TestPoolResultTakenBeforeCloseIsNotLost(t *testing.T) {
	p := openPool(t)
	worker := must[*Pool](t)(OpenPool(p.Name()))
	t.Cleanup(func() { _ = worker.Close() })
	taken := submit(t, p, "f", 5)
	other := submit(t, p, "f", 6)
	task := takeNow(t, worker)
	if task.ID() != taken.ID() {
		t.Fatalf("took task %d, want %d", task.ID(), taken.ID())
	}
	took, release := make(chan struct{}), make(chan struct{})
	beforeHandOver = func() { close(took); <-release }
	t.Cleanup(func() { beforeHandOver = nil })
	if err := task.Finish(25); err != nil {
		t.Fatal(err)
	}
	var got []byte
	waited := make(chan error, 1)
	go func() {
		r, err := taken.Wait(bg)
		got = r
		waited <- err
	}()
	select {
	case <-took:
	case <-time.After(30 * time.Second):
		t.Fatal("Wait took no result within 30 s")
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	// Let the hand-over go on once Close has released the native handle (it
	// then waits for the hand-over), or once Close returned without waiting.
	end := time.Now().Add(30 * time.Second)
	for len(closed) == 0 {
		if p.s.mu.TryRLock() {
			open := p.s.open
			p.s.mu.RUnlock()
			if !open {
				break
			}
		}
		if time.Now().After(end) {
			close(release)
			t.Fatal("Close neither released the handle nor returned within 30 s")
		}
		time.Sleep(time.Millisecond) // polling another goroutine's state, bounded
	}
	close(release)
	if err := <-waited; err != nil || string(got) != "25" {
		t.Fatalf("Wait of the result taken before Close: %s, %v", got, err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := other.Wait(bg); !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Wait of a result that never came: %v", err)
	}
}
