package polyipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// watched is what Dict and List share for watching.
type watched interface {
	Name() string
	Version() (uint64, error)
	WaitChange(ctx context.Context, seen uint64) (uint64, error)
	Close() error
}

// watchKind is one of the two watched kinds: how to open one and make a
// change to it.
type watchKind struct {
	name   string
	open   func(t *testing.T) watched
	change func(t *testing.T, w watched, v int)
}

var watchKinds = []watchKind{
	{"dict",
		func(t *testing.T) watched { return openDict(t) },
		func(t *testing.T, w watched, v int) { mustSet(t, w.(*Dict), "k", v) }},
	{"list",
		func(t *testing.T) watched { return openList(t) },
		func(t *testing.T, w watched, v int) {
			t.Helper()
			if err := w.(*List).Append(v); err != nil {
				t.Fatal(err)
			}
		}},
}

func forEachWatchKind(t *testing.T, f func(t *testing.T, k watchKind)) {
	for _, k := range watchKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k) })
	}
}

func wantVersion(t *testing.T, w watched, want uint64, after string) {
	t.Helper()
	v, err := w.Version()
	if err != nil {
		t.Fatalf("Version after %s: %v", after, err)
	}
	if v != want {
		t.Fatalf("Version after %s = %d, want %d", after, v, want)
	}
}

func TestDictVersionCountsChanges(t *testing.T) {
	d := openDict(t)
	wantVersion(t, d, 0, "open")
	mustSet(t, d, "a", 1)
	wantVersion(t, d, 1, "Set")
	mustSet(t, d, "a", 1) // the same value again: still a set
	wantVersion(t, d, 2, "Set of the same value")
	if err := d.SetJSON("b", []byte(`{"x": 1}`)); err != nil {
		t.Fatal(err)
	}
	wantVersion(t, d, 3, "SetJSON")
	// Reads change nothing.
	var a int
	if _, err := d.Get("a", &a); err != nil {
		t.Fatal(err)
	}
	_, _, _ = d.GetJSON("missing")
	_, _ = d.Contains("a")
	_, _ = d.Len()
	_, _ = d.Keys()
	_, _ = d.Items()
	_, _ = d.ItemsJSON()
	_, _ = d.Stat()
	wantVersion(t, d, 3, "reads")
	// Misses change nothing.
	if ok, err := d.Delete("missing"); err != nil || ok {
		t.Fatalf("Delete(missing) = %v, %v", ok, err)
	}
	wantVersion(t, d, 3, "Delete of a missing key")
	wantSwap(t, d, "a", 2, 3, false)
	wantVersion(t, d, 3, "a CompareAndSet that did not swap")
	if ok, err := d.SetIfAbsent("a", 9); err != nil || ok {
		t.Fatalf("SetIfAbsent(a) = %v, %v", ok, err)
	}
	wantVersion(t, d, 3, "a SetIfAbsent of a present key")
	wantStatus(t, d.SetJSON("c", []byte("{not json")), StatusInvalidJSON)
	wantVersion(t, d, 3, "a refused SetJSON")
	// Changes count one each.
	wantSwap(t, d, "a", 1, 2, true)
	wantVersion(t, d, 4, "a CompareAndSet that swapped")
	if ok, err := d.Delete("a"); err != nil || !ok {
		t.Fatalf("Delete(a) = %v, %v", ok, err)
	}
	wantVersion(t, d, 5, "Delete of a present key")
	if err := d.Clear(); err != nil {
		t.Fatal(err)
	}
	wantVersion(t, d, 6, "Clear")

	// Another handle (as another process would) sees the same version.
	other := must[*Dict](t)(OpenDict(d.Name(), OpenOnly()))
	defer other.Close()
	wantVersion(t, other, 6, "opening another handle")
	mustSet(t, other, "z", 0)
	wantVersion(t, d, 7, "a Set through another handle")
}

func TestListVersionCountsChanges(t *testing.T) {
	l := openList(t)
	wantVersion(t, l, 0, "open")
	for i, step := range []struct {
		what string
		f    func() error
	}{
		{"Append", func() error { return l.Append(1) }},
		{"AppendJSON", func() error { return l.AppendJSON([]byte("2")) }},
		{"Insert", func() error { return l.Insert(0, 0) }},
		{"Set", func() error { return l.Set(1, "one") }},
		{"Pop", func() error { var v int; return l.Pop(-1, &v) }},
		{"PopJSON", func() error { _, err := l.PopJSON(0); return err }},
		{"Clear", l.Clear},
	} {
		if err := step.f(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		wantVersion(t, l, uint64(i+1), step.what)
	}
	const v = 7
	// Reads and misses change nothing.
	var x int
	wantStatus(t, l.Pop(-1, &x), StatusEmpty)
	wantVersion(t, l, v, "a Pop of an empty list")
	if err := l.Append(5); err != nil {
		t.Fatal(err)
	}
	_ = l.Get(0, &x)
	_, _ = l.GetJSON(-1)
	_, _ = l.Len()
	_, _ = l.Items()
	_, _ = l.ItemsJSON()
	_, _ = l.Stat()
	wantVersion(t, l, v+1, "reads")
	wantStatus(t, l.Get(5, &x), StatusOutOfRange)
	wantStatus(t, l.Set(5, 1), StatusOutOfRange)
	wantVersion(t, l, v+1, "an index out of range")
	wantStatus(t, l.AppendJSON([]byte("{not json")), StatusInvalidJSON)
	wantVersion(t, l, v+1, "a refused AppendJSON")
}

// A wait with no change ends at ctx's deadline, as Event.Wait does, and
// returns the seen version; one from another version returns at once.
func TestWatchTimesOutAndReturnsAtOnce(t *testing.T) {
	forEachWatchKind(t, func(t *testing.T, k watchKind) {
		w := k.open(t)
		k.change(t, w, 1)
		v := must[uint64](t)(w.Version())

		start := time.Now()
		got, err := w.WaitChange(withTimeout(t, 120*time.Millisecond), v)
		wantStatus(t, err, ErrTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v does not match context.DeadlineExceeded", err)
		}
		if got != v {
			t.Fatalf("a timed-out WaitChange returned %d, want the seen %d", got, v)
		}
		if el := time.Since(start); el < 100*time.Millisecond {
			t.Fatalf("WaitChange timed out after %v, before the deadline", el)
		}
		// A ctx already past its deadline: ErrTimeout at once.
		expired, cancel := context.WithTimeout(bg, 0)
		defer cancel()
		got, err = w.WaitChange(expired, v)
		wantStatus(t, err, ErrTimeout)
		if got != v {
			t.Fatalf("WaitChange(expired) returned %d", got)
		}

		// From an older (or any other) version: at once, whatever the timeout.
		for _, seen := range []uint64{0, v - 1, v + 100} {
			got := within(t, 10*time.Second, "WaitChange from another version", func() uint64 {
				got, err := w.WaitChange(withTimeout(t, time.Hour), seen)
				if err != nil {
					t.Error(err)
				}
				return got
			})
			if got != v {
				t.Fatalf("WaitChange(%d) = %d, want %d", seen, got, v)
			}
		}
		got = within(t, 10*time.Second, "WaitChange with no deadline", func() uint64 {
			got, _ := w.WaitChange(bg, v-1)
			return got
		})
		if got != v {
			t.Fatalf("WaitChange(bg, %d) = %d, want %d", v-1, got, v)
		}
		// A change from this process wakes a waiter on another goroutine.
		started := make(chan struct{})
		done := make(chan uint64, 1)
		go func() {
			close(started)
			got, err := w.WaitChange(withTimeout(t, time.Minute), v)
			if err != nil {
				t.Error(err)
			}
			done <- got
		}()
		<-started
		k.change(t, w, 2)
		select {
		case got := <-done:
			if got != v+1 {
				t.Fatalf("woken with version %d, want %d", got, v+1)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a change did not wake the waiter")
		}
	})
}

// Cancelling ctx ends a blocked wait within about a slice (50 ms), with
// ctx's error, as Event.Wait does; so does a Close, with ErrHandleClosed.
func TestWatchCancelAndCloseEndABlockedWait(t *testing.T) {
	forEachWatchKind(t, func(t *testing.T, k watchKind) {
		w := k.open(t)
		v := must[uint64](t)(w.Version())
		ctx, cancel := context.WithCancel(bg)
		type result struct {
			v   uint64
			err error
		}
		done := make(chan result, 1)
		started := make(chan struct{})
		go func() {
			close(started)
			got, err := w.WaitChange(ctx, v)
			done <- result{got, err}
		}()
		<-started
		// Not a synchronisation: the wait is right whether or not it is
		// inside a native slice yet; a slice in flight makes it more telling.
		time.Sleep(120 * time.Millisecond)
		cancelled := time.Now()
		cancel()
		select {
		case r := <-done:
			took := time.Since(cancelled)
			if !errors.Is(r.err, context.Canceled) || errors.Is(r.err, ErrTimeout) {
				t.Fatalf("a cancelled WaitChange: %v", r.err)
			}
			if r.v != v {
				t.Fatalf("a cancelled WaitChange returned %d, want %d", r.v, v)
			}
			if took > 2*time.Second {
				t.Fatalf("a cancelled WaitChange returned %v after the cancel", took)
			}
			t.Logf("returned %v after the cancel", took)
		case <-time.After(10 * time.Second):
			t.Fatal("a cancelled WaitChange did not return")
		}
		// A ctx cancelled before: at once, ctx's error.
		got, err := w.WaitChange(ctx, v)
		if !errors.Is(err, context.Canceled) || got != v {
			t.Fatalf("WaitChange(cancelled ctx) = %d, %v", got, err)
		}

		// Close on another goroutine ends the wait with ErrHandleClosed.
		go func() {
			got, err := w.WaitChange(withTimeout(t, time.Minute), v)
			done <- result{got, err}
		}()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			if !errors.Is(r.err, ErrHandleClosed) {
				t.Fatalf("WaitChange ended by Close: %v", r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end a WaitChange")
		}
	})
}

func TestWatchUseAfterClose(t *testing.T) {
	forEachWatchKind(t, func(t *testing.T, k watchKind) {
		w := k.open(t)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		closed := func(err error) {
			t.Helper()
			wantStatus(t, err, StatusInvalidArg)
			if !errors.Is(err, ErrHandleClosed) {
				t.Fatalf("%v does not match ErrHandleClosed", err)
			}
		}
		_, err := w.Version()
		closed(err)
		got, err := w.WaitChange(withTimeout(t, time.Minute), 3)
		closed(err)
		if got != 3 {
			t.Fatalf("WaitChange after Close returned %d", got)
		}
		_, err = w.WaitChange(bg, 0)
		closed(err)
	})
}

// ---- across processes --------------------------------------------------------

func init() {
	syncHelpers["watch-write"] = helperWatchWrite
	syncHelpers["watch-ping-pong"] = helperWatchPingPong
}

// openWatched opens the dict or list (POLYIPC_GO_TEST_KIND) name in a child.
func openWatched(name string) (watched, error) {
	if os.Getenv("POLYIPC_GO_TEST_KIND") == "list" {
		return OpenList(name, OpenOnly())
	}
	return OpenDict(name, OpenOnly())
}

// Says "ready", waits for the event "<name>.go", then changes the dict (sets
// "from-child") or list (appends) once and says "wrote".
func helperWatchWrite(name string) int {
	w, err := openWatched(name)
	if err != nil {
		return helperFail("open", err)
	}
	defer w.Close()
	goEvent, err := OpenEvent(name+".go", OpenOnly())
	if err != nil {
		return helperFail("open event", err)
	}
	defer goEvent.Close()
	fmt.Println("ready")
	ctx, cancel := helperCtx()
	defer cancel()
	if err := goEvent.Wait(ctx); err != nil {
		return helperFail("wait", err)
	}
	switch w := w.(type) {
	case *Dict:
		err = w.Set("from-child", os.Getpid())
	case *List:
		err = w.Append(os.Getpid())
	}
	if err != nil {
		return helperFail("change", err)
	}
	fmt.Println("wrote")
	return 0
}

// awaitChange waits (read the version, check, wait from that version) until
// done() holds.
func awaitChange(ctx context.Context, w watched, done func() (bool, error)) error {
	for {
		v, err := w.Version()
		if err != nil {
			return err
		}
		if ok, err := done(); err != nil || ok {
			return err
		}
		if _, err := w.WaitChange(ctx, v); err != nil {
			return err
		}
	}
}

// pingPongStep is round i of a ping-pong: the writer's change, and what the
// other side waits for.
func pingPong(w watched, parent bool) (write func(i int) error, seen func(i int) (bool, error)) {
	switch w := w.(type) {
	case *Dict:
		mine, theirs := "pong", "ping"
		if parent {
			mine, theirs = theirs, mine
		}
		write = func(i int) error { return w.Set(mine, i) }
		seen = func(i int) (bool, error) {
			var got int
			ok, err := w.Get(theirs, &got)
			return ok && got == i, err
		}
	case *List: // the parent appends the odd values, the child the even ones
		write = func(i int) error { return w.Append(i) }
		seen = func(i int) (bool, error) {
			n, err := w.Len()
			if parent {
				return n >= 2*i, err
			}
			return n >= 2*i-1, err
		}
	}
	return write, seen
}

// For i = 1..COUNT: waits (WaitChange, no polling) for the parent's i-th
// change, then answers with its own; says "done".
func helperWatchPingPong(name string) int {
	w, err := openWatched(name)
	if err != nil {
		return helperFail("open", err)
	}
	defer w.Close()
	fmt.Println("ready")
	ctx, cancel := helperCtx()
	defer cancel()
	write, seen := pingPong(w, false)
	for i := 1; i <= helperCount(); i++ {
		if err := awaitChange(ctx, w, func() (bool, error) { return seen(i) }); err != nil {
			return helperFail(fmt.Sprintf("await round %d", i), err)
		}
		if err := write(i); err != nil {
			return helperFail("write", err)
		}
	}
	fmt.Println("done")
	return 0
}

// A change made by another process wakes a waiter blocked with a long
// timeout: when the child writes after the parent started waiting, and when
// it wrote before (between the parent's Version and WaitChange).
func TestWatchChangeByAnotherProcess(t *testing.T) {
	forEachWatchKind(t, func(t *testing.T, k watchKind) {
		for _, childFirst := range []bool{false, true} {
			t.Run(map[bool]string{false: "while-waiting", true: "before-waiting"}[childFirst], func(t *testing.T) {
				w := k.open(t)
				goEvent := must[*Event](t)(OpenEvent(w.Name() + ".go"))
				defer goEvent.Close()
				t.Cleanup(func() { _ = Unlink(w.Name() + ".go") })
				cmd, out := child(t, "watch-write", w.Name(), "POLYIPC_GO_TEST_KIND="+k.name)
				if line := readLine(t, out, 30*time.Second); line != "ready" {
					t.Fatalf("child said %q", line)
				}
				v := must[uint64](t)(w.Version())
				ctx := withTimeout(t, time.Hour) // the long timeout: the change must end it
				type result struct {
					v   uint64
					err error
				}
				done := make(chan result, 1)
				wait := func() {
					got, err := w.WaitChange(ctx, v)
					done <- result{got, err}
				}
				if childFirst {
					if err := goEvent.Set(); err != nil {
						t.Fatal(err)
					}
					if line := readLine(t, out, 30*time.Second); line != "wrote" {
						t.Fatalf("child said %q", line)
					}
					go wait()
				} else {
					started := make(chan struct{})
					go func() { close(started); wait() }()
					<-started
					if err := goEvent.Set(); err != nil { // the child writes once woken
						t.Fatal(err)
					}
				}
				start := time.Now()
				select {
				case r := <-done:
					if r.err != nil {
						t.Fatal(r.err)
					}
					if r.v != v+1 {
						t.Fatalf("woken with version %d, want %d", r.v, v+1)
					}
					t.Logf("woken %v after the go-ahead", time.Since(start))
				case <-time.After(30 * time.Second):
					t.Fatal("the child's change did not wake the waiter")
				}
				// What the child wrote is there to read.
				switch w := w.(type) {
				case *Dict:
					var pid int
					if ok, err := w.Get("from-child", &pid); err != nil || !ok || pid != cmd.Process.Pid {
						t.Fatalf("from-child = %d, %v, %v (child %d)", pid, ok, err, cmd.Process.Pid)
					}
				case *List:
					var pid int
					if err := w.Get(-1, &pid); err != nil || pid != cmd.Process.Pid {
						t.Fatalf("last = %d, %v (child %d)", pid, err, cmd.Process.Pid)
					}
				}
				if line := readLine(t, out, 30*time.Second); !childFirst && line != "wrote" {
					t.Fatalf("child said %q", line)
				}
				if err := waitChild(t, cmd, 30*time.Second); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// The parent and a child take turns through one dict or list, each blocked
// in WaitChange (no polling, no deadline short enough to matter) until the
// other has changed it: every hand-off arrives.
func TestWatchPingPongAcrossProcesses(t *testing.T) {
	forEachWatchKind(t, func(t *testing.T, k watchKind) {
		const rounds = 100
		w := k.open(t)
		cmd, out := child(t, "watch-ping-pong", w.Name(), "POLYIPC_GO_TEST_KIND="+k.name,
			"POLYIPC_GO_TEST_COUNT="+strconv.Itoa(rounds))
		if line := readLine(t, out, 30*time.Second); line != "ready" {
			t.Fatalf("child said %q", line)
		}
		ctx := withTimeout(t, 60*time.Second)
		write, seen := pingPong(w, true)
		start := time.Now()
		for i := 1; i <= rounds; i++ {
			if err := write(i); err != nil {
				t.Fatal(err)
			}
			if err := awaitChange(ctx, w, func() (bool, error) { return seen(i) }); err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		t.Logf("%d hand-offs in %v", rounds, time.Since(start))
		if line := readLine(t, out, 30*time.Second); line != "done" {
			t.Fatalf("child said %q", line)
		}
		if err := waitChild(t, cmd, 30*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}
