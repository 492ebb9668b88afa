package polyipc

import (
	"context"
	"errors"
	"sync"
	"unsafe"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Zero copy: Reserve and Borrow hand out the queue's ring itself as a
// []byte, so a large message is written or read in place instead of being
// copied once into the ring (Put) and once out of it (Get).

// ErrZeroCopyInUse is matched (besides ErrInvalidArg) by the error of
// Queue.Close while a Reservation or a Borrowed message of the handle is
// outstanding: their slices point into the ring that Close would unmap.
var ErrZeroCopyInUse = errors.New("polyipc: reservations or borrowed messages of the queue handle are outstanding " +
	"(Commit, Cancel or Release them first)")

// ErrZeroCopyEnded is matched (besides ErrInvalidArg) by the error of a
// second Commit or Cancel of a Reservation, and of a second Release of a
// Borrowed message.
var ErrZeroCopyEnded = errors.New("polyipc: the reservation or borrowed message has already ended")

// Reservation is room for one message in a queue's ring (see Queue.Reserve):
// write the message into Bytes, then Commit to publish it or Cancel to drop
// it. Until then the bytes are this process's alone and no getter sees them;
// if the process dies first the reservation is dropped.
//
// Lifetime: the slice of Bytes is valid from Reserve until Commit or Cancel
// is called; do not use it from then on (the ring space is reused for other
// messages). While the reservation is outstanding, Close of its Queue
// refuses (ErrZeroCopyInUse), so the slice never points at unmapped memory.
// A Reservation that is never ended holds its ring space (and blocks Close)
// until the process exits: end every one, e.g. with a deferred Cancel (which
// after a Commit just returns ErrZeroCopyEnded).
//
// Its methods may be called from several goroutines; writing into Bytes
// while another goroutine commits is the caller's race.
type Reservation struct {
	q      *Queue
	ticket uint64
	n      int
	mu     sync.Mutex // guards data and ended
	data   []byte     // over the ring; nil once ended
	ended  string     // how it ended ("committed", ...); "" while outstanding
}

// Borrowed is a message taken from a queue but left in its ring (see
// Queue.Borrow): read it through Bytes, then Release it. It is taken as Get
// takes a message (no other getter sees it); if the process dies before
// Release, the message goes back to the queue for the next getter. On a
// joinable queue it is also a lease until TaskDone, as after Get.
//
// Lifetime: the slice of Bytes is valid from Borrow until Release is
// called; do not use it from then on (the ring space is reused for other messages),
// and never write into it (should this process die, these very bytes are
// redelivered to the next getter). While the message is borrowed, Close of its Queue refuses
// (ErrZeroCopyInUse). A Borrowed message never released holds its ring
// space (and blocks Close) until the process exits: defer Release.
//
// Its methods may be called from several goroutines.
type Borrowed struct {
	q        *Queue
	ticket   uint64
	n        int
	mu       sync.Mutex // guards data and released
	data     []byte     // over the ring; nil once released
	released bool
}

// ringSlice is n bytes of the ring at p: C memory, outside the Go heap (the
// GC ignores it), with a capacity of n so that append never writes past it.
// Never nil, so that nil means ended.
func ringSlice(p unsafe.Pointer, n int) []byte {
	if n == 0 || p == nil {
		return []byte{}
	}
	return unsafe.Slice((*byte)(p), n)
}

// Reserve reserves room for a message of n bytes in the ring, waiting while
// the queue is full until ctx is done (as Put). The message has priority 0.
// A size the queue can never hold is ErrTooLarge at once; after CloseWrites
// it is ErrClosed. Write the message
// into r.Bytes(), then r.Commit() (or r.Cancel()); see Reservation for the
// lifetime rule:
//
//	r, err := q.Reserve(ctx, len(header)+len(body))
//	if err != nil { ... }
//	n := copy(r.Bytes(), header)
//	copy(r.Bytes()[n:], body)
//	err = r.Commit()
func (q *Queue) Reserve(ctx context.Context, n int) (*Reservation, error) {
	if n < 0 {
		return nil, q.negativeReservation(n)
	}
	var r *Reservation
	err := q.blocking(ctx, "reserve", func(h native.SwigcptrNativeQueue, timeoutNs int64) (err error) {
		r, err = q.reserve(h, n, timeoutNs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// TryReserve is Reserve if there is room now, else ErrFull. Like TryPut it
// never waits, not even for the queue's lock: under contention it can
// return ErrTimeout.
func (q *Queue) TryReserve(n int) (*Reservation, error) {
	if n < 0 {
		return nil, q.negativeReservation(n)
	}
	var r *Reservation
	err := q.with(func(h native.SwigcptrNativeQueue) (err error) {
		r, err = q.reserve(h, n, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (q *Queue) negativeReservation(n int) error {
	return newError(StatusInvalidArg, nil, "queue '%s': reserve: the size %d is negative", q.name, n)
}

// reserve is one native reserve within timeoutNs, under the guard (q.with).
func (q *Queue) reserve(h native.SwigcptrNativeQueue, n int, timeoutNs int64) (r *Reservation, err error) {
	defer recoverInto(&err)
	p, ticket := native.QueueReserve(h, n, timeoutNs)
	q.zeroCopy.Add(1)
	return &Reservation{q: q, ticket: ticket, n: n, data: ringSlice(p, n)}, nil
}

// Borrow takes the next message as Get does, waiting until there is one or
// ctx is done, but leaves its bytes in the ring: read them through
// b.Bytes(), then b.Release(). After CloseWrites, once the queue is drained
// it returns ErrClosed. See Borrowed for the lifetime rule:
//
//	b, err := q.Borrow(ctx)
//	if err != nil { ... }
//	defer b.Release()
//	process(b.Bytes()) // read only, and not kept after Release
func (q *Queue) Borrow(ctx context.Context) (*Borrowed, error) {
	var b *Borrowed
	err := q.blocking(ctx, "borrow", func(h native.SwigcptrNativeQueue, timeoutNs int64) (err error) {
		b, err = q.borrow(h, timeoutNs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// TryBorrow is Borrow if there is a message now, else ErrEmpty (or
// ErrClosed once closed for writing and drained). Like TryGet it never
// waits, not even for the queue's lock: under contention it can return
// ErrTimeout.
func (q *Queue) TryBorrow() (*Borrowed, error) {
	var b *Borrowed
	err := q.with(func(h native.SwigcptrNativeQueue) (err error) {
		b, err = q.borrow(h, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// borrow is one native borrow within timeoutNs, under the guard (q.with).
func (q *Queue) borrow(h native.SwigcptrNativeQueue, timeoutNs int64) (b *Borrowed, err error) {
	defer recoverInto(&err)
	p, n, ticket := native.QueueBorrow(h, timeoutNs)
	q.zeroCopy.Add(1)
	return &Borrowed{q: q, ticket: ticket, n: int(n), data: ringSlice(p, int(n))}, nil
}

// endZeroCopy runs end (native commit, cancel or release) on ticket under
// the guard. ended tells whether the reservation or borrowed message is no
// longer held afterwards: after success, after INVALID_JSON (a commit that
// dropped it) and after INVALID_ARG (the library holds no such ticket). Any
// other failure leaves it held, to be ended again.
func (q *Queue) endZeroCopy(ticket uint64, end func(native.SwigcptrNativeQueue, uint64)) (ended bool, err error) {
	err = q.with(func(h native.SwigcptrNativeQueue) error {
		err := callEnd(h, ticket, end)
		if ended = endsZeroCopy(err); ended {
			q.zeroCopy.Add(-1)
		}
		return err
	})
	if errors.Is(err, ErrHandleClosed) {
		// Not reached (Close refuses while any is outstanding); nothing is
		// held by a closed handle either way.
		ended = true
	}
	return ended, err
}

func callEnd(h native.SwigcptrNativeQueue, ticket uint64, end func(native.SwigcptrNativeQueue, uint64)) (err error) {
	defer recoverInto(&err)
	end(h, ticket)
	return nil
}

func endsZeroCopy(err error) bool {
	if err == nil {
		return true
	}
	e, ok := err.(*Error)
	return ok && (e.Status == StatusInvalidJSON || e.Status == StatusInvalidArg)
}

// Bytes is the reserved room, exactly the n bytes asked for, in the ring
// itself: write the message there. nil once the reservation has ended; do
// not use a slice it returned after Commit or Cancel.
func (r *Reservation) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data
}

// Len is the size of the reservation (it stays known after it ends).
func (r *Reservation) Len() int { return r.n }

// Commit publishes the bytes as a message. On a JSON-format queue they are
// validated now: if they are not one valid JSON text, Commit returns an
// error matching ErrInvalidJSON and the message is dropped (the queue is
// otherwise unchanged). Either way the reservation has ended: the slice of
// Bytes must not be used any more. A Commit or Cancel after it has ended
// returns an error matching ErrZeroCopyEnded (and ErrInvalidArg).
func (r *Reservation) Commit() error { return r.end("commit", "committed", native.QueueCommit) }

// Cancel drops the reservation: nothing is published and the space comes
// back. The slice of Bytes must not be used any more. A Commit or Cancel
// after it has ended returns an error matching ErrZeroCopyEnded (and
// ErrInvalidArg), so a deferred Cancel after a Commit is harmless.
func (r *Reservation) Cancel() error { return r.end("cancel", "cancelled", native.QueueCancel) }

func (r *Reservation) end(what, done string, end func(native.SwigcptrNativeQueue, uint64)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Checked here, not left to the library: a ticket is a ring position,
	// which a later reservation of this process may hold again.
	if r.ended != "" {
		return newError(StatusInvalidArg, ErrZeroCopyEnded, "queue '%s': %s of a reservation already %s",
			r.q.name, what, r.ended)
	}
	ended, err := r.q.endZeroCopy(r.ticket, end)
	if ended {
		r.data = nil
		r.ended = done
		if err != nil {
			r.ended = "dropped by a " + what + " that failed"
		}
	}
	return err
}

// Bytes is the borrowed message in the ring itself. Read only: never write
// into it. nil once released; do not use a slice it returned after Release.
func (b *Borrowed) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.data
}

// Len is the length of the message (it stays known after Release).
func (b *Borrowed) Len() int { return b.n }

// Release ends the borrow: the message is gone from the queue and its ring
// space may be reused, so the slice of Bytes must not be used any more. A
// second Release returns an error matching ErrZeroCopyEnded (and
// ErrInvalidArg).
func (b *Borrowed) Release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return newError(StatusInvalidArg, ErrZeroCopyEnded, "queue '%s': release of a borrowed message already released",
			b.q.name)
	}
	ended, err := b.q.endZeroCopy(b.ticket, native.QueueRelease)
	if ended {
		b.data = nil
		b.released = true
	}
	return err
}
