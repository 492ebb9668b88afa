package polyipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// End is one of the two ends of a pipe.
type End int

const (
	EndA End = 0 // the end that creates and, on a one-way pipe, the only one that sends
	EndB End = 1 // the other end; on a one-way pipe, the only one that receives
)

func (e End) String() string {
	switch e {
	case EndA:
		return "A"
	case EndB:
		return "B"
	}
	return fmt.Sprintf("End(%d)", int(e))
}

// Conn is one end of a named pipe (Python's multiprocessing.Pipe
// connections): messages sent at one end are received, in order, at the
// other. A pipe is duplex unless created with OneWay. Each direction is a
// ring of WithCapacity bytes (default 4 MiB), and a message is at most that
// capacity minus 8 bytes (else ErrTooLarge).
//
// End of stream: once every handle on the other end is closed, or every
// process holding it died (kill -9 included; noticed within about 100 ms),
// and everything it sent was received, Recv returns an error matching io.EOF
// (and ErrClosed): test it with errors.Is(err, io.EOF), not ==. Send to an
// end nobody holds any more returns an error matching ErrClosed (and
// io.ErrClosedPipe). A receiver waits for an end that was never opened yet.
//
// Several handles, in one process or several, may hold the same end; a
// *Conn may be used from many goroutines, and Close may race with calls in
// flight (they end with ErrHandleClosed). Blocking calls take a context, as
// Queue's do: its deadline is the timeout (ErrTimeout, also matching
// context.DeadlineExceeded), cancellation returns within about 50 ms.
type Conn struct {
	s   *syncHandle[native.NativePipe]
	end End
	// sendTurn lets one goroutine at a time wait in a native send (turn.go);
	// receivers wait on s.turn.
	sendTurn turn
}

// OpenPipe opens both ends of the pipe name in this process (Python's
// Pipe()), creating it unless OpenOnly is given: a is end A, b is end B.
// Hand one end to a goroutine, or keep end A and let another process open
// end B by name with OpenConn. Options: OneWay, WithFormat (JSON, the
// default, validates every message; Bytes), WithCapacity (per direction),
// WithMode, Ephemeral, CreateOnly, OpenOnly. An existing pipe of another
// direction or format is ErrIncompatible.
func OpenPipe(name string, opts ...Option) (a, b *Conn, err error) {
	a, err = OpenConn(name, EndA, opts...)
	if err != nil {
		return nil, nil, err
	}
	b, err = openConn(name, EndB, func(*queueOptions) native.NativePipe {
		return native.NativePipeOpen_existing(name, int(EndB))
	}, nil)
	if err != nil {
		_ = a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// OpenConn opens one end of the pipe name, creating the pipe unless
// OpenOnly is given (options as OpenPipe). With OpenOnly and neither OneWay
// nor WithFormat, an existing pipe is taken as it is.
func OpenConn(name string, end End, opts ...Option) (*Conn, error) {
	if end != EndA && end != EndB {
		return nil, newError(StatusInvalidArg, nil, "pipe '%s': unknown end %d", name, int(end))
	}
	return openConn(name, end, func(o *queueOptions) native.NativePipe {
		if o.openMode == openOnly && !o.shaped {
			return native.NativePipeOpen_existing(name, int(end))
		}
		return native.NativePipeOpen(name, o.openMode, int(end), boolInt(!o.oneWay), int(o.format),
			uint64(o.capacity), uint(o.mode.Perm()), boolInt(o.ephemeral))
	}, opts)
}

func openConn(name string, end End, open func(o *queueOptions) native.NativePipe, opts []Option) (c *Conn, err error) {
	o, err := openOptions("pipe", name, opts)
	if err != nil {
		return nil, err
	}
	if o.orderSet || o.joinable || o.maxItems != 0 || o.maxMessageBytes != 0 || o.semBounded || o.lockNameSet ||
		o.poolOnly {
		return nil, newError(StatusInvalidArg, nil,
			"pipe '%s': WithOrder, Joinable, WithMaxItems, WithMaxMessageBytes, Bounded, WithLockName, WithMaxTasks and "+
				"WithResultCapacity do not apply to a pipe", name)
	}
	if o.capacity < 0 {
		return nil, newError(StatusInvalidArg, nil, "pipe '%s': the capacity must not be negative", name)
	}
	if o.format < JSON || o.format > Bytes {
		return nil, newError(StatusInvalidArg, nil, "pipe '%s': unknown format %d", name, o.format)
	}
	defer recoverInto(&err)
	h := open(&o)
	return &Conn{s: newSyncHandle("pipe", name, h, native.DeleteNativePipe), end: end}, nil
}

// Name is the pipe's name.
func (c *Conn) Name() string { return c.s.name }

// End is the end this handle holds.
func (c *Conn) End() End { return c.end }

// Close releases this handle's hold on its end: when no handle is left on
// it, the other end sees the end of stream (io.EOF) after receiving what
// was sent, and its Sends fail with ErrClosed. Idempotent.
func (c *Conn) Close() error { return c.s.Close() }

// sendError marks a Send to a closed other end as io.ErrClosedPipe too.
func sendError(err error) error {
	if e, ok := err.(*Error); ok && e.Status == StatusClosed && e.cause == nil {
		e.cause = io.ErrClosedPipe
	}
	return err
}

// recvError marks the end of stream as io.EOF too.
func recvError(err error) error {
	if e, ok := err.(*Error); ok && e.Status == StatusClosed && e.cause == nil {
		e.cause = io.EOF
	}
	return err
}

// Send sends data as one message, waiting while the direction is full
// until ctx is done. On a JSON pipe data must be one valid JSON text (else
// ErrInvalidJSON, nothing sent). ErrClosed when the other end is gone;
// ErrInvalidArg from end B of a one-way pipe; ErrTooLarge when data can
// never fit.
func (c *Conn) Send(ctx context.Context, data []byte) error {
	return sendError(c.s.waitInTurn(ctx, "send", &c.sendTurn, true,
		func(h native.NativePipe, timeoutNs int64) { h.Send(data, timeoutNs) }))
}

// TrySend sends data if there is room now, else returns ErrFull.
func (c *Conn) TrySend(data []byte) error {
	return sendError(c.s.do(func(h native.NativePipe) { h.Send(data, 0) }))
}

// SendJSON sends v encoded with encoding/json (Python's Connection.send).
func (c *Conn) SendJSON(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("polyipc: pipe '%s': send: %w", c.s.name, err)
	}
	return c.Send(ctx, data)
}

// recvInto is one native receive within timeoutNs into buf: the message's
// length, or minus its length when it is larger than buf (it then stays).
func (c *Conn) recvInto(buf []byte, timeoutNs int64) (n int64, err error) {
	err = c.s.do(func(h native.NativePipe) { n = h.Recv_into(buf, timeoutNs) })
	return n, recvError(err)
}

// recv takes one message within timeoutNs, as a new slice (pooled buffer,
// as Queue.get).
func (c *Conn) recv(timeoutNs int64) ([]byte, error) {
	bp := getBuffers.Get().(*[]byte)
	defer getBuffers.Put(bp)
	buf := *bp
	for {
		n, err := c.recvInto(buf, timeoutNs)
		if err != nil {
			return nil, err
		}
		if n >= 0 {
			data := make([]byte, n)
			copy(data, buf)
			return data, nil
		}
		size := int(-n)
		if size <= maxPooledGetSize {
			size = min(max(size, 2*len(buf)), maxPooledGetSize)
			buf = make([]byte, size)
			*bp = buf
		} else {
			buf = make([]byte, size)
		}
	}
}

// Recv receives the next message, waiting until one comes or ctx is done.
// At the end of stream it returns an error matching io.EOF (and ErrClosed).
// ErrInvalidArg from end A of a one-way pipe. Goroutines waiting in Recv on
// one handle wait their turn, as in Queue.Get.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var data []byte
	err := inTurn(ctx, &c.s.turn,
		func() (err error) { data, err = c.recv(0); return err },
		func() (ended bool, err error) {
			step, last, err := nextStep(ctx)
			if err != nil {
				return true, c.s.contextError("recv", err)
			}
			data, err = c.recv(step)
			retry, err := sliceRanOut(err, last)
			return !retry, err
		},
		func(err error) error { return c.s.contextError("recv", err) })
	return data, err
}

// TryRecv receives the next message if one is there now, else returns
// ErrEmpty (or the io.EOF error at the end of stream).
func (c *Conn) TryRecv() ([]byte, error) { return c.recv(0) }

// RecvJSON receives the next message (as Recv) and decodes it into v with
// encoding/json (Python's Connection.recv). A message that does not decode
// into v is still taken.
func (c *Conn) RecvJSON(ctx context.Context, v any) error {
	data, err := c.Recv(ctx)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("polyipc: pipe '%s': recv: message does not decode into %T: %w", c.s.name, v, err)
	}
	return nil
}

// RecvInto receives the next message into buf without allocating (Python's
// recv_bytes_into) and returns its length, waiting as Recv does. When the
// message is longer than buf it is left in the pipe, n is its length and the
// error matches ErrTooLarge and io.ErrShortBuffer: grow buf and call again.
func (c *Conn) RecvInto(ctx context.Context, buf []byte) (n int, err error) {
	var got int64
	err = c.s.waitInTurn(ctx, "recv", &c.s.turn, false, func(h native.NativePipe, timeoutNs int64) { got = h.Recv_into(buf, timeoutNs) })
	if err != nil {
		return 0, recvError(err)
	}
	if got < 0 {
		return int(-got), newError(StatusTooLarge, io.ErrShortBuffer,
			"pipe '%s': recv: the message of %d bytes does not fit the buffer of %d (it stays in the pipe)",
			c.s.name, -got, len(buf))
	}
	return int(got), nil
}

// Poll reports whether a Recv would return at once: true when a message is
// waiting or at the end of stream (Recv then returns io.EOF), as Python's
// poll. It checks at once, then waits until ctx is done: false (and a nil
// error) when ctx's deadline passes first, false and ctx's error when ctx is
// cancelled. With a ctx that is already done it only checks.
func (c *Conn) Poll(ctx context.Context) (bool, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	step := int64(0)
	for {
		err := c.s.do(func(h native.NativePipe) { h.Poll(step) })
		switch {
		case err == nil, isStatus(err, StatusClosed):
			return true, nil
		case !isStatus(err, StatusTimeout) && !isStatus(err, StatusEmpty):
			return false, err
		}
		step, _, err = nextStep(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return false, nil
		}
		if err != nil {
			return false, c.s.contextError("poll", err)
		}
	}
}

// Stat is the pipe's name, options and counters as a JSON object.
func (c *Conn) Stat() (json.RawMessage, error) { return c.s.stat(native.NativePipe.Stat_json) }
