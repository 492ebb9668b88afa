package polyipc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// openPipeT opens both ends of a fresh pipe, closed at the end of the test.
func openPipeT(t testing.TB, opts ...Option) (a, b *Conn) {
	t.Helper()
	a, b, err := OpenPipe(queueName(t), opts...)
	if err != nil {
		t.Fatalf("OpenPipe: %v", err)
	}
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	return a, b
}

type ping struct {
	Seq  int    `json:"seq"`
	Ping string `json:"ping,omitempty"`
	Pong string `json:"pong,omitempty"`
}

func TestPipeDuplexJSONRoundTrips(t *testing.T) {
	a, b := openPipeT(t)
	if a.End() != EndA || b.End() != EndB || a.Name() != b.Name() {
		t.Fatalf("ends %v %v, names %q %q", a.End(), b.End(), a.Name(), b.Name())
	}
	ctx := withTimeout(t, 10*time.Second)
	for i := 0; i < 50; i++ {
		if err := a.SendJSON(ctx, ping{Seq: i, Ping: "go"}); err != nil {
			t.Fatal(err)
		}
		var p ping
		if err := b.RecvJSON(ctx, &p); err != nil || p.Seq != i || p.Ping != "go" {
			t.Fatalf("B got %+v, %v", p, err)
		}
		if err := b.SendJSON(ctx, ping{Seq: i, Pong: "go"}); err != nil {
			t.Fatal(err)
		}
		if err := a.RecvJSON(ctx, &p); err != nil || p.Seq != i || p.Pong != "go" {
			t.Fatalf("A got %+v, %v", p, err)
		}
	}
	wantStatus(t, a.Send(ctx, []byte("{not json")), ErrInvalidJSON)
	raw, err := a.Stat()
	if err != nil || !strings.Contains(string(raw), a.Name()) {
		t.Fatalf("Stat: %s, %v", raw, err)
	}
}

// Messages come in order, of any size up to the capacity, including empty
// ones and ones larger than the pooled receive buffer.
func TestPipeBytesSizesAndOrder(t *testing.T) {
	a, b := openPipeT(t, WithFormat(Bytes), WithCapacity(1<<20))
	ctx := withTimeout(t, 10*time.Second)
	sizes := []int{0, 1, 4095, 4096, 4097, 100_000, (1 << 20) - 8}
	go func() {
		for _, n := range sizes {
			if err := a.Send(ctx, bytes.Repeat([]byte{byte(n)}, n)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for _, n := range sizes {
		got, err := b.Recv(ctx)
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(n)}, n)) {
			t.Fatalf("message of %d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	wantStatus(t, a.Send(ctx, make([]byte, 1<<20)), ErrTooLarge)
}

func TestPipeEOFAndBrokenPipe(t *testing.T) {
	a, b := openPipeT(t)
	ctx := withTimeout(t, 10*time.Second)
	for i := 0; i < 3; i++ {
		if err := a.SendJSON(ctx, ping{Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// What was sent is still received, then the end of stream.
	for i := 0; i < 3; i++ {
		var p ping
		if err := b.RecvJSON(ctx, &p); err != nil || p.Seq != i {
			t.Fatalf("message %d: %+v, %v", i, p, err)
		}
	}
	_, err := b.Recv(ctx)
	if !errors.Is(err, io.EOF) || !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv at the end of stream: %v", err)
	}
	if _, err := b.TryRecv(); !errors.Is(err, io.EOF) {
		t.Fatalf("TryRecv at the end of stream: %v", err)
	}
	if ok, err := b.Poll(ctx); !ok || err != nil {
		t.Fatalf("Poll at the end of stream: %v, %v", ok, err)
	}
	err = b.SendJSON(ctx, ping{Seq: 9})
	if !errors.Is(err, ErrClosed) || !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Send to a closed end: %v", err)
	}
	// The handle itself, once closed.
	_, err = a.Recv(ctx)
	if !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Recv on a closed handle: %v", err)
	}
}

func TestPipeOneWay(t *testing.T) {
	a, b := openPipeT(t, OneWay())
	ctx := withTimeout(t, 10*time.Second)
	if err := a.Send(ctx, []byte(`"hello"`)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Recv(ctx); err != nil || string(got) != `"hello"` {
		t.Fatalf("%s, %v", got, err)
	}
	wantStatus(t, b.Send(ctx, []byte(`1`)), ErrInvalidArg)
	_, err := a.Recv(ctx)
	wantStatus(t, err, ErrInvalidArg)
	// Another direction or format under the name.
	_, err = OpenConn(a.Name(), EndB)
	wantStatus(t, err, ErrIncompatible)
	_, err = OpenConn(a.Name(), EndB, OneWay(), WithFormat(Bytes))
	wantStatus(t, err, ErrIncompatible)
	c := must[*Conn](t)(OpenConn(a.Name(), EndB, OpenOnly()))
	defer c.Close()
}

func TestPipeRecvInto(t *testing.T) {
	a, b := openPipeT(t, WithFormat(Bytes))
	ctx := withTimeout(t, 10*time.Second)
	if err := a.Send(ctx, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 4)
	n, err := b.RecvInto(ctx, small)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, io.ErrShortBuffer) || n != 10 {
		t.Fatalf("RecvInto a short buffer: %d, %v", n, err)
	}
	buf := make([]byte, 64)
	n, err = b.RecvInto(ctx, buf) // the message stayed
	if err != nil || string(buf[:n]) != "0123456789" {
		t.Fatalf("RecvInto: %q, %v", buf[:n], err)
	}
}

func TestPipeFullPollAndDeadlines(t *testing.T) {
	a, b := openPipeT(t, WithFormat(Bytes), WithCapacity(4096))
	if ok, err := b.Poll(withTimeout(t, 60*time.Millisecond)); ok || err != nil {
		t.Fatalf("Poll of an empty pipe: %v, %v", ok, err)
	}
	expired, cancel := context.WithTimeout(bg, -time.Second)
	defer cancel()
	if ok, err := b.Poll(expired); ok || err != nil {
		t.Fatalf("Poll with a done ctx: %v, %v", ok, err)
	}
	_, err := b.TryRecv()
	wantStatus(t, err, ErrEmpty)
	start := time.Now()
	_, err = b.Recv(withTimeout(t, 120*time.Millisecond))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv past the deadline: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Recv gave up after %v", d)
	}
	sent := 0
	for ; ; sent++ {
		err := a.TrySend(make([]byte, 1000))
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if sent == 0 {
		t.Fatal("nothing fitted")
	}
	wantStatus(t, a.Send(withTimeout(t, 60*time.Millisecond), make([]byte, 1000)), ErrTimeout)
	if ok, err := b.Poll(expired); !ok || err != nil {
		t.Fatalf("Poll with messages waiting: %v, %v", ok, err)
	}
	// Cancellation ends a blocked Send within a bound.
	ctx, cancelSend := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- a.Send(ctx, make([]byte, 1000)) }()
	time.AfterFunc(50*time.Millisecond, cancelSend)
	err = within(t, 5*time.Second, "the cancelled Send", func() error { return <-done })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Send: %v", err)
	}
	for i := 0; i < sent; i++ {
		if _, err := b.TryRecv(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

func TestPipeCloseWhileReceiving(t *testing.T) {
	_, b := openPipeT(t)
	done := make(chan error, 1)
	go func() {
		_, err := b.Recv(bg)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // not synchronisation: either order must end the Recv
	_ = b.Close()
	err := within(t, 5*time.Second, "the Recv", func() error { return <-done })
	if !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Recv across Close: %v", err)
	}
}

func TestPipeBadInput(t *testing.T) {
	name := queueName(t)
	for _, opt := range []Option{Joinable(), WithOrder(LIFO), WithMaxItems(3), WithMaxMessageBytes(9), Bounded(1),
		WithLockName("x"), WithCapacity(-1), WithFormat(Format(7))} {
		_, err := OpenConn(name, EndA, opt)
		wantStatus(t, err, ErrInvalidArg)
	}
	_, err := OpenConn(name, End(2))
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenConn("nul\x00", EndA)
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenConn(name, EndA, OpenOnly())
	wantStatus(t, err, ErrNotFound)
	_, err = OpenQueue(name, OneWay())
	wantStatus(t, err, ErrInvalidArg)
	_, err = OpenLock(name, OneWay())
	wantStatus(t, err, ErrInvalidArg)
}

func TestWaitOverPipesAndQueues(t *testing.T) {
	a1, b1 := openPipeT(t)
	a2, b2 := openPipeT(t)
	q := openQueue(t)
	ready, err := Wait(withTimeout(t, 80*time.Millisecond), b1, b2, q)
	if err != nil || len(ready) != 0 {
		t.Fatalf("Wait with nothing ready: %v, %v", ready, err)
	}
	// One becomes ready while Wait waits.
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = a2.Send(bg, []byte(`2`))
	}()
	ready, err = Wait(withTimeout(t, 10*time.Second), b1, b2, q)
	if err != nil || len(ready) != 1 || ready[0] != Waitable(b2) {
		t.Fatalf("Wait: %v, %v", ready, err)
	}
	if err := q.Put(bg, []byte(`"q"`)); err != nil {
		t.Fatal(err)
	}
	if err := a1.Close(); err != nil { // end of stream counts as ready
		t.Fatal(err)
	}
	ready, err = Wait(withTimeout(t, 10*time.Second), q, b2, b1, b2) // a duplicate is fine
	if err != nil || len(ready) != 4 || ready[0] != Waitable(q) || ready[1] != Waitable(b2) || ready[2] != Waitable(b1) {
		t.Fatalf("Wait: %v, %v", ready, err)
	}
	// A cancelled Wait returns within a bound.
	if _, err := b2.Recv(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Get(bg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	time.AfterFunc(30*time.Millisecond, cancel)
	err = within(t, 5*time.Second, "the cancelled Wait", func() error { _, err := Wait(ctx, b2, q); return err })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Wait: %v", err)
	}
	// Closed or nil objects, nothing to wait on.
	_, err = Wait(bg, b2, a1)
	if !errors.Is(err, ErrHandleClosed) {
		t.Fatalf("Wait on a closed Conn: %v", err)
	}
	_, err = Wait(bg, b2, (*Queue)(nil))
	wantStatus(t, err, ErrInvalidArg)
	_, err = Wait(bg)
	wantStatus(t, err, ErrInvalidArg)
}

// Wait and Close from many goroutines at once: no deadlock, no crash.
func TestWaitRacesClose(t *testing.T) {
	var conns []Waitable
	for i := 0; i < 4; i++ {
		_, b := openPipeT(t)
		conns = append(conns, b)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			objs := append([]Waitable{}, conns[g:]...)
			objs = append(objs, conns[:g]...)
			for {
				_, err := Wait(withTimeout(t, 20*time.Millisecond), objs...)
				if errors.Is(err, ErrHandleClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	time.Sleep(50 * time.Millisecond) // not synchronisation: the Waits run before or after, both fine
	for _, c := range conns {
		_ = c.(*Conn).Close()
	}
	within(t, 10*time.Second, "the Waits", func() bool { wg.Wait(); return true })
}
