package polyipc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var bg = context.Background()

func mustPut(t *testing.T, q *Queue, msg string) {
	t.Helper()
	if err := q.Put(bg, []byte(msg)); err != nil {
		t.Fatalf("Put(%s): %v", msg, err)
	}
}

func mustGet(t *testing.T, q *Queue) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	data, err := q.Get(ctx)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return string(data)
}

func wantStatus(t *testing.T, err error, want Status) *Error {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v: want %v", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Status != want || e.Message == "" {
		t.Fatalf("error %+v: want status %v and a message", e, want)
	}
	return e
}

func TestLoadedLibraryMatchesTheBinding(t *testing.T) {
	if err := CheckVersion(); err != nil {
		t.Fatal(err)
	}
	if VersionNumber() != BindingVersionNumber || Version() == "" {
		t.Fatalf("library %s (%d), binding %d", Version(), VersionNumber(), BindingVersionNumber)
	}
	err := checkVersion(2000, "0.2.0", 1000)
	e := wantStatus(t, err, ErrIncompatible)
	if !strings.Contains(e.Message, "0.2.0") || !strings.Contains(e.Message, "1000") {
		t.Fatalf("mismatch message does not say which versions: %q", e.Message)
	}
}

func TestFIFOOrder(t *testing.T) {
	q := openQueue(t)
	for _, m := range []string{`1`, `2`, `3`} {
		mustPut(t, q, m)
	}
	for _, want := range []string{`1`, `2`, `3`} {
		if got := mustGet(t, q); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestLIFOOrder(t *testing.T) {
	q := openQueue(t, WithOrder(LIFO))
	for _, m := range []string{`1`, `2`, `3`} {
		mustPut(t, q, m)
	}
	for _, want := range []string{`3`, `2`, `1`} {
		if got := mustGet(t, q); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestPriorityOrderLowestFirstFIFOAmongEquals(t *testing.T) {
	q := openQueue(t, WithOrder(Priority))
	puts := []struct {
		msg  string
		prio int64
	}{{`"c5"`, 5}, {`"a1"`, 1}, {`"b3"`, 3}, {`"a1-second"`, 1}, {`"neg"`, -7}}
	for _, p := range puts {
		if err := q.PutPriority(bg, []byte(p.msg), p.prio); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{`"neg"`, `"a1"`, `"a1-second"`, `"b3"`, `"c5"`} {
		if got := mustGet(t, q); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestPutJSONGetJSONRoundTrip(t *testing.T) {
	type job struct {
		Job  int               `json:"job"`
		From string            `json:"from"`
		Tags []string          `json:"tags"`
		Meta map[string]string `json:"meta"`
	}
	q := openQueue(t)
	in := job{Job: 42, From: "go", Tags: []string{"a", "ü"}, Meta: map[string]string{"k": "v"}}
	if err := q.PutJSON(bg, in); err != nil {
		t.Fatal(err)
	}
	var out job
	if err := q.GetJSON(bg, &out); err != nil {
		t.Fatal(err)
	}
	if out.Job != 42 || out.From != "go" || len(out.Tags) != 2 || out.Tags[1] != "ü" || out.Meta["k"] != "v" {
		t.Fatalf("round trip gave %+v", out)
	}
	// A value encoding/json refuses never reaches the queue.
	if err := q.PutJSON(bg, make(chan int)); err == nil {
		t.Fatal("PutJSON of a channel succeeded")
	}
	// A message that does not decode into the target is reported.
	mustPut(t, q, `"a string"`)
	var n int
	if err := q.GetJSON(bg, &n); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("GetJSON into int: %v", err)
	}
}

func TestMalformedJSONIsRejectedAndTheQueueUnchanged(t *testing.T) {
	q := openQueue(t)
	mustPut(t, q, `{"ok":true}`)
	for _, bad := range []string{`{"a":`, `not json`, ``, `{"a":1} trailing`, "\"\xff\xfe\""} {
		err := q.Put(bg, []byte(bad))
		e := wantStatus(t, err, ErrInvalidJSON)
		if !strings.Contains(e.Message, q.Name()) {
			t.Fatalf("message %q does not name the queue", e.Message)
		}
		if !strings.Contains(err.Error(), "JSON") {
			t.Fatalf("error text %q does not say JSON", err.Error())
		}
	}
	if err := q.TryPut([]byte(`[1,2`)); !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("TryPut of malformed JSON: %v", err)
	}
	if n, err := q.Size(); err != nil || n != 1 {
		t.Fatalf("Size = %d, %v; want 1", n, err)
	}
	if got := mustGet(t, q); got != `{"ok":true}` {
		t.Fatalf("got %s", got)
	}
}

func TestBytesFormatCarriesAnyBytes(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes))
	msgs := [][]byte{{0, 1, 2, 0xff, 0xfe, 0}, {}, bytes.Repeat([]byte{0xab}, 100000), []byte(`{"a":`)}
	for _, m := range msgs {
		if err := q.Put(bg, m); err != nil {
			t.Fatalf("Put(%d bytes): %v", len(m), err)
		}
	}
	for _, want := range msgs {
		got, err := q.Get(bg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || got == nil {
			t.Fatalf("got %d bytes (nil=%v), want %d", len(got), got == nil, len(want))
		}
	}
}

// Get reads small messages straight into the slice it returns, sized from
// the recent ones, and larger ones through a pooled buffer: every size, in
// any order, comes out whole.
func TestGetSizesAcrossTheReadPaths(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(8<<20))
	sizes := []int{64, 64, 70, 80, 81, 2000, 64, 0, 64, 1024, 1025, 16, 17, 4096, 4097, 1 << 20, 1<<20 + 1, 5, 3000}
	for i := 0; i < 60; i++ { // long enough for the hint to decay back to the direct path
		sizes = append(sizes, 48+i%3)
	}
	sizes = append(sizes, 1000, 1100, 0, 1)
	for _, n := range []int{3, 2 << 20, 7} { // a large one in a run of small ones, either path
		sizes = append(sizes, n, n, 63, 63, 63)
	}
	msg := func(i, n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i + j*7)
		}
		return b
	}
	for _, tryGet := range []bool{false, true} {
		for i, n := range sizes {
			if err := q.Put(bg, msg(i, n)); err != nil {
				t.Fatalf("Put(%d bytes): %v", n, err)
			}
			var got []byte
			var err error
			if tryGet {
				got, err = q.TryGet()
			} else {
				got, err = q.Get(bg)
			}
			if err != nil {
				t.Fatalf("Get of message %d (%d bytes): %v", i, n, err)
			}
			if got == nil || !bytes.Equal(got, msg(i, n)) {
				t.Fatalf("message %d: got %d bytes (nil=%v), want %d", i, len(got), got == nil, n)
			}
		}
		// Several waiting, of mixed sizes.
		for i, n := range sizes {
			if err := q.Put(bg, msg(i, n)); err != nil {
				t.Fatalf("Put(%d bytes): %v", n, err)
			}
		}
		for i, n := range sizes {
			if got := mustGet(t, q); got != string(msg(i, n)) {
				t.Fatalf("queued message %d: got %d bytes, want %d", i, len(got), n)
			}
		}
	}
}

func TestTryGetEmptyAndTryPutFull(t *testing.T) {
	q := openQueue(t, WithMaxItems(2))
	wantStatus(t, func() error { _, err := q.TryGet(); return err }(), ErrEmpty)
	if err := q.TryPut([]byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := q.TryPut([]byte(`2`)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, q.TryPut([]byte(`3`)), ErrFull)
	if got, err := q.TryGet(); err != nil || string(got) != `1` {
		t.Fatalf("TryGet = %q, %v", got, err)
	}
	if err := q.TryPut([]byte(`3`)); err != nil {
		t.Fatal(err)
	}
}

func TestMessageLargerThanTheQueueIsTooLarge(t *testing.T) {
	q := openQueue(t, WithFormat(Bytes), WithCapacity(64*1024))
	wantStatus(t, q.Put(bg, make([]byte, 128*1024)), ErrTooLarge)
	q2 := openQueue(t, WithFormat(Bytes), WithMaxMessageBytes(100))
	wantStatus(t, q2.TryPut(make([]byte, 101)), ErrTooLarge)
	if n, _ := q.Size(); n != 0 {
		t.Fatalf("Size = %d after rejected puts", n)
	}
}

// A context deadline is the timeout: ErrTimeout, also context.DeadlineExceeded.
func TestContextDeadlineBecomesTimeout(t *testing.T) {
	q := openQueue(t, WithMaxItems(1), Joinable())
	check := func(what string, call func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bg, 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := call(ctx)
		elapsed := time.Since(start)
		wantStatus(t, err, ErrTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v does not match context.DeadlineExceeded", what, err)
		}
		if elapsed < 140*time.Millisecond || elapsed > time.Second {
			t.Fatalf("%s: timed out after %v, want about 150ms", what, elapsed)
		}
	}
	check("Get on empty", func(ctx context.Context) error { _, err := q.Get(ctx); return err })
	mustPut(t, q, `1`)
	check("Put on full", func(ctx context.Context) error { return q.Put(ctx, []byte(`2`)) })
	check("Join with a task open", func(ctx context.Context) error { return q.Join(ctx) })

	// A deadline already past fails at once, without waiting.
	ctx, cancel := context.WithDeadline(bg, time.Now().Add(-time.Second))
	defer cancel()
	_, err := q.Get(ctx)
	wantStatus(t, err, ErrTimeout)
}

// A cancelled context ends a blocked call within a slice (50 ms), well under 200 ms.
func TestCancelledContextEndsBlockedCallsPromptly(t *testing.T) {
	full := openQueue(t, WithMaxItems(1), Joinable()) // full, and one task open
	mustPut(t, full, `1`)
	empty := openQueue(t)
	calls := map[string]func(ctx context.Context) error{
		"Get":  func(ctx context.Context) error { _, err := empty.Get(ctx); return err },
		"Put":  func(ctx context.Context) error { return full.Put(ctx, []byte(`2`)) },
		"Join": func(ctx context.Context) error { return full.Join(ctx) },
	}
	for name, call := range calls {
		ctx, cancel := context.WithCancel(bg)
		var cancelledAt time.Time
		var mu sync.Mutex
		// The stimulus: cancel while the call waits in native code.
		timer := time.AfterFunc(120*time.Millisecond, func() {
			mu.Lock()
			cancelledAt = time.Now()
			mu.Unlock()
			cancel()
		})
		err := within(t, 5*time.Second, name, func() error { return call(ctx) })
		returned := time.Now()
		timer.Stop()
		cancel()
		mu.Lock()
		at := cancelledAt
		mu.Unlock()
		if at.IsZero() {
			t.Fatalf("%s returned before the cancel: %v", name, err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v, want context.Canceled", name, err)
		}
		if lag := returned.Sub(at); lag > 200*time.Millisecond {
			t.Fatalf("%s returned %v after the cancel", name, lag)
		}
	}
}

// openQueueOnly opens another handle on q's queue.
func openQueueOnly(t *testing.T, q *Queue) *Queue {
	t.Helper()
	h, err := OpenQueue(q.Name(), OpenOnly())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func TestCloseWritesDrainsThenClosed(t *testing.T) {
	q := openQueue(t)
	other := openQueueOnly(t, q)
	mustPut(t, q, `1`)
	mustPut(t, q, `2`)
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, other.Put(bg, []byte(`3`)), ErrClosed)
	if got := mustGet(t, other); got != `1` {
		t.Fatalf("got %s", got)
	}
	if got := mustGet(t, q); got != `2` {
		t.Fatalf("got %s", got)
	}
	_, err := q.Get(bg) // drained: no wait, CLOSED
	wantStatus(t, err, ErrClosed)
	_, err = other.TryGet()
	wantStatus(t, err, ErrClosed)
}

func TestJoinableTaskDoneAndJoin(t *testing.T) {
	q := openQueue(t, Joinable())
	for _, m := range []string{`1`, `2`, `3`} {
		mustPut(t, q, m)
	}
	joined := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		joined <- q.Join(ctx)
	}()
	for i := 0; i < 3; i++ {
		mustGet(t, q)
		select {
		case err := <-joined:
			t.Fatalf("Join returned with %d tasks open: %v", 3-i, err)
		default:
		}
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if err := within(t, 5*time.Second, "Join", func() error { return <-joined }); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if err := q.TaskDone(); err == nil {
		t.Fatal("TaskDone without an open task succeeded")
	}
	plain := openQueue(t)
	wantStatus(t, plain.TaskDone(), ErrInvalidArg)
}

// Goroutines finishing out of order end their own messages: TaskDoneMessage
// ends exactly the lease on those bytes, TaskDone then the oldest left.
func TestJoinableTaskDoneMessageEndsThatMessage(t *testing.T) {
	q := openQueue(t, Joinable())
	for _, m := range []string{`"a"`, `"b"`, `"c"`} {
		mustPut(t, q, m)
	}
	var got [3][]byte
	for i := range got {
		data, err := q.Get(withTimeout(t, 10*time.Second))
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		got[i] = data
	}
	if string(got[0]) != `"a"` || string(got[1]) != `"b"` || string(got[2]) != `"c"` {
		t.Fatalf("got %q %q %q", got[0], got[1], got[2])
	}
	joined := make(chan error, 1)
	joinCtx := withTimeout(t, 10*time.Second)
	go func() { joined <- q.Join(joinCtx) }()
	notJoined := func(open string) {
		t.Helper()
		select {
		case err := <-joined:
			t.Fatalf("Join returned with %s open: %v", open, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	notJoined(`"a", "b" and "c"`)
	if err := q.TaskDoneMessage(got[2]); err != nil { // the newest first
		t.Fatalf(`TaskDoneMessage("c"): %v`, err)
	}
	notJoined(`"a" and "b"`)
	if err := q.TaskDoneMessage([]byte(`"a"`)); err != nil { // equal bytes, another slice
		t.Fatalf(`TaskDoneMessage("a"): %v`, err)
	}
	notJoined(`"b"`)

	// "c" is ended already, "d" was never got: both are errors naming the
	// queue, and end nothing ("b" still open).
	for _, m := range []string{`"c"`, `"d"`, ``} {
		e := wantStatus(t, q.TaskDoneMessage([]byte(m)), ErrInvalidArg)
		if !strings.Contains(e.Error(), q.Name()) {
			t.Fatalf("TaskDoneMessage(%q): %v does not name the queue", m, e)
		}
	}
	notJoined(`"b"`)
	if err := q.TaskDone(); err != nil { // the oldest still open: "b"
		t.Fatalf("TaskDone: %v", err)
	}
	if err := within(t, 5*time.Second, "Join", func() error { return <-joined }); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if n, _ := q.Size(); n != 0 {
		t.Fatalf("Size = %d after all were done", n)
	}
	e := wantStatus(t, q.TaskDoneMessage(got[1]), ErrInvalidArg)
	if !strings.Contains(e.Error(), q.Name()) {
		t.Fatalf("TaskDoneMessage after all were done: %v does not name the queue", e)
	}

	plain := openQueue(t)
	mustPut(t, plain, `"a"`)
	mustGet(t, plain)
	wantStatus(t, plain.TaskDoneMessage([]byte(`"a"`)), ErrInvalidArg) // not joinable
}

func TestUseAfterCloseIsACleanError(t *testing.T) {
	q := openQueue(t, Joinable())
	mustPut(t, q, `1`)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	calls := map[string]error{
		"Put":             q.Put(bg, []byte(`1`)),
		"PutPriority":     q.PutPriority(bg, []byte(`1`), 3),
		"TryPut":          q.TryPut([]byte(`1`)),
		"PutJSON":         q.PutJSON(bg, 1),
		"Get":             func() error { _, err := q.Get(bg); return err }(),
		"TryGet":          func() error { _, err := q.TryGet(); return err }(),
		"GetJSON":         q.GetJSON(bg, new(int)),
		"Size":            func() error { _, err := q.Size(); return err }(),
		"TaskDone":        q.TaskDone(),
		"TaskDoneMessage": q.TaskDoneMessage([]byte(`1`)),
		"Join":            q.Join(bg),
		"CloseWrites":     q.CloseWrites(),
		"Stat":            func() error { _, err := q.Stat(); return err }(),
	}
	for name, err := range calls {
		if !errors.Is(err, ErrHandleClosed) || !errors.Is(err, ErrInvalidArg) {
			t.Fatalf("%s after Close: %v", name, err)
		}
		if !strings.Contains(err.Error(), q.Name()) {
			t.Fatalf("%s after Close: %q does not name the queue", name, err)
		}
	}
	// The queue itself is still there for everyone else.
	other, err := OpenQueue(q.Name(), OpenOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if n, _ := other.Size(); n != 1 {
		t.Fatalf("Size = %d after Close of another handle", n)
	}
}

func TestCloseWhileCallsAreBlocked(t *testing.T) {
	q := openQueue(t)
	const waiters = 4
	errs := make(chan error, waiters)
	started := make(chan struct{}, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			started <- struct{}{}
			_, err := q.Get(bg)
			errs <- err
		}()
	}
	for i := 0; i < waiters; i++ {
		<-started
	}
	closedAt := time.Now()
	if err := within(t, 2*time.Second, "Close", q.Close); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < waiters; i++ {
		err := within(t, 2*time.Second, "blocked Get", func() error { return <-errs })
		if !errors.Is(err, ErrHandleClosed) {
			t.Fatalf("blocked Get ended with %v", err)
		}
	}
	if lag := time.Since(closedAt); lag > 500*time.Millisecond {
		t.Fatalf("blocked Gets took %v to notice Close", lag)
	}
}

func TestBadNamesAreInvalidArg(t *testing.T) {
	bad := []string{"", "a/b", "../etc", "..", "with space", "a\x00b", "ü", strings.Repeat("x", 201),
		strings.Repeat("y", 300)}
	for _, name := range bad {
		_, err := OpenQueue(name)
		e := wantStatus(t, err, ErrInvalidArg)
		if !strings.Contains(e.Message, "name") {
			t.Fatalf("OpenQueue(%q): message %q does not mention the name", name, e.Message)
		}
		wantStatus(t, Unlink(name), ErrInvalidArg)
		_, err = Stat(name)
		wantStatus(t, err, ErrInvalidArg)
	}
	// The longest valid name works.
	long := strings.Repeat("z", 190) + ".go" + strings.Repeat("0", 7)
	q, err := OpenQueue(long, Ephemeral())
	if err != nil {
		t.Fatalf("200-char name: %v", err)
	}
	_ = Unlink(long)
	q.Close()
	_, err = OpenQueue("ok", WithMaxItems(-1))
	wantStatus(t, err, ErrInvalidArg)
}

func TestOpenModesAndIncompatibleOptions(t *testing.T) {
	name := queueName(t)
	_, err := OpenQueue(name, OpenOnly())
	wantStatus(t, err, ErrNotFound)
	q, err := OpenQueue(name, CreateOnly(), WithOrder(LIFO), Joinable())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = OpenQueue(name, CreateOnly())
	wantStatus(t, err, ErrExists)
	_, err = OpenQueue(name, WithOrder(FIFO), Joinable())
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenQueue(name, OpenOnly(), WithOrder(LIFO)) // not joinable: disagrees
	wantStatus(t, err, ErrIncompatible)
	same, err := OpenQueue(name, OpenOnly()) // takes the queue as it is
	if err != nil {
		t.Fatal(err)
	}
	defer same.Close()
	mustPut(t, q, `"x"`)
	if got := mustGet(t, same); got != `"x"` {
		t.Fatalf("got %s through the second handle", got)
	}
}

func TestStatListPeekAndUnlink(t *testing.T) {
	q := openQueue(t, WithOrder(Priority))
	if err := q.PutPriority(bg, []byte(`{"p":2}`), 2); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Name  string `json:"name"`
		Kind  string `json:"kind"`
		Order string `json:"order"`
		Depth int    `json:"depth"`
	}
	raw, err := q.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.Name != q.Name() || st.Depth != 1 || st.Order != "priority" {
		t.Fatalf("Stat = %s (%v)", raw, err)
	}
	raw, err = Stat(q.Name())
	if err != nil || !json.Valid(raw) || !strings.Contains(string(raw), q.Name()) {
		t.Fatalf("Stat(name) = %s, %v", raw, err)
	}
	raw, err = ListObjects()
	var all []map[string]any
	if err != nil || json.Unmarshal(raw, &all) != nil || !strings.Contains(string(raw), q.Name()) {
		t.Fatalf("ListObjects = %s, %v", raw, err)
	}
	raw, err = Peek(q.Name(), 10)
	var peeked []struct {
		Message  map[string]int `json:"message"`
		Priority int64          `json:"priority"`
	}
	if err != nil || json.Unmarshal(raw, &peeked) != nil || len(peeked) != 1 || peeked[0].Message["p"] != 2 ||
		peeked[0].Priority != 2 {
		t.Fatalf("Peek = %s, %v", raw, err)
	}
	if _, err := GC(); err != nil {
		t.Fatal(err)
	}
	if err := Unlink(q.Name()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, Unlink(q.Name()), ErrNotFound)
	_, err = Stat(q.Name())
	wantStatus(t, err, ErrNotFound)
	_, err = OpenQueue(q.Name(), OpenOnly())
	wantStatus(t, err, ErrNotFound)
	// The open handle keeps working after the unlink.
	if got := mustGet(t, q); got != `{"p":2}` {
		t.Fatalf("got %s after unlink", got)
	}
}

func TestEphemeralQueueGoesWithItsLastHandle(t *testing.T) {
	q := openQueue(t, Ephemeral())
	name := q.Name()
	if _, err := Stat(name); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Stat(name)
	wantStatus(t, err, ErrNotFound)
}

func TestCreatedWithTheRequestedMode(t *testing.T) {
	q := openQueue(t, WithMode(0640))
	var st struct {
		Mode int `json:"mode"`
	}
	raw, _ := q.Stat()
	if err := json.Unmarshal(raw, &st); err != nil || os.FileMode(st.Mode) != 0640 {
		t.Fatalf("mode in %s", raw)
	}
}

// Many goroutines on one handle, and Close racing with them: every message
// arrives exactly once, and the calls after Close fail cleanly (run with -race).
func TestConcurrentGoroutinesShareOneHandle(t *testing.T) {
	q := openQueue(t, WithMaxItems(64))
	const producers, consumers, perProducer = 6, 4, 300
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				if err := q.PutJSON(bg, [2]int{p, i}); err != nil {
					t.Errorf("PutJSON: %v", err)
					return
				}
			}
		}()
	}
	got := make(chan [2]int, producers*perProducer)
	var cw sync.WaitGroup
	for c := 0; c < consumers; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for {
				var m [2]int
				err := q.GetJSON(bg, &m)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("GetJSON: %v", err)
					return
				}
				got <- m
			}
		}()
	}
	wg.Wait()
	if err := q.CloseWrites(); err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "consumers", func() bool { cw.Wait(); return true })
	close(got)
	seen := map[[2]int]bool{}
	for m := range got {
		if seen[m] {
			t.Fatalf("%v delivered twice", m)
		}
		seen[m] = true
	}
	if len(seen) != producers*perProducer {
		t.Fatalf("got %d messages, want %d", len(seen), producers*perProducer)
	}

	// Close racing with calls in flight on other goroutines.
	r := openQueue(t, WithFormat(Bytes))
	var racers sync.WaitGroup
	for g := 0; g < 4; g++ {
		racers.Add(1)
		go func() {
			defer racers.Done()
			for i := 0; ; i++ {
				err := r.Put(bg, []byte{byte(i)})
				if err == nil {
					_, err = r.TryGet()
				}
				// TryGet may also time out on the queue's lock under contention.
				if err == nil || errors.Is(err, ErrEmpty) || errors.Is(err, ErrTimeout) {
					continue
				}
				if !errors.Is(err, ErrHandleClosed) {
					t.Errorf("racing call: %v", err)
				}
				return
			}
		}()
	}
	for i := 0; i < 100; i++ { // let the racers get going
		_ = r.TryPut([]byte{1})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "racers", func() bool { racers.Wait(); return true })
}
