package polyipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// threadCount is this process's number of OS threads.
func threadCount() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	return -1
}

const waitersPerKind = 100

// helperManyWaiters (child): 100 goroutines wait in Get on the queue, 100 in
// Recv on end B of the pipe, 100 in Acquire on the semaphore, 100 in Wait
// on the event, 100 in Put on the full queue and 100 in Send on end B, whose
// direction is full. It prints "waiting <threads before> <most threads seen
// over 300 ms>", then, once every goroutine has what it waited for, "got
// <distinct messages> <distinct pipe messages> <slots> <events> <puts>
// <sends>". A fresh process: no idle threads of other tests.
func helperManyWaiters(name string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	q, err := OpenQueue(name+".q", OpenOnly())
	if err != nil {
		return helperFail("open queue", err)
	}
	b, err := OpenConn(name+".p", EndB, OpenOnly())
	if err != nil {
		return helperFail("open pipe", err)
	}
	sem, err := OpenSemaphore(name+".s", 0, OpenOnly())
	if err != nil {
		return helperFail("open semaphore", err)
	}
	ev, err := OpenEvent(name+".e", OpenOnly())
	if err != nil {
		return helperFail("open event", err)
	}
	full, err := OpenQueue(name+".f", OpenOnly())
	if err != nil {
		return helperFail("open full queue", err)
	}
	before := threadCount()
	var started, failed atomic.Int64
	var mu sync.Mutex
	got := map[string]map[string]bool{"queue": {}, "pipe": {}}
	var slots, events, puts, sends atomic.Int64
	var wg sync.WaitGroup
	// wait runs f in a goroutine that counts itself started first, then
	// counts a success in *ok (may be nil), or reports the failure.
	wait := func(kind string, ok *atomic.Int64, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			if err := f(); err != nil {
				fmt.Fprintf(os.Stderr, "helper %s: %v\n", kind, err)
				failed.Add(1)
			} else if ok != nil {
				ok.Add(1)
			}
		}()
	}
	// take notes each distinct message that get returns.
	take := func(kind string, get func(context.Context) ([]byte, error)) func() error {
		return func() error {
			msg, err := get(ctx)
			if err == nil {
				mu.Lock()
				got[kind][string(msg)] = true
				mu.Unlock()
			}
			return err
		}
	}
	for i := 0; i < waitersPerKind; i++ {
		wait("queue", nil, take("queue", q.Get))
		wait("pipe", nil, take("pipe", b.Recv))
		wait("semaphore", &slots, func() error { return sem.Acquire(ctx) })
		wait("event", &events, func() error { return ev.Wait(ctx) })
		wait("put", &puts, func() error { return full.Put(ctx, []byte("p")) })
		wait("send", &sends, func() error { return b.Send(ctx, []byte("s")) })
	}
	for started.Load() < 6*waitersPerKind && ctx.Err() == nil {
		runtime.Gosched()
	}
	// Threads are made as goroutines block in native calls: watch for 300 ms.
	most := before
	for i := 0; i < 60; i++ {
		most = max(most, threadCount())
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Printf("waiting %d %d\n", before, most)
	wg.Wait()
	if failed.Load() > 0 {
		return 1
	}
	fmt.Printf("got %d %d %d %d %d %d\n", len(got["queue"]), len(got["pipe"]), slots.Load(), events.Load(), puts.Load(),
		sends.Load())
	return 0
}

func init() { syncHelpers["many-waiters"] = helperManyWaiters }

// 600 goroutines of one process waiting in Get, Recv, Acquire, Event.Wait,
// Put and Send held ~600 OS threads (a native call holds its thread); with a turn
// per handle they hold a few, and each still gets what it waited for: an
// Event set and cleared at once included.
func TestGoroutinesWaitingOnOneHandleHoldOneThread(t *testing.T) {
	name := queueName(t) // the three objects are named after it
	q, err := OpenQueue(name+".q", WithFormat(Bytes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close(); _ = Unlink(name + ".q") })
	a, b, err := OpenPipe(name+".p", WithFormat(Bytes), WithCapacity(4096))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close(); _ = Unlink(name + ".p") })
	filled := 0 // end B's direction, full before the child's Sends
	for ; ; filled++ {
		if err := b.TrySend([]byte("f")); errors.Is(err, ErrFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	sem, err := OpenSemaphore(name+".s", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sem.Close(); _ = Unlink(name + ".s") })
	ev, err := OpenEvent(name + ".e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ev.Close(); _ = Unlink(name + ".e") })
	full, err := OpenQueue(name+".f", WithFormat(Bytes), WithMaxItems(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = full.Close(); _ = Unlink(name + ".f") })
	if err := full.TryPut([]byte("first")); err != nil {
		t.Fatal(err)
	}

	cmd, out := child(t, "many-waiters", name)
	var before, most int
	line := readLine(t, out, 30*time.Second)
	if _, err := fmt.Sscanf(line, "waiting %d %d", &before, &most); err != nil {
		t.Fatalf("child said %q", line)
	}
	// The runtime's own threads come and go a little; 600 waiters without a
	// turn made ~600 more.
	t.Logf("threads: %d before the waiters, at most %d while they waited", before, most)
	if most-before > 20 {
		t.Errorf("600 goroutines waiting on six handles: %d threads, %d before", most, before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < waitersPerKind; i++ {
		msg := []byte(fmt.Sprint("m", i))
		if err := q.Put(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if err := a.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := sem.Release(waitersPerKind); err != nil {
		t.Fatal(err)
	}
	if err := ev.Set(); err != nil { // and cleared at once: every waiter counts it
		t.Fatal(err)
	}
	if err := ev.Clear(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= waitersPerKind; i++ { // the first message, then each waiter's
		if _, err := full.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < filled+waitersPerKind; i++ {
		if _, err := a.Recv(ctx); err != nil {
			t.Fatal(err)
		}
	}
	line = readLine(t, out, 30*time.Second)
	n := waitersPerKind
	want := fmt.Sprintf("got %d %d %d %d %d %d", n, n, n, n, n, n)
	if line != want {
		t.Errorf("child said %q, want %q", line, want)
	}
	if err := within(t, 30*time.Second, "the child's exit", cmd.Wait); err != nil {
		t.Errorf("child: %v", err)
	}
	if n, _ := q.Size(); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
}

// waitForTurnHolder returns once a goroutine of q holds its get turn.
func waitForTurnHolder(t *testing.T, q *Queue) {
	t.Helper()
	within(t, 10*time.Second, "a goroutine in Get", func() bool {
		for !q.getTurn.held() {
			runtime.Gosched()
		}
		return true
	})
}

// A goroutine waiting for the turn ends as soon as its context is cancelled,
// takes nothing, and the goroutine that holds the turn gets the message.
func TestGetCancelledWhileAnotherHoldsTheTurn(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	first := make(chan []byte, 1)
	go func() {
		msg, err := q.Get(context.Background())
		if err != nil {
			t.Error(err)
		}
		first <- msg
	}()
	waitForTurnHolder(t, q)
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := q.Get(ctx)
		second <- err
	}()
	cancel()
	err := within(t, 10*time.Second, "the cancelled Get", func() error { return <-second })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Get: %v", err)
	}
	if err := q.Put(context.Background(), []byte("one")); err != nil {
		t.Fatal(err)
	}
	if msg := within(t, 10*time.Second, "the first Get", func() []byte { return <-first }); string(msg) != "one" {
		t.Fatalf("the first Get took %q", msg)
	}
}

// While one goroutine holds the turn, another takes a message that is there
// without waiting for it; and the end of the stream reaches every goroutine
// waiting for the turn.
func TestGetWaitersBehindTheTurn(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	other, err := OpenQueue(q.Name(), OpenOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	endWaitersInGet(t, q, "CloseWrites", other.CloseWrites, ErrClosed)
}

// endWaitersInGet starts 20 goroutines waiting in Get on q, runs end once
// one of them holds the turn, and checks that every one returns an error
// matching want.
func endWaitersInGet(t *testing.T, q *Queue, what string, end func() error, want error) {
	t.Helper()
	const waiters = 20
	errs := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			_, err := q.Get(context.Background())
			errs <- err
		}()
	}
	waitForTurnHolder(t, q)
	if err := end(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < waiters; i++ {
		err := within(t, 10*time.Second, "a Get after "+what, func() error { return <-errs })
		if !errors.Is(err, want) {
			t.Fatalf("Get %d after %s: %v", i, what, err)
		}
	}
}

// A message already in the queue is taken at once by a goroutine that finds
// the turn held (the holder is waiting in a native Get with a long slice).
func TestGetTakesAWaitingMessageWithoutTheTurn(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	q.getTurn.tryTake() // as if a goroutine were waiting in a native get
	defer q.getTurn.give()
	other, err := OpenQueue(q.Name(), OpenOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Put(context.Background(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		msg []byte
		err error
	}
	r := within(t, 10*time.Second, "Get", func() result {
		msg, err := q.Get(context.Background())
		return result{msg, err}
	})
	if r.err != nil || string(r.msg) != "x" {
		t.Fatalf("Get with the turn held: %q, %v", r.msg, r.err)
	}
}

// The turn alone: goroutines that take it (some with contexts that end while
// they wait) hold it one at a time, and every one gets it or its context's
// error, with nothing left waiting.
func TestTurnIsHeldByOneGoroutineAtATime(t *testing.T) {
	var tn turn
	var holders, most atomic.Int32
	var took, gaveUp atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if (g+i)%3 == 0 {
					ctx, cancel = context.WithCancel(context.Background())
					if i%2 == 0 {
						cancel() // before or while it waits
					} else {
						go cancel()
					}
				}
				if !tn.tryTake() {
					if err := tn.take(ctx); err != nil {
						gaveUp.Add(1)
						cancel()
						continue
					}
				}
				raiseTo(&most, holders.Add(1))
				runtime.Gosched()
				holders.Add(-1)
				took.Add(1)
				tn.give()
				cancel()
			}
		}()
	}
	within(t, 60*time.Second, "every goroutine", func() bool { wg.Wait(); return true })
	if most.Load() != 1 {
		t.Errorf("%d goroutines held the turn at once", most.Load())
	}
	if took.Load()+gaveUp.Load() != 16*2000 || took.Load() == 0 {
		t.Errorf("took %d, gave up %d", took.Load(), gaveUp.Load())
	}
	if tn.held() || len(tn.waiters) != 0 {
		t.Errorf("left: state %d, %d waiters", tn.state.Load(), len(tn.waiters))
	}
	t.Logf("took %d times, gave up %d times", took.Load(), gaveUp.Load())
}

// A wait that panics in the turn gives it back: later waiters of the handle
// are not left waiting for it.
func TestTurnIsGivenBackWhenTheWaitPanics(t *testing.T) {
	var tn turn
	func() {
		defer func() { _ = recover() }()
		_ = inTurn(context.Background(), &tn, func() error { return nil },
			func() (bool, error) { panic("in the native call") }, func(err error) error { return err })
	}()
	if tn.held() {
		t.Fatal("the turn stayed held after a panic")
	}
}

// Closing the handle ends every goroutine waiting in Get, the one in the
// native call and those waiting for the turn, with ErrHandleClosed.
func TestCloseEndsTheGoroutinesWaitingForTheTurn(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	endWaitersInGet(t, q, "Close", q.Close, ErrHandleClosed)
}

// A small message goes in while a large one, which came first and holds
// the put turn, still waits for room: the holder hands the turn on.
func TestPutOfASmallMessageIsNotHeldUpByALargeOne(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(4096))
	small := make([]byte, 16)
	for {
		if err := q.TryPut(small); errors.Is(err, ErrFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	large := make(chan error, 1)
	go func() { large <- q.Put(context.Background(), make([]byte, 2000)) }()
	within(t, 10*time.Second, "the large Put in the turn", func() bool {
		for !q.putTurn.held() {
			runtime.Gosched()
		}
		return true
	})
	smallDone := make(chan error, 1)
	go func() { smallDone <- q.Put(context.Background(), small) }()
	within(t, 10*time.Second, "the small Put behind the turn", func() bool {
		for !q.putTurn.wanted() {
			runtime.Gosched()
		}
		return true
	})
	for i := 0; i < 3; i++ { // room for the small message, not the large one
		if _, err := q.Get(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := within(t, 10*time.Second, "the small Put", func() error { return <-smallDone }); err != nil {
		t.Fatalf("small Put: %v", err)
	}
	select {
	case err := <-large:
		t.Fatalf("the large Put ended with no room for it: %v", err)
	default:
	}
	for {
		if _, err := q.TryGet(); errors.Is(err, ErrEmpty) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if err := within(t, 10*time.Second, "the large Put", func() error { return <-large }); err != nil {
		t.Fatalf("large Put: %v", err)
	}
}
