// Package polyipc is the Go binding of polyipc: named queues in POSIX shared
// memory that processes written in Go, Java, C#, Python, Rust and C share,
// exchanging JSON (or raw bytes) messages, and named locks, semaphores,
// events, conditions and barriers.
//
//	q, err := polyipc.OpenQueue("jobs", polyipc.Joinable())
//	if err != nil { ... }
//	defer q.Close()
//	err = q.PutJSON(ctx, map[string]any{"job": 1})
//	var job map[string]any
//	err = q.GetJSON(ctx, &job)
//	if errors.Is(err, polyipc.ErrClosed) { ... } // end of stream
//
// [Queue.Messages] consumes until end of stream, one blocking Get per step,
// ending normally at ErrClosed:
//
//	for msg, err := range q.Messages(ctx) {
//		if err != nil { ... } // cancelled, deadline, handle closed
//		...
//	}
//
// Objects live in the namespace named by the environment variable
// POLYIPC_NAMESPACE (default "default") and exist until someone calls
// [Unlink] (or, for [Ephemeral] queues, until the last attached process is
// gone). Close only releases this process's handle: nothing in this package,
// no finalizer included, ever unlinks a name.
//
// Blocking calls take a [context.Context]: its deadline is the timeout
// (the error then matches both [ErrTimeout] and context.DeadlineExceeded),
// and a cancelled context makes the call return within about 50 ms, because
// the native wait runs in slices. A [Queue] may be used from many goroutines
// at once, and Close may race with calls in flight.
//
// For large messages, [Queue.Reserve] and [Queue.Borrow] write and read a
// message in the queue's shared ring itself (a []byte over it), saving a copy
// on each side. Such a slice is valid only until [Reservation.Commit] /
// [Reservation.Cancel] / [Borrowed.Release], and Close of the Queue refuses
// ([ErrZeroCopyInUse]) while any is outstanding.
//
// The synchronisation primitives [Lock], [RLock], [Semaphore], [Event],
// [Condition] and [Barrier] are Python's multiprocessing ones, shared by name
// across processes and languages. Lock ownership is per OS thread: a
// goroutine that locks is pinned to its thread until it unlocks, and must be
// the one that unlocks. A holder that died is reported as [ErrOwnerDead]
// while the lock is held by the caller.
//
// Pipes ([OpenPipe], [OpenConn]: a [Conn] per end) carry messages between
// two ends, with io.EOF (errors.Is) at the end of stream, even when the
// other side was killed; [Wait] waits on several [Conn] and [Queue] values.
// [SharedMemory] gives a named block of bytes as a []byte over the mapping
// (see its Close rule), and [Int64Array], [Float64Array], [Int64Value] and
// [Float64Value] are shared numbers with sync/atomic-style operations and an
// optional robust lock.
//
// Worker pools ([OpenPool]) are Python's Pool.apply_async across processes
// and languages: [Pool.Submit] names a function and passes JSON arguments and
// returns a [Future]; a worker takes the [Task] ([Pool.Take]) or runs a loop
// of [Handler] functions ([Pool.Serve]); a failed task is a [*TaskError], and
// one taken back by [Future.Cancel] before any worker took it matches
// [ErrCancelled]. A Pool's Close refuses ([ErrTasksOpen]) while Tasks of it
// are open.
//
// A [Dict] ([OpenDict]) is Python's Manager().dict() without a manager
// process: string keys to JSON values in shared memory, every call atomic,
// with [Dict.CompareAndSet] (JSON equality; [Absent] for "no value"). A
// [List] ([OpenList]) is its Manager().list(): a sequence of JSON values,
// negative indexes counting from the end. [ListObjects] describes every
// object of the namespace.
//
// Building: the package uses cgo and links -lpolyipc. With the library
// installed in the system paths nothing needs to be set; for a build tree set
//
//	CGO_CFLAGS="-I<src>/capi/include"
//	CGO_LDFLAGS="-L<build>/capi -Wl,-rpath,<build>/capi"
//
// (or CGO_CFLAGS=$(pkg-config --cflags polyipc), CGO_LDFLAGS=$(pkg-config --libs polyipc)).
package polyipc

// The SWIG output in internal/native is committed; this regenerates it.
//go:generate ./generate.sh
