package polyipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The child side of the cross-process zero-copy tests (registered with the
// helpers runHelper dispatches to).
func init() {
	syncHelpers["zc-borrow-hold"] = helperBorrowHold
	syncHelpers["zc-reserve-hold"] = helperReserveHold
}

// Borrows one message, says how long it is and what it starts with, and
// holds it until killed.
func helperBorrowHold(name string) int {
	q, err := OpenQueue(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	b, err := q.Borrow(ctx)
	if err != nil {
		return helperFail("borrow", err)
	}
	data := b.Bytes()
	return untilKilled(fmt.Sprintf("borrowed %d %c", len(data), data[0]))
}

// Reserves COUNT bytes, writes half of them and holds the reservation until
// killed.
func helperReserveHold(name string) int {
	q, err := OpenQueue(name, OpenOnly())
	if err != nil {
		return helperFail("open", err)
	}
	ctx, cancel := helperCtx()
	defer cancel()
	r, err := q.Reserve(ctx, helperCount())
	if err != nil {
		return helperFail("reserve", err)
	}
	data := r.Bytes()
	for i := range data[:len(data)/2] {
		data[i] = 'x'
	}
	return untilKilled(fmt.Sprintf("reserved %d", len(data)))
}

// mustReserve reserves n bytes, or fails the test.
func mustReserve(t *testing.T, q *Queue, n int) *Reservation {
	t.Helper()
	r, err := q.Reserve(withTimeout(t, 10*time.Second), n)
	if err != nil {
		t.Fatalf("Reserve(%d): %v", n, err)
	}
	return r
}

func mustBorrow(t *testing.T, q *Queue) *Borrowed {
	t.Helper()
	b, err := q.Borrow(withTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatalf("Borrow: %v", err)
	}
	return b
}

func wantSize(t *testing.T, q *Queue, want int) {
	t.Helper()
	if n, err := q.Size(); n != want || err != nil {
		t.Fatalf("Size = %d, %v; want %d", n, err, want)
	}
}

func wantEnded(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrZeroCopyEnded) || !errors.Is(err, ErrInvalidArg) {
		t.Fatalf("%s: %v, want ErrZeroCopyEnded and ErrInvalidArg", what, err)
	}
}

func TestReserveWriteCommitThenGet(t *testing.T) {
	q := openQueue(t)
	msg := []byte(`{"job":1,"pad":"` + strings.Repeat("z", 5000) + `"}`)
	r := mustReserve(t, q, len(msg))
	if r.Len() != len(msg) || len(r.Bytes()) != len(msg) || cap(r.Bytes()) != len(msg) {
		t.Fatalf("Len %d, Bytes len %d cap %d; want %d", r.Len(), len(r.Bytes()), cap(r.Bytes()), len(msg))
	}
	copy(r.Bytes(), msg)
	wantSize(t, q, 0) // not published yet
	if got, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet before Commit: %q, %v", got, err)
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if r.Bytes() != nil || r.Len() != len(msg) {
		t.Fatalf("after Commit: Bytes %v, Len %d", r.Bytes() != nil, r.Len())
	}
	wantSize(t, q, 1)
	if got := mustGet(t, q); got != string(msg) {
		t.Fatalf("Get: %d bytes, want the %d committed", len(got), len(msg))
	}
	// Interleaved with Put, in FIFO order.
	mustPut(t, q, `1`)
	r = mustReserve(t, q, 1)
	r.Bytes()[0] = '2'
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, q, `3`)
	for _, want := range []string{`1`, `2`, `3`} {
		if got := mustGet(t, q); got != want {
			t.Fatalf("Get = %s, want %s", got, want)
		}
	}
}

func TestBorrowReadReleaseInFIFOOrder(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	big := bytes.Repeat([]byte("abcdefgh"), 4096)
	if err := q.Put(bg, big); err != nil {
		t.Fatal(err)
	}
	mustPut(t, q, `second`)
	mustPut(t, q, `third`)
	b := mustBorrow(t, q)
	if b.Len() != len(big) || !bytes.Equal(b.Bytes(), big) {
		t.Fatalf("borrowed %d bytes, want the first message (%d)", b.Len(), len(big))
	}
	wantSize(t, q, 2) // taken, as Get takes it
	// Others get what is behind it meanwhile.
	if got := mustGet(t, q); got != `second` {
		t.Fatalf("Get while borrowed = %q, want second", got)
	}
	if !bytes.Equal(b.Bytes(), big) {
		t.Fatal("the borrowed bytes changed while borrowed")
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if b.Bytes() != nil || b.Len() != len(big) {
		t.Fatalf("after Release: Bytes %v, Len %d", b.Bytes() != nil, b.Len())
	}
	wantEnded(t, "second Release", b.Release())
	b = mustBorrow(t, q)
	if string(b.Bytes()) != `third` {
		t.Fatalf("second Borrow = %q, want third", b.Bytes())
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	wantSize(t, q, 0)
	_, err := q.TryBorrow()
	wantStatus(t, err, ErrEmpty)
	if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet after the releases: %v", err)
	}
	// The end of the stream, as for Get and Put.
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	_, err = q.TryBorrow()
	wantStatus(t, err, ErrClosed)
	_, err = q.Borrow(withTimeout(t, 10*time.Second))
	wantStatus(t, err, ErrClosed)
	_, err = q.Reserve(withTimeout(t, 10*time.Second), 1)
	wantStatus(t, err, ErrClosed)
}

// Many rounds through a small ring: the space of ended reservations and
// borrows is reused.
func TestZeroCopyRoundsReuseTheRing(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(64*1024))
	for i := 0; i < 500; i++ {
		n := 900 + i%200
		r := mustReserve(t, q, n)
		data := r.Bytes()
		for j := range data {
			data[j] = byte('a' + i%26)
		}
		if err := r.Commit(); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		b := mustBorrow(t, q)
		if b.Len() != n || b.Bytes()[n-1] != byte('a'+i%26) {
			t.Fatalf("round %d: borrowed %d bytes ending %q", i, b.Len(), b.Bytes()[b.Len()-1])
		}
		if err := b.Release(); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	wantSize(t, q, 0)
}

func TestCancelDropsTheReservation(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithMaxItems(1))
	r := mustReserve(t, q, 5)
	copy(r.Bytes(), "hello")
	if err := r.Cancel(); err != nil {
		t.Fatal(err)
	}
	if r.Bytes() != nil {
		t.Fatal("Bytes after Cancel is not nil")
	}
	wantSize(t, q, 0)
	if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet after Cancel: %v", err)
	}
	wantEnded(t, "Commit after Cancel", r.Commit())
	wantEnded(t, "Cancel after Cancel", r.Cancel())
	// The room came back (one item at most).
	mustPut(t, q, `x`)
	if got := mustGet(t, q); got != `x` {
		t.Fatalf("Get = %q", got)
	}
}

func TestSecondCommitOrReleaseIsAnError(t *testing.T) {
	q := openQueue(t)
	r := mustReserve(t, q, 2)
	copy(r.Bytes(), "42")
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	err := r.Commit()
	wantEnded(t, "second Commit", err)
	if !strings.Contains(err.Error(), q.Name()) || !strings.Contains(err.Error(), "already committed") {
		t.Fatalf("second Commit: %q does not say what happened", err)
	}
	wantEnded(t, "Cancel after Commit", r.Cancel())
	// The ticket is a ring position: a later reservation may get the same
	// one, and the stale Reservation still must not end it.
	if got := mustGet(t, q); got != `42` {
		t.Fatalf("Get = %q", got)
	}
	r2 := mustReserve(t, q, 2)
	wantEnded(t, "Commit of the old reservation", r.Commit())
	copy(r2.Bytes(), "43")
	if err := r2.Commit(); err != nil {
		t.Fatal(err)
	}
	b := mustBorrow(t, q)
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	err = b.Release()
	wantEnded(t, "second Release", err)
	if !strings.Contains(err.Error(), "already released") {
		t.Fatalf("second Release: %q", err)
	}
	wantSize(t, q, 0)
}

func TestJSONQueueRejectsInvalidBytesAtCommit(t *testing.T) {
	q := openQueue(t) // JSON format (the default)
	r := mustReserve(t, q, 5)
	copy(r.Bytes(), `{"a":`)
	e := wantStatus(t, r.Commit(), ErrInvalidJSON)
	if !strings.Contains(e.Message, q.Name()) {
		t.Fatalf("invalid JSON error %q does not name the queue", e.Message)
	}
	if r.Bytes() != nil {
		t.Fatal("Bytes after the failed Commit is not nil")
	}
	err := r.Commit()
	wantEnded(t, "Commit after the dropped one", err)
	if !strings.Contains(err.Error(), "dropped by a commit that failed") {
		t.Fatalf("Commit after the dropped one: %q", err)
	}
	wantEnded(t, "Cancel after the dropped one", r.Cancel())
	wantSize(t, q, 0) // dropped
	if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet after the rejected Commit: %v", err)
	}
	// Still usable, both ways.
	r = mustReserve(t, q, 7)
	copy(r.Bytes(), `[1,2,3]`)
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, q, `{"b":2}`)
	var v []int
	if err := q.GetJSON(bg, &v); err != nil || len(v) != 3 {
		t.Fatalf("GetJSON = %v, %v", v, err)
	}
	if got := mustGet(t, q); got != `{"b":2}` {
		t.Fatalf("Get = %q", got)
	}
}

func TestZeroLengthReservation(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	r := mustReserve(t, q, 0)
	if b := r.Bytes(); b == nil || len(b) != 0 || r.Len() != 0 {
		t.Fatalf("zero-length reservation: Bytes %v (nil %v), Len %d", b, b == nil, r.Len())
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	wantSize(t, q, 1)
	b := mustBorrow(t, q)
	if b.Bytes() == nil || b.Len() != 0 {
		t.Fatalf("borrowed empty message: Bytes nil %v, Len %d", b.Bytes() == nil, b.Len())
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	wantSize(t, q, 0)

	// On a JSON queue nothing is not JSON.
	j := openQueue(t)
	r = mustReserve(t, j, 0)
	wantStatus(t, r.Commit(), ErrInvalidJSON)
	wantSize(t, j, 0)

	_, err := q.Reserve(bg, -1)
	wantStatus(t, err, ErrInvalidArg)
	_, err = q.TryReserve(-1)
	wantStatus(t, err, ErrInvalidArg)
}

// A reservation the queue can never hold fails at once, blocking or not.
func TestReservationLargerThanTheQueueIsTooLarge(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(64*1024))
	for _, n := range []int{64*1024 + 1, 128 * 1024} {
		err := within(t, 10*time.Second, "Reserve", func() error {
			_, err := q.Reserve(bg, n) // no deadline: must not wait
			return err
		})
		e := wantStatus(t, err, ErrTooLarge)
		if !strings.Contains(e.Message, q.Name()) {
			t.Fatalf("too large error %q does not name the queue", e.Message)
		}
		_, err = q.TryReserve(n)
		wantStatus(t, err, ErrTooLarge)
	}
	q2 := openQueue(t, WithFormat(Bytes), WithMaxMessageBytes(100))
	_, err := q2.TryReserve(101)
	wantStatus(t, err, ErrTooLarge)
	r, err := q2.TryReserve(100)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Cancel(); err != nil {
		t.Fatal(err)
	}
	wantSize(t, q, 0)
	if err := q.Close(); err != nil { // nothing outstanding
		t.Fatal(err)
	}
}

func TestTryReserveOnAFullQueue(t *testing.T) {
	q := openQueue(t, WithMaxItems(2))
	mustPut(t, q, `1`)
	r := mustReserve(t, q, 1) // the second item
	_, err := q.TryReserve(1)
	wantStatus(t, err, ErrFull)
	wantStatus(t, q.TryPut([]byte(`3`)), ErrFull)
	r.Bytes()[0] = '2'
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	_, err = q.TryReserve(1)
	wantStatus(t, err, ErrFull)
	if got := mustGet(t, q); got != `1` {
		t.Fatalf("Get = %q", got)
	}
	r, err = q.TryReserve(1) // room again
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Cancel(); err != nil {
		t.Fatal(err)
	}
}

// A context deadline ends Reserve on a full queue and Borrow on an empty
// one as it ends Put and Get: ErrTimeout, also context.DeadlineExceeded.
func TestZeroCopyContextDeadline(t *testing.T) {
	full := openQueue(t, WithMaxItems(1))
	mustPut(t, full, `1`)
	empty := openQueue(t)
	const d = 150 * time.Millisecond
	calls := map[string]func(ctx context.Context) error{
		"Reserve on full": func(ctx context.Context) error { _, err := full.Reserve(ctx, 1); return err },
		"Borrow on empty": func(ctx context.Context) error { _, err := empty.Borrow(ctx); return err },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(bg, d)
		start := time.Now()
		err := within(t, 10*time.Second, name, func() error { return call(ctx) })
		elapsed := time.Since(start)
		cancel()
		wantStatus(t, err, ErrTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v does not match context.DeadlineExceeded", name, err)
		}
		if elapsed < d-10*time.Millisecond {
			t.Fatalf("%s: timed out after %v, before the deadline (%v)", name, elapsed, d)
		}
		// A deadline already past fails at once.
		past, cancel := context.WithDeadline(bg, time.Now().Add(-time.Second))
		wantStatus(t, call(past), ErrTimeout)
		cancel()
	}
	wantSize(t, full, 1)
	if full.zeroCopy.Load() != 0 || empty.zeroCopy.Load() != 0 {
		t.Fatal("a failed Reserve or Borrow is counted as outstanding")
	}
}

// A cancelled context ends a waiting Reserve or Borrow with context.Canceled.
func TestZeroCopyCancelledContext(t *testing.T) {
	full := openQueue(t, WithMaxItems(1))
	mustPut(t, full, `1`)
	empty := openQueue(t)
	calls := map[string]func(ctx context.Context) error{
		"Reserve": func(ctx context.Context) error { _, err := full.Reserve(ctx, 1); return err },
		"Borrow":  func(ctx context.Context) error { _, err := empty.Borrow(ctx); return err },
	}
	for name, call := range calls {
		ctx, cancel := context.WithCancel(bg)
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		cancel() // before or during the wait: either way it ends
		err := within(t, 5*time.Second, name, func() error { return <-done })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v, want context.Canceled", name, err)
		}
	}
}

// A waiting Reserve gets the room a Get makes, a waiting Borrow the message
// a Commit publishes.
func TestWaitingReserveAndBorrowAreWoken(t *testing.T) {
	q := openQueue(t, WithMaxItems(1), WithFormat(Bytes))
	mustPut(t, q, `first`)
	reserved := make(chan error, 1)
	go func() {
		r, err := q.Reserve(withTimeout(t, 30*time.Second), 6)
		if err == nil {
			copy(r.Bytes(), "second")
			err = r.Commit()
		}
		reserved <- err
	}()
	if got := mustGet(t, q); got != `first` {
		t.Fatalf("Get = %q", got)
	}
	if err := within(t, 30*time.Second, "Reserve", func() error { return <-reserved }); err != nil {
		t.Fatal(err)
	}
	b := mustBorrow(t, q)
	if string(b.Bytes()) != "second" {
		t.Fatalf("Borrow = %q", b.Bytes())
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
}

// Close refuses while a Reservation or a Borrowed message is outstanding
// (their slices point into the ring), changes nothing, and succeeds once
// they ended.
func TestCloseWithOutstandingZeroCopyRefuses(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	mustPut(t, q, `borrowed`)
	b := mustBorrow(t, q)
	r := mustReserve(t, q, 4096)
	err := q.Close()
	wantStatus(t, err, ErrInvalidArg)
	if !errors.Is(err, ErrZeroCopyInUse) || !strings.Contains(err.Error(), "2 reservation") ||
		!strings.Contains(err.Error(), q.Name()) {
		t.Fatalf("Close with two outstanding: %v", err)
	}
	// Nothing changed: the slices are still the ring, the handle works.
	data := r.Bytes()
	for i := range data {
		data[i] = byte(i)
	}
	if string(b.Bytes()) != "borrowed" {
		t.Fatalf("borrowed bytes after the refused Close: %q", b.Bytes())
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, q.Close(), ErrInvalidArg) // the borrow is still out
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("Close once all ended: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Everything after the Close is a clean error.
	wantEnded(t, "Release after Close", b.Release())
	wantEnded(t, "Commit after Close", r.Commit())
	for name, err := range map[string]error{
		"Reserve":    func() error { _, err := q.Reserve(bg, 1); return err }(),
		"TryReserve": func() error { _, err := q.TryReserve(1); return err }(),
		"Borrow":     func() error { _, err := q.Borrow(bg); return err }(),
		"TryBorrow":  func() error { _, err := q.TryBorrow(); return err }(),
	} {
		if !errors.Is(err, ErrHandleClosed) || !errors.Is(err, ErrInvalidArg) {
			t.Fatalf("%s after Close: %v", name, err)
		}
	}
	// The committed message is there for another handle.
	h := must[*Queue](t)(OpenQueue(q.Name(), OpenOnly()))
	defer h.Close()
	got, err := h.TryGet()
	if err != nil || len(got) != 4096 || got[4095] != byte(4095%256) {
		t.Fatalf("TryGet of the committed message: %d bytes, %v", len(got), err)
	}
}

// Goroutines reserve, write all their bytes and commit (or borrow, read and
// release) while another keeps calling Close once they are under way: Close
// succeeds only when none is outstanding, so no write or read ever reaches
// unmapped memory, and every call after it is ErrHandleClosed. Run under
// -race by ctest.
func TestCloseRacingZeroCopyNeverUnmapsInUse(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(1<<20))
	const workers, maxRounds, size, underWay = 4, 2000, 8192, 200
	var wg sync.WaitGroup
	// Reserves and borrows that succeeded: each is counted before it ends,
	// so before any Close that succeeds after it (Close needs it ended).
	var ops atomic.Int64
	started := make(chan struct{})
	var startOnce sync.Once
	failures := make(chan error, workers)
	begun := func() {
		if ops.Add(1) == underWay {
			startOnce.Do(func() { close(started) })
		}
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Bounded, so that the test ends even if Close never gets a turn.
			defer startOnce.Do(func() { close(started) })
			for i := 0; i < maxRounds; i++ {
				var err error
				if (w+i)%2 == 0 {
					var r *Reservation
					if r, err = q.TryReserve(size); err == nil {
						begun()
						data := r.Bytes()
						for j := range data {
							data[j] = byte(w)
						}
						err = r.Commit()
					}
				} else {
					var b *Borrowed
					if b, err = q.TryBorrow(); err == nil {
						begun()
						sum := 0
						for _, c := range b.Bytes() {
							sum += int(c)
						}
						err = b.Release()
						if sum%size != 0 { // every message is size copies of one byte
							err = fmt.Errorf("borrowed bytes sum to %d", sum)
						}
					}
				}
				switch {
				case err == nil, errors.Is(err, ErrFull), errors.Is(err, ErrEmpty), errors.Is(err, ErrTimeout):
				case errors.Is(err, ErrHandleClosed):
					return
				default:
					failures <- err
					return
				}
			}
		}(w)
	}
	within(t, 60*time.Second, "the workers' first rounds", func() struct{} { <-started; return struct{}{} })
	refused := 0
	err := within(t, 60*time.Second, "a successful Close", func() error {
		for {
			err := q.Close()
			if err == nil || !errors.Is(err, ErrZeroCopyInUse) {
				return err
			}
			refused++
		}
	})
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	atClose := ops.Load()
	within(t, 60*time.Second, "the workers", func() struct{} { wg.Wait(); return struct{}{} })
	close(failures)
	for err := range failures {
		t.Errorf("worker: %v", err)
	}
	if n := q.zeroCopy.Load(); n != 0 {
		t.Fatalf("%d outstanding after a successful Close", n)
	}
	if ops.Load() != atClose {
		t.Fatalf("%d rounds succeeded after Close", ops.Load()-atClose)
	}
	t.Logf("%d rounds before Close, which refused %d times first", atClose, refused)
}

// A child that borrows a message and is killed with SIGKILL before Release:
// the message goes back to the queue, and the parent's next Get has it.
func TestKilledBorrowerMessageGoesBack(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(64*1024))
	big := bytes.Repeat([]byte("b"), 40<<10) // two do not fit the ring at once
	if err := q.Put(bg, big); err != nil {
		t.Fatal(err)
	}
	mustPut(t, q, `after`)
	cmd, out := child(t, "zc-borrow-hold", q.Name())
	if line := readLine(t, out, 30*time.Second); line != fmt.Sprintf("borrowed %d b", len(big)) {
		t.Fatalf("child said %q", line)
	}
	wantSize(t, q, 1) // the child has it
	killChild(t, cmd)

	ctx := withTimeout(t, 30*time.Second)
	got, err := q.Get(ctx)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("next Get after the kill: %d bytes (%.10q), %v; want the borrowed %d", len(got), got, err, len(big))
	}
	if got, err := q.Get(ctx); err != nil || string(got) != `after` {
		t.Fatalf("then: %q, %v", got, err)
	}
	wantRedeliveries(t, q.Stat, 1)
}

// A child killed holding a half-written reservation: nothing half-written is
// ever seen, and the space comes back.
func TestKilledReserverLosesOnlyItsReservation(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(64*1024))
	const n = 40 << 10 // two do not fit the ring at once
	cmd, out := child(t, "zc-reserve-hold", q.Name(), "POLYIPC_GO_TEST_COUNT="+strconv.Itoa(n))
	if line := readLine(t, out, 30*time.Second); line != fmt.Sprintf("reserved %d", n) {
		t.Fatalf("child said %q", line)
	}
	killChild(t, cmd)
	if got, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet after the kill: %d bytes, %v; want ErrEmpty", len(got), err)
	}
	// The space comes back: a message that needs it fits (Reserve waits).
	r, err := q.Reserve(withTimeout(t, 30*time.Second), n)
	if err != nil {
		t.Fatalf("Reserve after the kill: %v", err)
	}
	copy(r.Bytes(), strings.Repeat("p", n))
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, q); got != strings.Repeat("p", n) {
		t.Fatalf("Get: %d bytes (%.10q)", len(got), got)
	}
}
