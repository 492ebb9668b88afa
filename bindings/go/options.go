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
}

// An Option configures OpenQueue.
type Option func(*queueOptions)

// WithOrder sets FIFO (default), LIFO or Priority.
func WithOrder(o Order) Option {
	return func(q *queueOptions) { q.order, q.shaped = o, true }
}

// WithFormat sets JSON (default) or Bytes.
func WithFormat(f Format) Option {
	return func(q *queueOptions) { q.format, q.shaped = f, true }
}

// Joinable makes TaskDone and Join available; a Get is then a lease: if the
// getting process dies before TaskDone, the message is handed out again.
func Joinable() Option {
	return func(q *queueOptions) { q.joinable, q.shaped = true, true }
}

// WithMaxItems bounds the number of messages (Python's maxsize); 0 means
// bounded only by the capacity.
func WithMaxItems(n int) Option {
	return func(q *queueOptions) { q.maxItems = int64(n) }
}

// WithCapacity sets the shared memory for messages in bytes (default 1 MiB).
func WithCapacity(bytes int64) Option {
	return func(q *queueOptions) { q.capacity = bytes }
}

// WithMaxMessageBytes bounds a single message (default: what the capacity allows).
func WithMaxMessageBytes(bytes int64) Option {
	return func(q *queueOptions) { q.maxMessageBytes = bytes }
}

// WithMode sets the permission bits of a queue this call creates (default 0600).
func WithMode(perm os.FileMode) Option {
	return func(q *queueOptions) { q.mode = perm }
}

// Ephemeral makes a queue this call creates disappear when the last
// attached process detaches or dies.
func Ephemeral() Option {
	return func(q *queueOptions) { q.ephemeral = true }
}

// CreateOnly fails with ErrExists when the queue exists.
func CreateOnly() Option {
	return func(q *queueOptions) { q.openMode = createOnly }
}

// OpenOnly fails with ErrNotFound when the queue does not exist. Without
// WithOrder, WithFormat or Joinable it takes the queue as it is; with them,
// the queue must agree (else ErrIncompatible).
func OpenOnly() Option {
	return func(q *queueOptions) { q.openMode = openOnly }
}
