package polyipc

import (
	"encoding/json"
	"errors"
	"io"
	"sync"
	"unsafe"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// ErrBytesInUse is matched (besides ErrInvalidArg) by the error of
// SharedMemory.Close while the slice of Bytes is handed out.
var ErrBytesInUse = errors.New("polyipc: the shared memory's bytes are handed out (call ReleaseBytes first)")

// SharedMemory is a named block of shared bytes (Python's
// multiprocessing.shared_memory.SharedMemory), mapped into every process
// that opens it. The bytes start zeroed; nothing synchronises them: use
// atomics, a Lock or an Int64Array for coordination.
//
// Bytes gives the mapping itself as a []byte (no copy). Go cannot tell when
// such a slice is dropped, so the rule that keeps a program from touching
// unmapped memory is explicit: once Bytes has handed the slice out, Close
// refuses (an error matching ErrBytesInUse, the mapping stays) until
// ReleaseBytes declares that no slice from Bytes is used any more. After a
// successful Close, Bytes returns nil and ReadAt / WriteAt / Stat return
// ErrHandleClosed errors. ReadAt and WriteAt (io.ReaderAt, io.WriterAt)
// copy under the handle's guard and need no ReleaseBytes.
//
// The mapping stays valid when another process unlinks the name; Close
// never unlinks (use Unlink). A *SharedMemory may be used from many
// goroutines.
type SharedMemory struct {
	name string
	size int
	// mu guards h and data: ReadAt/WriteAt/Stat hold it for reading, Close
	// for writing.
	mu       sync.RWMutex
	h        native.NativeSharedMemory // nil once closed
	data     []byte                    // over the mapping; nil once closed
	exported bool                      // Bytes handed data out since the last ReleaseBytes
}

// OpenSharedMemory opens the shared memory name, creating it with size
// bytes unless it exists (or OpenOnly is given). size 0 attaches to an
// existing block whatever its size (ErrNotFound when there is none); an
// existing block of another size is ErrIncompatible; more than /dev/shm can
// hold is ErrNoMemory. Options: WithMode, Ephemeral, CreateOnly, OpenOnly.
func OpenSharedMemory(name string, size int, opts ...Option) (*SharedMemory, error) {
	if size < 0 {
		return nil, newError(StatusInvalidArg, nil, "shared memory '%s': the size %d is negative", name, size)
	}
	h, _, err := syncOpen("shared memory", name, opts, nil, func(o *queueOptions) native.NativeSharedMemory {
		return native.NativeSharedMemoryOpen(name, o.openMode, uint64(size), uint(o.mode.Perm()), boolInt(o.ephemeral))
	})
	if err != nil {
		return nil, err
	}
	m := &SharedMemory{name: name, h: h}
	if err := m.mapBytes(); err != nil {
		native.DeleteNativeSharedMemory(h)
		return nil, err
	}
	return m, nil
}

func (m *SharedMemory) mapBytes() (err error) {
	defer recoverInto(&err)
	addr := m.h.Address()
	n := m.h.Size()
	if n > uint64(maxInt) {
		return newError(StatusNoMemory, nil, "shared memory '%s': %d bytes do not fit a Go slice", m.name, n)
	}
	m.size = int(n)
	if n > 0 {
		// The library's mapping, outside the Go heap: the address is
		// reinterpreted as a pointer (not converted from a uintptr, which
		// go vet flags), and the GC ignores it.
		p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
		m.data = unsafe.Slice((*byte)(p), m.size)
	}
	return nil
}

const maxInt = int(^uint(0) >> 1)

// Name is the shared memory's name.
func (m *SharedMemory) Name() string { return m.name }

// Size is the size in bytes (it stays known after Close).
func (m *SharedMemory) Size() int { return m.size }

// Bytes is the shared memory itself as a slice of Size bytes: reads and
// writes go straight to the mapping that every process shares. It stays
// valid until Close succeeds, which it does only after ReleaseBytes (see
// SharedMemory): do not use the slice after ReleaseBytes. nil after Close.
func (m *SharedMemory) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return nil
	}
	m.exported = true
	return m.data
}

// ReleaseBytes declares that no slice returned by Bytes is used any more,
// so that Close may unmap. A later Bytes hands the slice out again.
func (m *SharedMemory) ReleaseBytes() {
	m.mu.Lock()
	m.exported = false
	m.mu.Unlock()
}

// ReadAt copies len(p) bytes from offset off into p (io.ReaderAt): fewer,
// with io.EOF, past the end.
func (m *SharedMemory) ReadAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.checkAt(off); err != nil {
		return 0, err
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt copies p into the shared memory at offset off (io.WriterAt):
// what does not fit is not written, with io.ErrShortWrite.
func (m *SharedMemory) WriteAt(p []byte, off int64) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.checkAt(off); err != nil {
		return 0, err
	}
	n := copy(m.data[off:], p)
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

func (m *SharedMemory) checkAt(off int64) error {
	if m.h == nil {
		return m.closedError()
	}
	if off < 0 || off > int64(m.size) {
		return newError(StatusInvalidArg, nil, "shared memory '%s': offset %d outside [0, %d]", m.name, off, m.size)
	}
	return nil
}

func (m *SharedMemory) closedError() error {
	return newError(StatusInvalidArg, ErrHandleClosed, "shared memory '%s': handle used after Close", m.name)
}

// Stat is the shared memory's name and size as a JSON object.
func (m *SharedMemory) Stat() (out json.RawMessage, err error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.h == nil {
		return nil, m.closedError()
	}
	defer recoverInto(&err)
	return json.RawMessage(m.h.Stat_json()), nil
}

// Close unmaps the shared memory from this process (never removes it: see
// Unlink). While the slice of Bytes is handed out it refuses with an error
// matching ErrBytesInUse and changes nothing; call ReleaseBytes first.
// Idempotent.
func (m *SharedMemory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.h == nil {
		return nil
	}
	if m.exported {
		return newError(StatusInvalidArg, ErrBytesInUse,
			"shared memory '%s': Close while the slice of Bytes is handed out: call ReleaseBytes when it is no longer used",
			m.name)
	}
	native.DeleteNativeSharedMemory(m.h)
	m.h, m.data = nil, nil
	return nil
}
