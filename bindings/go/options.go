package polyipc

import "os"

// Order is the order in which a queue hands out its messages.
type Order int

const (
	FIFO     Order = 0 // first in, first out (default)
	LIFO     Order = 1 // last in, first out
	Priority Order = 2 // lowest priority first (PutPriority), FIFO among equals
)

// Format is what a queue accepts.
type Format int

const (
	JSON  Format = 0 // default: every put is validated; malformed JSON is ErrInvalidJSON
	Bytes Format = 1 // any bytes
)

// How OpenQueue opens (polyipc_open_mode): open or create (the default,
// race-free: concurrent openers all get the same queue), CreateOnly, OpenOnly.
const (
	openOrCreate = 0
	createOnly   = 1
	openOnly     = 2
)

type queueOptions struct {
	openMode        int
	order           Order
	format          Format
	joinable        bool
	maxItems        int64
	capacity        int64
	maxMessageBytes int64
	mode            os.FileMode
	ephemeral       bool
	shaped          bool // order, format or joinable was given
	orderSet        bool // WithOrder was given (queues only)
	oneWay          bool // OneWay (pipes only)

	// Synchronisation primitives only (see sync.go).
	semMax      int64  // Bounded
	semBounded  bool   // Bounded was given
	lockName    string // WithLockName
	lockNameSet bool

	// Pools only (see pool.go).
	maxTasks       int64
	resultCapacity int64
	poolOnly       bool // WithMaxTasks or WithResultCapacity was given
}

// openOptions is what every Open does first: the library loaded, opts
// applied over the defaults, and a name that can reach C. The checks of
// which options apply are each kind's own.
func openOptions(kind, name string, opts []Option) (queueOptions, error) {
	if loadErr != nil {
		return queueOptions{}, loadErr
	}
	o := queueOptions{openMode: openOrCreate}
	for _, opt := range opts {
		opt(&o)
	}
	return o, checkName(kind, name)
}

// An Option configures OpenQueue, OpenPool, OpenPipe, OpenDict or the Open function of
// a synchronisation primitive (OpenLock, OpenSemaphore, ...). WithMode,
// CreateOnly and OpenOnly apply to every kind, Ephemeral to every kind but
// pools; the others only to the kind they name, and given to another kind
// they make the Open fail with ErrInvalidArg.
type Option func(*queueOptions)

// WithOrder sets FIFO (default), LIFO or Priority.
func WithOrder(o Order) Option {
	return func(q *queueOptions) { q.order, q.shaped, q.orderSet = o, true, true }
}

// WithFormat sets JSON (default) or Bytes, for a queue or a pipe.
func WithFormat(f Format) Option {
	return func(q *queueOptions) { q.format, q.shaped = f, true }
}

// Joinable makes TaskDone and Join available; a Get is then a lease: if the
// getting process dies before TaskDone, the message is handed out again.
func Joinable() Option {
	return func(q *queueOptions) { q.joinable, q.shaped = true, true }
}

// WithMaxItems bounds the number of messages (Python's maxsize); 0 means
// bounded only by the capacity. For a dict it bounds the number of keys (0:
// the default, 4096).
func WithMaxItems(n int) Option {
	return func(q *queueOptions) { q.maxItems = int64(n) }
}

// WithCapacity sets the shared memory for messages in bytes (default: 1 MiB
// for a queue; 4 MiB per direction for a pipe, where a message is at most
// capacity - 8 bytes; 1 MiB for a pool's tasks; 1 MiB for a dict's keys and
// values).
func WithCapacity(bytes int64) Option {
	return func(q *queueOptions) { q.capacity = bytes }
}

// WithMaxMessageBytes bounds a single message (default: what the capacity allows).
func WithMaxMessageBytes(bytes int64) Option {
	return func(q *queueOptions) { q.maxMessageBytes = bytes }
}

// WithMode sets the permission bits of an object this call creates (default 0600).
func WithMode(perm os.FileMode) Option {
	return func(q *queueOptions) { q.mode = perm }
}

// Ephemeral makes an object this call creates disappear when the last
// attached process detaches or dies.
func Ephemeral() Option {
	return func(q *queueOptions) { q.ephemeral = true }
}

// CreateOnly fails with ErrExists when the name exists.
func CreateOnly() Option {
	return func(q *queueOptions) { q.openMode = createOnly }
}

// OpenOnly fails with ErrNotFound when the name does not exist. Without
// WithOrder, WithFormat or Joinable it takes a queue as it is; with them,
// the queue must agree (else ErrIncompatible). A semaphore opened with
// OpenOnly is taken as it is (its initial value and Bounded are ignored).
func OpenOnly() Option {
	return func(q *queueOptions) { q.openMode = openOnly }
}

// Bounded makes OpenSemaphore create a bounded semaphore (Python's
// BoundedSemaphore): a Release that would raise its value past max fails
// with ErrInvalidArg. An existing semaphore must have the same max (else
// ErrIncompatible); without Bounded it must be unbounded. Semaphores only.
func Bounded(max int) Option {
	return func(q *queueOptions) { q.semMax, q.semBounded = int64(max), true }
}

// WithLockName binds OpenCondition to the lock (or rlock) named lockName
// instead of the default "<name>.lock". Conditions only.
func WithLockName(lockName string) Option {
	return func(q *queueOptions) { q.lockName, q.lockNameSet = lockName, true }
}

// OneWay makes OpenPipe / OpenConn create a one-way pipe (Python's
// Pipe(duplex=False)): only end A sends, only end B receives. An existing
// pipe must agree (else ErrIncompatible). Pipes only.
func OneWay() Option {
	return func(q *queueOptions) { q.oneWay, q.shaped = true, true }
}

// WithMaxTasks bounds the number of tasks waiting in a pool (0, the default:
// bounded by its capacity only). Pools only.
func WithMaxTasks(n int) Option {
	return func(q *queueOptions) { q.maxTasks, q.poolOnly = int64(n), true }
}

// WithResultCapacity sets the shared memory of the result queue each
// submitting pool handle gets, in bytes (default 1 MiB): a result too large
// for it reaches the submitter as a failed task. Pools only.
func WithResultCapacity(bytes int64) Option {
	return func(q *queueOptions) { q.resultCapacity, q.poolOnly = bytes, true }
}

// managedOptions is openOptions for a dict or a list (kind), which take
// WithCapacity, WithMaxItems, WithMode, Ephemeral, CreateOnly and OpenOnly.
func managedOptions(kind, name string, opts []Option) (queueOptions, error) {
	o, err := openOptions(kind, name, opts)
	if err != nil {
		return o, err
	}
	if o.shaped || o.maxMessageBytes != 0 || o.semBounded || o.lockNameSet || o.poolOnly {
		return o, newError(StatusInvalidArg, nil,
			"%s '%s': WithOrder, WithFormat, Joinable, WithMaxMessageBytes, OneWay, Bounded, WithLockName, "+
				"WithMaxTasks and WithResultCapacity do not apply to a %s", kind, name, kind)
	}
	if o.capacity < 0 || o.maxItems < 0 {
		return o, newError(StatusInvalidArg, nil, "%s '%s': capacity and max items must not be negative", kind, name)
	}
	return o, nil
}
