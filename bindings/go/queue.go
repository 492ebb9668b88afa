package polyipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// waitSlice bounds one native wait, so that a blocking call notices a
// cancelled context (or a Close) within this time.
const waitSlice = 50 * time.Millisecond

// Queue is a handle on a named shared-memory queue. It is safe for
// concurrent use; Close releases the handle (never the queue itself).
type Queue struct {
	name string
	// mu guards h: calls hold it for reading while they are in native code
	// (at most one waitSlice when they block), Close for writing.
	mu sync.RWMutex
	h  native.SwigcptrNativeQueue // 0 once closed
	// getHint is about the length of the recent messages Get took (a
	// maximum that decays); 0 before the first. Get reads a message of up to
	// that size straight into the slice it returns (see get).
	getHint atomic.Int64
	// zeroCopy counts the Reservations and Borrowed messages of this handle
	// not yet ended (zerocopy.go). It changes only while mu is held for
	// reading around the native call that starts or ends one, so Close,
	// holding mu for writing, reads a settled count.
	zeroCopy atomic.Int64
	// getTurn and putTurn let one goroutine at a time wait in a native get,
	// and in a native put (turn.go).
	getTurn, putTurn turn
}

// OpenQueue opens queue name in the namespace $POLYIPC_NAMESPACE, creating
// it unless OpenOnly is given. When the queue exists, its order, format and
// joinability must agree with the options (else ErrIncompatible).
func OpenQueue(name string, opts ...Option) (*Queue, error) {
	o, err := openOptions("queue", name, opts)
	if err != nil {
		return nil, err
	}
	if o.semBounded || o.lockNameSet || o.oneWay || o.poolOnly {
		return nil, newError(StatusInvalidArg, nil,
			"queue '%s': Bounded, WithLockName, OneWay, WithMaxTasks and WithResultCapacity do not apply to a queue", name)
	}
	if o.maxItems < 0 || o.capacity < 0 || o.maxMessageBytes < 0 {
		return nil, newError(StatusInvalidArg, nil,
			"queue '%s': max items, capacity and max message bytes must not be negative", name)
	}
	if o.order < FIFO || o.order > Priority || o.format < JSON || o.format > Bytes {
		return nil, newError(StatusInvalidArg, nil, "queue '%s': unknown order %d or format %d", name, o.order, o.format)
	}
	h, err := openNative(name, &o)
	if err != nil {
		return nil, err
	}
	return &Queue{name: name, h: h}, nil
}

func openNative(name string, o *queueOptions) (h native.SwigcptrNativeQueue, err error) {
	defer recoverInto(&err)
	var nq native.NativeQueue
	if o.openMode == openOnly && !o.shaped {
		nq = native.NativeQueueOpen_existing(name)
	} else {
		nq = native.NativeQueueOpen(name, o.openMode, int(o.order), int(o.format), boolInt(o.joinable),
			uint64(o.maxItems), uint64(o.capacity), uint64(o.maxMessageBytes), uint(o.mode.Perm()),
			boolInt(o.ephemeral))
	}
	return native.SwigcptrNativeQueue(nq.Swigcptr()), nil
}

// checkName rejects what cannot reach C intact; the library checks the rest.
func checkName(kind, name string) error {
	if strings.IndexByte(name, 0) >= 0 {
		return newError(StatusInvalidArg, nil, "%s name %q contains a NUL byte", kind, name)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Name is the queue's name.
func (q *Queue) Name() string { return q.name }

// Close releases this handle; the queue and its messages stay for the other
// handles and processes (use Unlink to remove the name). Calls in flight on
// other goroutines end with an ErrHandleClosed error. Close is idempotent.
//
// Closing unmaps the queue's ring, so while a [Reservation] or a [Borrowed]
// message of this handle is outstanding (its slice may still be in use),
// Close refuses with an error matching [ErrZeroCopyInUse] that gives their
// number, and changes nothing: Commit, Cancel or Release them, then Close.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.h != 0 {
		if n := q.zeroCopy.Load(); n > 0 {
			return newError(StatusInvalidArg, ErrZeroCopyInUse,
				"queue '%s': Close with %d reservation(s) or borrowed message(s) outstanding: "+
					"Commit, Cancel or Release them first", q.name, n)
		}
		native.DeleteNativeQueue(q.h)
		q.h = 0
	}
	return nil
}

// with runs f on the native handle, holding the guard so Close cannot free
// it meanwhile.
func (q *Queue) with(f func(h native.SwigcptrNativeQueue) error) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.h == 0 {
		return q.closedError()
	}
	return f(q.h)
}

func (q *Queue) closedError() error {
	return newError(StatusInvalidArg, ErrHandleClosed, "queue '%s': handle used after Close", q.name)
}

// blocking runs op, a native call bounded by a timeout in ns, in slices of
// at most waitSlice until it succeeds, fails with anything but a timeout, the
// context's deadline passes (ErrTimeout, also matching
// context.DeadlineExceeded) or the context is cancelled.
func (q *Queue) blocking(ctx context.Context, what string, op func(h native.SwigcptrNativeQueue, timeoutNs int64) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		step, last, err := q.nextSlice(ctx, what)
		if err != nil {
			return err
		}
		err = q.with(func(h native.SwigcptrNativeQueue) error { return op(h, step) })
		if retry, err := sliceRanOut(err, last); !retry {
			return err
		}
	}
}

// nextSlice is the native timeout of the next slice of a blocking call: at
// most waitSlice, less when the context's deadline comes first (last). It
// fails when the context is done.
func (q *Queue) nextSlice(ctx context.Context, what string) (step int64, last bool, err error) {
	if ctx.Done() == nil {
		// Never cancelled (context.Background, TODO, WithoutCancel), and so
		// without a deadline either: no clock to read.
		return int64(waitSlice), false, nil
	}
	return q.contextSlice(ctx, what)
}

// contextSlice is nextSlice for a context that can be done.
func (q *Queue) contextSlice(ctx context.Context, what string) (step int64, last bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, q.contextError(what, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, false, q.contextError(what, context.DeadlineExceeded)
		}
		if left <= waitSlice {
			return int64(left), true, nil
		}
	}
	return int64(waitSlice), false, nil
}

// sliceRanOut tells whether a blocking call goes on with another slice after
// err: only when this slice ran out and it was not the last. The timeout of
// the last slice matches context.DeadlineExceeded too.
func sliceRanOut(err error, last bool) (retry bool, _ error) {
	if err == nil {
		return false, nil
	}
	e, ok := err.(*Error) // what the native calls return is never wrapped
	if !ok || e.Status != StatusTimeout {
		return false, err
	}
	if last {
		e.cause = context.DeadlineExceeded
		return false, e
	}
	return true, nil
}

func (q *Queue) contextError(what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(StatusTimeout, err, "queue '%s': %s: the context's deadline passed", q.name, what)
	}
	return fmt.Errorf("polyipc: queue '%s': %s: %w", q.name, what, err)
}

// put is one native put within timeoutNs (one cgo call), under the guard.
func (q *Queue) put(data []byte, priority, timeoutNs int64) (err error) {
	q.mu.RLock()
	defer q.endCall(&err)
	if q.h == 0 {
		return q.closedError()
	}
	native.QueuePut(q.h, data, priority, timeoutNs)
	return nil
}

// getInto is one native get within timeoutNs into buf (one cgo call), under
// the guard: the message's length, or minus its length when it is larger
// than buf (it is then left in the queue).
func (q *Queue) getInto(buf []byte, timeoutNs int64) (n int64, err error) {
	q.mu.RLock()
	defer q.endCall(&err)
	if q.h == 0 {
		return 0, q.closedError()
	}
	return native.QueueGetInto(q.h, buf, timeoutNs), nil
}

// endCall, deferred directly by put and getInto after they read-lock the
// guard, releases it and recovers a failing native call into *err (as
// recoverInto: one deferred call instead of two).
func (q *Queue) endCall(err *error) {
	q.mu.RUnlock()
	panicInto(recover(), err)
}

// A message Get takes costs one native call and one allocation, and the
// library allocates nothing. Small messages (getHint <= maxDirectGetSize) are
// read straight into the slice Get returns, of getHint bytes rounded up to a
// multiple of 16 (no more than the allocator takes for getHint bytes): no
// pooled buffer, no copy. One that turns out larger stays in the queue and is
// taken again as a large one (a second native call, once per growth of
// getHint). Large messages are read into a pooled buffer and copied out at
// their exact size.
const (
	maxDirectGetSize = 1024
	getBufferSize    = 4096
	maxPooledGetSize = 1 << 20 // larger buffers are used once
)

var getBuffers = sync.Pool{New: func() any {
	b := make([]byte, getBufferSize)
	return &b
}}

// get takes one message within timeoutNs (one slice), as a new slice.
func (q *Queue) get(timeoutNs int64) ([]byte, error) {
	if hint := q.getHint.Load(); hint > 0 && hint <= maxDirectGetSize {
		// Up to a multiple of 16: the allocator's size classes are, up to
		// 256 bytes, and take at least that beyond.
		buf := make([]byte, (hint+15)&^15)
		n, err := q.getInto(buf, timeoutNs)
		if err != nil {
			return nil, err
		}
		if n >= 0 {
			q.noteGot(hint, n)
			return buf[:n:n], nil
		}
		// Larger than the hint, and left in the queue: take it (or whatever
		// is first by then) as below.
	}
	data, err := q.getLarge(timeoutNs)
	if err == nil {
		q.noteGot(q.getHint.Load(), int64(len(data)))
	}
	return data, err
}

// noteGot updates getHint after a message of n bytes: up to n at once, down
// towards n by a sixteenth of the difference (so a run of small messages
// after a large one goes back to the direct path).
func (q *Queue) noteGot(hint, n int64) {
	next := n
	if n < hint {
		next = hint - (hint-n+15)/16
	}
	if next != hint {
		q.getHint.Store(next)
	}
}

// getLarge takes one message within timeoutNs through a pooled buffer.
func (q *Queue) getLarge(timeoutNs int64) ([]byte, error) {
	bp := getBuffers.Get().(*[]byte)
	defer getBuffers.Put(bp)
	buf := *bp
	for {
		n, err := q.getInto(buf, timeoutNs)
		if err != nil {
			return nil, err
		}
		if n >= 0 {
			data := make([]byte, n)
			copy(data, buf)
			return data, nil
		}
		// Larger than the buffer, and left in the queue: grow, take it again
		// (maybe another message by then, which the loop handles alike).
		size := int(-n)
		if size <= maxPooledGetSize {
			size = max(size, 2*len(buf))
			size = min(size, maxPooledGetSize)
			buf = make([]byte, size)
			*bp = buf
		} else {
			buf = make([]byte, size)
		}
	}
}

// Put appends data, waiting while the queue is full until ctx is done. On a
// JSON-format queue data must be one valid JSON text (else ErrInvalidJSON,
// and the queue is unchanged).
func (q *Queue) Put(ctx context.Context, data []byte) error {
	return q.PutPriority(ctx, data, 0)
}

// PutPriority is Put with a priority: a Priority queue hands out the lowest
// first (FIFO among equals); other orders ignore it.
//
// Goroutines waiting for room on one handle wait their turn, as in Get. The
// one in the native call waits in short slices while others wait behind it,
// so that a message that fits goes in soon after room appears even when the
// waiting one, larger, does not fit yet.
func (q *Queue) PutPriority(ctx context.Context, data []byte, priority int64) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return inTurn(ctx, &q.putTurn,
		func() error { return q.put(data, priority, 0) },
		func() (bool, error) { return q.putSlice(ctx, data, priority) },
		func(err error) error { return q.contextError("put", err) })
}

// putSlice is one slice of PutPriority: ended is false when it ran out and
// the put goes on with another.
func (q *Queue) putSlice(ctx context.Context, data []byte, priority int64) (ended bool, err error) {
	step, last := int64(waitSlice), false
	if ctx.Done() != nil { // nextSlice, by hand: its call costs more than its fast path
		if step, last, err = q.contextSlice(ctx, "put"); err != nil {
			return true, err
		}
	}
	step, last = q.putTurn.rotating(step, last)
	err = q.put(data, priority, step)
	retry, err := sliceRanOut(err, last)
	return !retry, err
}

// TryPut appends data if there is room now, else returns ErrFull.
func (q *Queue) TryPut(data []byte) error {
	return q.put(data, 0, 0)
}

// Get takes the next message, waiting until there is one or ctx is done.
// After CloseWrites, once the queue is drained it returns ErrClosed. On a
// joinable queue call TaskDone (or TaskDoneMessage with the slice returned)
// when the message is handled. Goroutines waiting in Get on one handle wait
// their turn: one waits in the native call (holding an OS thread), the others
// on a channel (turn.go).
func (q *Queue) Get(ctx context.Context) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var data []byte
	err := inTurn(ctx, &q.getTurn,
		func() (err error) { data, err = q.get(0); return err },
		func() (ended bool, err error) { data, ended, err = q.getSlice(ctx); return ended, err },
		func(err error) error { return q.contextError("get", err) })
	return data, err
}

// getSlice is one slice of Get: ended is false when it ran out and Get goes
// on with another.
func (q *Queue) getSlice(ctx context.Context) (data []byte, ended bool, err error) {
	step, last := int64(waitSlice), false
	if ctx.Done() != nil { // nextSlice, by hand (as in PutPriority)
		if step, last, err = q.contextSlice(ctx, "get"); err != nil {
			return nil, true, err
		}
	}
	data, err = q.get(step)
	if err == nil {
		return data, true, nil
	}
	retry, err := sliceRanOut(err, last)
	return nil, !retry, err
}

// Messages consumes the queue until end of stream:
//
//	for msg, err := range q.Messages(ctx) {
//		if err != nil {
//			return err // ctx cancelled or its deadline passed, handle closed, ...
//		}
//		handle(msg)
//		q.TaskDone() // on a joinable queue, as after Get
//	}
//
// Each step is one blocking Get(ctx): nothing is read ahead, so a loop that
// breaks out early leaves every later message in the queue (the next Get
// takes the next one). Once the queue is closed for writing (CloseWrites, by
// any process) and drained, Get's ErrClosed ends the sequence normally,
// without yielding an error. Any other error of Get (ctx cancelled: matches
// context.Canceled; ctx's deadline passed: ErrTimeout, also matching
// context.DeadlineExceeded; the handle closed: ErrHandleClosed) is yielded
// once as (nil, err), and the sequence ends there. On a joinable queue each
// message is a lease, exactly as with Get: end it with TaskDone or
// TaskDoneMessage(msg).
//
// The sequence may be ranged over more than once (each range goes on from
// wherever the queue is), and from several goroutines at once (each message
// goes to one of them).
func (q *Queue) Messages(ctx context.Context) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for {
			msg, err := q.Get(ctx)
			if err != nil {
				if !errors.Is(err, ErrClosed) {
					yield(nil, err)
				}
				return
			}
			if !yield(msg, nil) {
				return
			}
		}
	}
}

// TryGet takes the next message if there is one now, else returns ErrEmpty
// (or ErrClosed once closed for writing and drained). Like TryPut it never
// waits, not even for the queue's lock: under contention it can return
// ErrTimeout.
func (q *Queue) TryGet() ([]byte, error) {
	return q.get(0)
}

// PutJSON puts v encoded with encoding/json.
func (q *Queue) PutJSON(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("polyipc: queue '%s': put: %w", q.name, err)
	}
	return q.Put(ctx, data)
}

// GetJSON takes the next message (as Get) and decodes it into v with
// encoding/json. A message that does not decode into v is still taken.
func (q *Queue) GetJSON(ctx context.Context, v any) error {
	data, err := q.Get(ctx)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("polyipc: queue '%s': get: message does not decode into %T: %w", q.name, v, err)
	}
	return nil
}

// Size is the number of messages in the queue (Python's qsize()).
func (q *Queue) Size() (int, error) {
	var n uint64
	err := q.with(func(h native.SwigcptrNativeQueue) (err error) {
		defer recoverInto(&err)
		n = h.Size()
		return nil
	})
	return int(n), err
}

// TaskDone ends the lease of one message this process got (joinable queues):
// the oldest it has not ended. When several goroutines handle messages and
// may finish them out of order, use TaskDoneMessage instead.
func (q *Queue) TaskDone() error {
	return q.with(func(h native.SwigcptrNativeQueue) (err error) {
		defer recoverInto(&err)
		h.Task_done()
		return nil
	})
}

// TaskDoneMessage ends the lease of the message msg (joinable queues): the
// oldest one this process got with exactly these bytes and has not ended.
// msg must be the message as Get (or TryGet) returned it, unchanged; GetJSON
// keeps no bytes to pass, so such consumers take the message with Get and
// decode it themselves.
//
// Use it when goroutines (a worker pool) finish messages out of order:
// TaskDone always ends the process's oldest lease, so a worker that finishes
// a newer message first would end another worker's lease instead, and if the
// process then dies, the finished message is handed out again while the
// unfinished one is lost. With TaskDoneMessage each worker ends its own, and
// a process that dies leaves exactly its unfinished messages to be handed out
// again.
//
// A msg this process holds no lease on is an ErrInvalidArg error naming the
// queue, and ends nothing.
func (q *Queue) TaskDoneMessage(msg []byte) error {
	return q.with(func(h native.SwigcptrNativeQueue) (err error) {
		defer recoverInto(&err)
		h.Task_done_message(msg)
		return nil
	})
}

// Join waits until every message ever put was TaskDone, or ctx is done.
func (q *Queue) Join(ctx context.Context) error {
	return q.blocking(ctx, "join", func(h native.SwigcptrNativeQueue, timeoutNs int64) (err error) {
		defer recoverInto(&err)
		h.Join(timeoutNs)
		return nil
	})
}

// CloseWrites ends the stream: puts fail with ErrClosed, getters drain what
// is there and then get ErrClosed.
func (q *Queue) CloseWrites() error {
	return q.with(func(h native.SwigcptrNativeQueue) (err error) {
		defer recoverInto(&err)
		h.Close_writes()
		return nil
	})
}

// Stat is the queue's name, options and counters as a JSON object.
func (q *Queue) Stat() (json.RawMessage, error) {
	var s string
	err := q.with(func(h native.SwigcptrNativeQueue) (err error) {
		defer recoverInto(&err)
		s = h.Stat_json()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(s), nil
}
