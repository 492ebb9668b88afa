package polyipc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/polyipc/polyipc/bindings/go/internal/native"
)

// Pool is a handle on a named worker pool: Python's Pool.apply_async across
// processes and languages. Any handle can submit tasks (a function name and
// JSON arguments) and work on them: a worker takes a task, runs what it
// registered under that name and finishes it with a JSON result or an error
// text, which goes back to the submitting handle alone. A worker that dies
// mid-task, or gives a task back ([Task.Close]), has it handed to another
// worker: a task runs at least once, and its result is returned once.
//
// A Pool is safe for concurrent use: several goroutines may submit, wait for
// results (each for its own [Future], or [Pool.Next]) and take tasks at
// once. Close releases the handle (never the pool itself) and, with it, the
// queue the results of its tasks come back in.
type Pool struct {
	// s is the handle and its guard; Task.Finish holds the guard for reading
	// as long as the submitter's result queue is full.
	s *syncHandle[native.SwigcptrNativePool]
	// tasks counts the Tasks taken through this handle and not yet finished
	// or given back. It changes only while the guard is held for reading, so
	// Close, holding it for writing, reads a settled count.
	tasks atomic.Int64

	// fmu guards futures: the Futures of this handle whose result is still
	// to come, by task id (see Future), and what follows.
	fmu     sync.Mutex
	futures map[uint64]*Future
	// watched are the Futures whose Done was asked for before their result
	// came. While there are any, a goroutine (watching) receives this
	// handle's results, as Next does, so that Done closes with nobody in
	// Wait. kick wakes it when a watched Future resolved another way.
	watched  map[*Future]struct{}
	watching bool
	kick     chan struct{}
	closed   bool // Close released the handle: pending Futures failed
	// taking counts the goroutines between a native result call and the
	// hand-over of what it returned (receive, Next). Close waits for them
	// before it fails the pending Futures, so a result taken before Close
	// reaches its Future. (Handing over inside the native call, under the
	// handle's read lock, did the same but cost Done a third of its rate.)
	taking atomic.Int64
}

// ErrTasksOpen is matched (besides ErrInvalidArg) by the error of
// [Pool.Close] while Tasks taken through the handle are neither finished nor
// given back.
var ErrTasksOpen = errors.New("polyipc: tasks taken through the pool handle are open")

// OpenPool opens pool name in the namespace $POLYIPC_NAMESPACE, creating it
// unless OpenOnly is given. Options: WithCapacity (the tasks' shared memory,
// default 1 MiB), WithMaxTasks (default 0: bounded by the capacity only),
// WithResultCapacity (each submitting handle's result queue, default 1 MiB),
// WithMode, CreateOnly, OpenOnly; any other is ErrInvalidArg. Pool names
// have at most 160 characters; a name holding another kind of object is
// ErrIncompatible.
func OpenPool(name string, opts ...Option) (p *Pool, err error) {
	o, err := openOptions("pool", name, opts)
	if err != nil {
		return nil, err
	}
	if o.shaped || o.maxItems != 0 || o.maxMessageBytes != 0 || o.ephemeral || o.semBounded || o.lockNameSet {
		return nil, newError(StatusInvalidArg, nil,
			"pool '%s': WithOrder, WithFormat, Joinable, WithMaxItems, WithMaxMessageBytes, Ephemeral, OneWay, "+
				"Bounded and WithLockName do not apply to a pool", name)
	}
	if o.capacity < 0 || o.maxTasks < 0 || o.resultCapacity < 0 {
		return nil, newError(StatusInvalidArg, nil,
			"pool '%s': capacity, max tasks and result capacity must not be negative", name)
	}
	defer recoverInto(&err)
	np := native.NativePoolOpen(name, o.openMode, uint64(o.capacity), uint64(o.maxTasks), uint64(o.resultCapacity),
		uint(o.mode.Perm()))
	h := native.SwigcptrNativePool(np.Swigcptr())
	free := func(h native.SwigcptrNativePool) { native.DeleteNativePool(h) }
	return &Pool{s: newSyncHandle("pool", name, h, free), futures: map[uint64]*Future{}, watched: map[*Future]struct{}{},
		kick: make(chan struct{}, 1)}, nil
}

// Name is the pool's name.
func (p *Pool) Name() string { return p.s.name }

// Close releases this handle; the pool and its tasks stay for the other
// handles and processes (use Unlink to remove the name). The results still
// to come for this handle's tasks are dropped: their Futures are done (Done
// closes) and Wait fails with ErrHandleClosed, as do calls in flight on
// other goroutines. A result already taken by a call in flight reaches its
// Future first (Close waits for its hand-over). Close is idempotent.
//
// A Task refers to the handle it was taken through, so while Tasks of this
// handle are open (neither finished nor given back), Close refuses with an
// error matching [ErrTasksOpen] that gives their number, and changes
// nothing: Finish, Fail or Close them, then Close.
func (p *Pool) Close() error {
	err := p.s.closeUnless(func() error {
		if n := p.tasks.Load(); n > 0 {
			return newError(StatusInvalidArg, ErrTasksOpen,
				"pool '%s': Close with %d task(s) taken and not finished: Finish, Fail or Close them first", p.s.name, n)
		}
		return nil
	})
	if err == nil {
		// Hand-overs in flight are short and run no user code; calls that
		// start now fail at once.
		for p.taking.Load() > 0 {
			runtime.Gosched()
		}
		p.failPending()
	}
	return err
}

// failPending ends every Future whose result was still to come when the
// handle closed: no result can come to them any more.
func (p *Pool) failPending() {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	p.closed = true
	for id, f := range p.futures {
		if !isDone(f.done) {
			f.lost = newError(StatusInvalidArg, ErrHandleClosed,
				"pool '%s': task %d (%s): the handle was closed before its result came", p.s.name, id, f.function)
			close(f.done)
		}
		delete(p.futures, id)
	}
	clear(p.watched)
	p.nudge()
}

// marshalJSON is v encoded with encoding/json; a json.RawMessage or a
// []byte is taken as JSON text already, as it is.
func marshalJSON(v any) ([]byte, error) {
	switch x := v.(type) {
	case json.RawMessage:
		return x, nil
	case []byte:
		return x, nil
	}
	return json.Marshal(v)
}

// isRawJSON reports whether marshalJSON takes v as JSON text as it is.
func isRawJSON(v any) bool {
	switch v.(type) {
	case json.RawMessage, []byte:
		return true
	}
	return false
}

// ---- submitting ---------------------------------------------------------

// Future is the result to come of a task submitted through a Pool handle.
// Its methods are safe for concurrent use.
type Future struct {
	pool     *Pool
	id       uint64
	function string // set by Submit (under pool.fmu)
	// done is closed once the result is here (ok, cancelled, result,
	// errText set).
	done      chan struct{}
	ok        bool
	cancelled bool
	result    json.RawMessage
	errText   string
	lost      error // the handle closed before the result came
	claimed   bool  // Submit returned it (under pool.fmu)
}

// ErrCancelled is matched (errors.Is) by the error of [Future.Wait] and
// [Future.Decode] for a task that [Future.Cancel] took back before any worker
// took it: the task never ran.
var ErrCancelled = errors.New("polyipc: the task was cancelled")

// TaskError is the error of a task whose worker failed it: Message is the
// worker's error text, exactly (a Go handler's err.Error(), a Python
// worker's "<ExceptionType>: <message>", ...).
type TaskError struct {
	Pool     string
	ID       uint64 // the task id, per submitting handle
	Function string
	Message  string
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("polyipc: pool '%s': task %d (%s) failed: %s", e.Pool, e.ID, e.Function, e.Message)
}

// Submit submits function(args) to the pool, waiting while the pool is full
// until ctx is done, and returns the task's Future. args is encoded with
// encoding/json; a json.RawMessage or a []byte is sent as it is and must be
// one JSON text (else ErrInvalidJSON). An empty function name is
// ErrInvalidArg; after CloseTasks, Submit fails with ErrClosed.
func (p *Pool) Submit(ctx context.Context, function string, args any) (*Future, error) {
	data, err := marshalJSON(args)
	if err != nil {
		return nil, fmt.Errorf("polyipc: pool '%s': submit '%s': %w", p.s.name, function, err)
	}
	if strings.IndexByte(function, 0) >= 0 {
		return nil, newError(StatusInvalidArg, nil, "pool '%s': submit: the function name %q contains a NUL byte",
			p.s.name, function)
	}
	var id uint64
	err = p.s.wait(ctx, "submit", func(h native.SwigcptrNativePool, timeoutNs int64) {
		id = native.PoolSubmit(h, function, data, timeoutNs)
	})
	if err != nil {
		return nil, err
	}
	p.fmu.Lock()
	defer p.fmu.Unlock()
	return p.claimLocked(id, function), nil
}

// SubmitMany submits function(args[i]) for each i (encoded as by Submit),
// chunk of them to a pool message: a worker runs a message's tasks one after
// another, and each task has its own Future and result, as after Submit.
// Chunks save the pool's queue traffic for many small tasks; workers in any
// language serve them unchanged (they need polyipc 0.7.0 or later). chunk
// <= 1 submits plain tasks. It waits while the pool is full until ctx is
// done; while tasks of this call are out, it collects their results (for
// their Futures) instead of waiting for room, so that a batch larger than
// the pool and this handle's result queue never waits on itself. The
// Futures come in the order of args; on an error they are those of the
// tasks submitted before it (their results still come). A task of a chunk
// cannot be cancelled on its own (Cancel reports false).
func (p *Pool) SubmitMany(ctx context.Context, function string, args []any, chunk int) ([]*Future, error) {
	if strings.IndexByte(function, 0) >= 0 {
		return nil, newError(StatusInvalidArg, nil, "pool '%s': submit: the function name %q contains a NUL byte",
			p.s.name, function)
	}
	if chunk < 1 {
		chunk = 1
	}
	texts, err := p.marshalArgs("submit", function, args)
	if err != nil {
		return nil, err
	}
	var data []byte
	lens := make([]uint64, len(args))
	for i, text := range texts {
		data = append(data, text...)
		lens[i] = uint64(len(text))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	futures := make([]*Future, 0, len(args))
	pos, off := 0, 0 // the next task to submit, and where its arguments start in data
	submit := func(h native.SwigcptrNativePool, timeoutNs int64) {
		var first, done uint64
		defer func() { // also when the call panics: the tasks before the failure went in
			p.fmu.Lock()
			for i := uint64(0); i < done; i++ {
				futures = append(futures, p.claimLocked(first+i, function))
				off += int(lens[pos])
				pos++
			}
			p.fmu.Unlock()
		}()
		// At most a group per call: the library checks every argument it is
		// given before putting any, and a full pool takes a few chunks a call.
		end := min(len(lens), pos+max(chunk, groupTasks/chunk*chunk))
		native.PoolSubmitMany(h, function, data[off:], lens[pos:end], chunk, timeoutNs, &first, &done)
	}
	oldest := 0 // the first Future of this call whose result may still be to come
	for pos < len(args) {
		for oldest < len(futures) && isDone(futures[oldest].done) {
			oldest++
		}
		if oldest == len(futures) { // nothing of ours to collect: wait for room, a slice at a time
			if ended, err := p.s.slice(ctx, "submit", submit); ended && err != nil {
				return futures, err
			}
			continue
		}
		before := pos
		err := p.s.do(func(h native.SwigcptrNativePool) { submit(h, 0) }) // the room there is now
		switch {
		case err == nil || pos > before:
		case isStatus(err, StatusFull) || isStatus(err, StatusTimeout):
			// No room: workers may be waiting for room in our result queue, which
			// collecting makes. A chunk's worth of results: about a message taken.
			for _, f := range futures[oldest:min(len(futures), oldest+chunk)] {
				if err := f.await(ctx); err != nil {
					return futures, err
				}
			}
		default:
			return futures, err
		}
	}
	return futures, nil
}

// marshalArgs encodes each of args as Submit does, every one checked before
// any is submitted (the native calls take a group each, so the library's own
// check of them all comes a group at a time).
func (p *Pool) marshalArgs(what, function string, args []any) ([][]byte, error) {
	texts := make([][]byte, len(args))
	for i, a := range args {
		text, err := marshalJSON(a)
		if err == nil && isRawJSON(a) && !json.Valid(text) {
			err = newError(StatusInvalidJSON, nil, "not valid JSON")
		}
		if err != nil {
			return nil, fmt.Errorf("polyipc: pool '%s': %s '%s': arguments %d: %w", p.s.name, what, function, i, err)
		}
		texts[i] = text
	}
	return texts, nil
}

// groupTasks is about how many tasks Map and SubmitMany pass to one native
// call (whole chunks); Map keeps two such groups out at a time.
const groupTasks = 2048

// Map runs function(args[i]) for each i on the pool's workers and returns
// their results in the order of args, as Python's Pool.map: args are encoded
// as by Submit, chunk of them to a pool message (chunk <= 1: plain tasks).
// The arguments go in as JSON arrays, a group of tasks per native call, and
// the results come back the same way, so the per-task cost stays in the
// workers. Once every task has ended, the first failed one (in order)
// returns its *TaskError. While the pool is full, Map waits until ctx is
// done, collecting its own results meanwhile; an error other than a failed
// task (ctx done, Close) leaves the tasks out to run, their results dropped
// with the handle. Map's tasks have no Futures, and Next never returns them.
func (p *Pool) Map(ctx context.Context, function string, args []any, chunk int) ([]json.RawMessage, error) {
	if strings.IndexByte(function, 0) >= 0 {
		return nil, newError(StatusInvalidArg, nil, "pool '%s': map: the function name %q contains a NUL byte",
			p.s.name, function)
	}
	if chunk < 1 {
		chunk = 1
	}
	if ctx == nil {
		ctx = context.Background()
	}
	texts, err := p.marshalArgs("map", function, args)
	if err != nil {
		return nil, err
	}
	group := max(chunk, groupTasks/chunk*chunk)
	type span struct {
		first uint64
		count int
	}
	var out []json.RawMessage
	var spans []span // submitted, not collected yet, in order
	var failure error
	collect := func() error {
		g := spans[0]
		spans = spans[1:]
		var msg []byte
		err := p.s.wait(ctx, "map", func(h native.SwigcptrNativePool, timeoutNs int64) {
			msg = h.Results(g.first, int64(g.count), timeoutNs)
		})
		if err != nil {
			return err
		}
		var failures map[string]resultMessage
		both, ok := jsonElements(msg, 2)
		var values []json.RawMessage
		if ok && len(both) == 2 {
			values, ok = jsonElements(both[0], g.count)
		}
		if ok && len(both) == 2 && string(both[1]) != "{}" && string(both[1]) != "null" {
			ok = json.Unmarshal(both[1], &failures) == nil
		}
		if !ok || len(values) != g.count {
			return newError(StatusIncompatible, nil, "pool '%s': map: results that do not parse: %.200s", p.s.name, msg)
		}
		out = append(out, values...)
		if len(failures) > 0 && failure == nil {
			at := -1
			for k := range failures {
				if i, err := strconv.Atoi(k); err == nil && (at < 0 || i < at) {
					at = i
				}
			}
			r := failures[strconv.Itoa(at)]
			if r.Cancelled {
				failure = fmt.Errorf("polyipc: pool '%s': task %d (%s): %w", p.s.name, r.ID, function, ErrCancelled)
			} else {
				failure = &TaskError{Pool: p.s.name, ID: r.ID, Function: function, Message: r.Error}
			}
		}
		return nil
	}
	next := 0 // the next task to submit
	for (next < len(args) && failure == nil) || len(spans) > 0 {
		if next < len(args) && failure == nil && len(spans) < 2 {
			end := min(next+group, len(args))
			size := 2 + end - next
			for _, t := range texts[next:end] {
				size += len(t)
			}
			data := make([]byte, 0, size)
			data = append(data, '[')
			for i, t := range texts[next:end] {
				if i > 0 {
					data = append(data, ',')
				}
				data = append(data, t...)
			}
			data = append(data, ']')
			var first, done uint64
			submit := func(h native.SwigcptrNativePool, timeoutNs int64) {
				native.PoolSubmitArray(h, function, data, chunk, timeoutNs, &first, &done)
			}
			err := p.s.do(func(h native.SwigcptrNativePool) { submit(h, 0) }) // the room there is now
			if done == 0 && len(spans) == 0 && (isStatus(err, StatusFull) || isStatus(err, StatusTimeout)) {
				// Nothing of ours is out: wait for room, a slice at a time, but for one
				// chunk only, so that no result of ours fills the result queue meanwhile.
				data = append(append(append(data[:0], '['), bytes.Join(texts[next:min(next+chunk, len(args))], []byte(","))...), ']')
				var ended bool
				if ended, err = p.s.slice(ctx, "map", submit); !ended {
					err = nil
				}
			}
			if done > 0 {
				spans = append(spans, span{first, int(done)})
				next += int(done)
			}
			switch {
			case err == nil || done > 0:
				continue
			case len(spans) > 0 && (isStatus(err, StatusFull) || isStatus(err, StatusTimeout)):
				// No room: collecting makes some (workers may wait for room in our result queue).
			default:
				return nil, err
			}
		}
		if err := collect(); err != nil {
			return nil, err
		}
	}
	if failure != nil {
		return nil, failure
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	return out, nil
}

// claimLocked is the Future of task id, just submitted: a concurrent Next
// may have delivered its result already; p.fmu held.
func (p *Pool) claimLocked(id uint64, function string) *Future {
	f := p.futureLocked(id)
	f.function = function
	if isDone(f.done) {
		delete(p.futures, id)
	} else {
		f.claimed = true
	}
	return f
}

// futureLocked is the Future of task id, made if there is none; p.fmu held.
func (p *Pool) futureLocked(id uint64) *Future {
	f := p.futures[id]
	if f == nil {
		f = &Future{pool: p, id: id, done: make(chan struct{})}
		p.futures[id] = f
	}
	return f
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// resultMessage is what polyipc_pool_result returns.
type resultMessage struct {
	ID        uint64          `json:"id"`
	OK        bool            `json:"ok"`
	Cancelled bool            `json:"cancelled"` // the task was cancelled (polyipc_pool_cancel)
	Result    json.RawMessage `json:"result"`
	Error     string          `json:"error"`
}

// beforeHandOver, when set (by tests only), runs in deliver before anything else.
var beforeHandOver func()

// deliver hands a result message to the Future of its task and returns it.
func (p *Pool) deliver(msg []byte) (*Future, error) {
	if beforeHandOver != nil {
		beforeHandOver()
	}
	var r resultMessage
	if err := json.Unmarshal(msg, &r); err != nil || r.ID == 0 {
		return nil, newError(StatusInvalidJSON, err, "pool '%s': a result that does not parse: %.200s", p.s.name, msg)
	}
	p.fmu.Lock()
	defer p.fmu.Unlock()
	f := p.futureLocked(r.ID)
	f.resolveLocked(r)
	return f, nil
}

// resolveLocked sets f's result to r (unless f has one already: the library
// returns each id's result once, but Cancel may have resolved f when it could
// not collect the cancelled result) and lets it go from the pool's table
// once Submit returned it; pool.fmu held.
func (f *Future) resolveLocked(r resultMessage) {
	if !isDone(f.done) {
		f.ok, f.cancelled, f.result, f.errText = r.OK && !r.Cancelled, r.Cancelled, r.Result, r.Error
		if f.ok && f.result == nil {
			f.result = json.RawMessage("null")
		}
		close(f.done)
	}
	if f.claimed {
		delete(f.pool.futures, f.id)
	}
	if _, ok := f.pool.watched[f]; ok {
		delete(f.pool.watched, f)
		f.pool.nudge()
	}
}

// nudge wakes the watching goroutine if it waits for a change; p.fmu held.
func (p *Pool) nudge() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// ID is the task's id (per submitting handle, from 1).
func (f *Future) ID() uint64 { return f.id }

// Done is closed once the result is here (Wait then returns at once), or
// the handle was closed before it came (Wait fails with ErrHandleClosed), so
// that a select on Done works with no goroutine in Wait: until then a
// goroutine of the handle receives its results as they come, as Next does
// (a Next of yours shares them with it meanwhile; each still reaches its
// own Future).
func (f *Future) Done() <-chan struct{} {
	if !isDone(f.done) {
		f.pool.watch(f)
	}
	return f.done
}

// watch has f's result received in the background (see Done).
func (p *Pool) watch(f *Future) {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	if isDone(f.done) || p.closed {
		return
	}
	p.watched[f] = struct{}{}
	if !p.watching {
		p.watching = true
		go p.receiveWatched()
	}
}

// receiveWatched receives this handle's results while watched Futures wait
// for theirs, then ends (watch starts it again).
func (p *Pool) receiveWatched() {
	for {
		p.fmu.Lock()
		if len(p.watched) == 0 {
			p.watching = false
			p.fmu.Unlock()
			return
		}
		p.fmu.Unlock()
		// receive's steps written out: through receive itself, SubmitDone's
		// rate fell from 124k to 89k tasks/s (bench_test.go). A CPU profile
		// put 26% (against 13%) in runtime.newstack/copystack: the extra
		// frame made this goroutine's stack grow again after each GC shrank it.
		p.taking.Add(1)
		var msg []byte
		ended, err := p.s.slice(context.Background(), "result", func(h native.SwigcptrNativePool, timeoutNs int64) {
			msg = h.Result(0, timeoutNs)
		})
		if ended && err == nil {
			_, err = p.deliver(msg)
		}
		p.taking.Add(-1)
		if !ended || err == nil {
			continue
		}
		// None is to come now (goroutines wait for them by id), the handle
		// closed (failPending ended the watched), or a result did not parse:
		// look again once something changed, or a slice later.
		select {
		case <-p.kick:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Wait waits until the task's result is here or ctx is done, and returns the
// result as the worker's JSON. A task its worker failed returns a
// *TaskError; a cancelled one (see Cancel) an error matching ErrCancelled.
// When ctx's deadline passes first the error matches ErrTimeout (and
// context.DeadlineExceeded): the task goes on, ask again. Wait can be called
// again (and from several goroutines): it returns the same result.
func (f *Future) Wait(ctx context.Context) (json.RawMessage, error) {
	if err := f.await(ctx); err != nil {
		return nil, err
	}
	return f.outcome()
}

// await waits until f's result is here (f.done closed) or ctx is done.
func (f *Future) await(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p := f.pool
	for !isDone(f.done) {
		_, ended, err := p.receive(ctx, f.id)
		if !ended {
			continue // checking f.done: another goroutine may have its result
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrInvalidArg) || errors.Is(err, ErrHandleClosed) {
			return err
		}
		// No result of this task is to come any more: another goroutine
		// (Next, or a Wait on this Future) took it and is handing it here.
		select {
		case <-f.done:
		case <-ctx.Done():
			return p.s.contextError("result", ctx.Err())
		case <-time.After(5 * time.Second): // never, unless the library forgot the task
			return err
		}
	}
	return nil
}

func (f *Future) outcome() (json.RawMessage, error) {
	if f.ok {
		return f.result, nil
	}
	if f.lost != nil {
		return nil, f.lost
	}
	f.pool.fmu.Lock()
	function := f.function
	f.pool.fmu.Unlock()
	if f.cancelled {
		return nil, fmt.Errorf("polyipc: pool '%s': task %d (%s): %w", f.pool.s.name, f.id, function, ErrCancelled)
	}
	return nil, &TaskError{Pool: f.pool.s.name, ID: f.id, Function: function, Message: f.errText}
}

// Cancel takes the task back out of the pool if no worker has taken it yet
// (java.util.concurrent's Future.cancel(false)): it returns true, the task
// never runs, Join does not wait for it, and the Future is done and
// cancelled: Wait and Decode (those already waiting too) fail with an error
// matching ErrCancelled. It returns false, changing nothing, when a worker
// has the task (its result comes as usual), when the result is here already
// or when the task was cancelled already. The error is that of the handle
// (ErrHandleClosed after Close).
func (f *Future) Cancel() (bool, error) {
	if isDone(f.done) {
		return false, f.lost
	}
	p := f.pool
	var cancelled int
	err := p.s.do(func(h native.SwigcptrNativePool) { cancelled = h.Cancel(f.id) })
	if errors.Is(err, ErrInvalidArg) && !errors.Is(err, ErrHandleClosed) {
		return false, nil // its result came (being handed here) or it was cancelled already
	}
	if err != nil || cancelled == 0 {
		return false, err
	}
	// Its cancelled result is in this handle's result queue now: collect it
	// (or let the goroutine that took it hand it here), so that the library
	// forgets the task and Next does not return it later.
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if f.await(ctx) != nil { // never, unless the handle was closed meanwhile
		p.fmu.Lock()
		f.resolveLocked(resultMessage{ID: f.id, Cancelled: true, Error: "cancelled"})
		p.fmu.Unlock()
	}
	return true, nil
}

// Cancelled reports whether the task was cancelled (its Future is done).
func (f *Future) Cancelled() bool {
	return isDone(f.done) && f.cancelled
}

// Decode waits for the result (as Wait) and decodes it into v with
// encoding/json.
func (f *Future) Decode(ctx context.Context, v any) error {
	data, err := f.Wait(ctx)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("polyipc: pool '%s': task %d: the result does not decode into %T: %w", f.pool.s.name, f.id, v, err)
	}
	return nil
}

// Next waits for the result of any task of this handle (the first to
// arrive) until ctx is done, and returns that task's Future, resolved: its
// Wait returns at once. It is the same *Future Submit returned (one being
// cancelled can be among them: then Cancelled() is true). When no result of
// this handle is to come (every one was returned), Next fails with
// ErrInvalidArg.
func (p *Pool) Next(ctx context.Context) (*Future, error) {
	p.taking.Add(1)
	defer p.taking.Add(-1)
	var msg []byte
	err := p.s.wait(ctx, "result", func(h native.SwigcptrNativePool, timeoutNs int64) {
		msg = h.Result(0, timeoutNs)
	})
	if err != nil {
		return nil, err
	}
	return p.deliver(msg)
}

// receive waits one slice for the result of task id (0: any task) and hands
// it to its Future, counted in taking (see Close). ended and err as
// syncHandle.slice; a result that does not parse gives an error of
// StatusInvalidJSON.
func (p *Pool) receive(ctx context.Context, id uint64) (f *Future, ended bool, err error) {
	p.taking.Add(1)
	defer p.taking.Add(-1)
	var msg []byte
	ended, err = p.s.slice(ctx, "result", func(h native.SwigcptrNativePool, timeoutNs int64) {
		msg = h.Result(id, timeoutNs)
	})
	if ended && err == nil {
		f, err = p.deliver(msg)
	}
	return f, ended, err
}

// ---- working --------------------------------------------------------------

// Task is a task taken from a pool by a worker. Finish it with its result
// (Finish) or its failure (Fail); Close gives back a task not finished, for
// another worker (a worker that dies mid-task gives it back alike), so
// `defer t.Close()` is the idiom. A Task keeps its Pool handle from closing
// until it is finished or given back.
type Task struct {
	pool     *Pool
	id       uint64
	function string
	args     json.RawMessage

	mu    sync.Mutex
	h     native.SwigcptrNativePoolTask // 0 once ended
	ended string                        // "finished" or "given back"
}

// Take takes the next task, waiting until there is one or ctx is done. Once
// CloseTasks was called and every task was finished, it returns ErrClosed.
// When ctx's deadline passes first the error matches ErrTimeout.
func (p *Pool) Take(ctx context.Context) (*Task, error) {
	return p.take(ctx, false)
}

// TryTake takes the next task if there is one now, else returns ErrEmpty
// (ErrClosed once CloseTasks was called and every task was finished).
func (p *Pool) TryTake() (*Task, error) {
	return p.take(context.Background(), true)
}

func (p *Pool) take(ctx context.Context, now bool) (*Task, error) {
	var t *Task
	op := func(h native.SwigcptrNativePool, timeoutNs int64) {
		nt := h.Take(timeoutNs) // panics (no task) or returns one
		th := native.SwigcptrNativePoolTask(nt.Swigcptr())
		t = &Task{pool: p, id: th.Id(), function: string(th.Function()), args: th.Args(), h: th}
		p.tasks.Add(1) // under the guard: Close sees it
	}
	var err error
	if now {
		err = p.s.do(func(h native.SwigcptrNativePool) { op(h, 0) })
	} else {
		err = p.s.wait(ctx, "take", op)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ID is the task's id (per submitting handle).
func (t *Task) ID() uint64 { return t.id }

// Function is the name of the function to run.
func (t *Task) Function() string { return t.function }

// Args is the task's JSON arguments, as submitted.
func (t *Task) Args() json.RawMessage { return t.args }

// Pool is the handle the task was taken through.
func (t *Task) Pool() *Pool { return t.pool }

// Finish sends result, encoded with encoding/json (a json.RawMessage or a
// []byte as it is: one JSON text), to the task's submitter and ends the
// task. A result that is not JSON is ErrInvalidJSON and leaves the task
// open: finish it again (or Fail it). Finish waits while the submitter's
// result queue is full; a submitter that is gone drops the result.
func (t *Task) Finish(result any) error {
	data, err := marshalJSON(result)
	if err != nil {
		return fmt.Errorf("polyipc: pool '%s': task %d: finish: %w", t.pool.s.name, t.id, err)
	}
	return t.finish(0, data)
}

// Fail ends the task as failed: its submitter's Wait returns a *TaskError
// whose Message is msg (invalid UTF-8 is replaced by U+FFFD).
func (t *Task) Fail(msg string) error {
	return t.finish(1, []byte(msg))
}

func (t *Task) finish(failed int, data []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h == 0 {
		return t.endedError()
	}
	p := t.pool
	p.s.mu.RLock() // open: Close refuses while this task is open
	defer p.s.mu.RUnlock()
	if err := callNative(func() { t.h.Finish(failed, data) }); err != nil {
		return err
	}
	native.DeleteNativePoolTask(t.h)
	t.h, t.ended = 0, "finished"
	p.tasks.Add(-1)
	return nil
}

// Close gives the task back to the pool, for another worker, unless it was
// finished (then Close does nothing). Idempotent.
func (t *Task) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.h == 0 {
		return nil
	}
	p := t.pool
	p.s.mu.RLock()
	defer p.s.mu.RUnlock()
	native.DeleteNativePoolTask(t.h)
	t.h, t.ended = 0, "given back"
	p.tasks.Add(-1)
	return nil
}

func (t *Task) endedError() error {
	return newError(StatusInvalidArg, ErrHandleClosed, "pool '%s': task %d was %s already", t.pool.s.name, t.id, t.ended)
}

func callNative(f func()) (err error) {
	defer recoverInto(&err)
	f()
	return nil
}

// Handler runs one task: args is the task's JSON arguments as submitted; the
// value it returns is encoded with encoding/json (a json.RawMessage or a
// []byte as it is) as the result, and an error fails the task with
// err.Error() as its text.
type Handler func(ctx context.Context, args json.RawMessage) (any, error)

// Serve is a worker loop: it takes tasks and runs the handler registered
// under the task's function name, finishing the task with the handler's
// result, or failing it with the handler's error text (a panic in a handler
// fails the task with "panic: <value>"). A task whose function is not in
// handlers fails with "no function '<name>' in this worker". The tasks of a
// chunk (see SubmitMany, Map) are taken together and finished together, in
// one native call each, and run one after another. Serve returns nil once
// CloseTasks was called and every task was finished, and ctx.Err() when ctx
// is done: the tasks that ran are finished, and the rest (a handler that
// returns an error after ctx is done included) go back to the pool for
// another worker, not failed. Run several Serve goroutines on a handle (or
// several handles) to run tasks concurrently.
func (p *Pool) Serve(ctx context.Context, handlers map[string]Handler) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// The tasks of a chunk this loop took and did not run go back for others.
	defer func() { _ = p.s.do(func(h native.SwigcptrNativePool) { h.Give_back_held() }) }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := p.takeBatch(ctx) // in slices of 50 ms: it notices ctx
		switch {
		case err == nil:
		case errors.Is(err, ErrClosed):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			return err
		}
		if err := p.serveBatch(ctx, b, handlers); err != nil {
			return err
		}
	}
}

// batch is the tasks first .. first+count-1 of one function that Serve took
// together; args is the JSON array of their arguments.
type batch struct {
	h        native.SwigcptrNativePoolBatch
	first    uint64
	function string
	args     []byte
}

func (p *Pool) takeBatch(ctx context.Context) (*batch, error) {
	var b *batch
	err := p.s.wait(ctx, "take", func(h native.SwigcptrNativePool, timeoutNs int64) {
		nb := h.Take_batch(0, timeoutNs) // panics (no task) or returns some
		bh := native.SwigcptrNativePoolBatch(nb.Swigcptr())
		b = &batch{h: bh, first: bh.First_id(), function: string(bh.Function()), args: bh.Args()}
		p.tasks.Add(1) // under the guard: Close sees it
	})
	return b, err
}

// serveBatch runs the tasks of b in turn and finishes those that ran in one
// call; the rest go back with b. An error ends Serve.
func (p *Pool) serveBatch(ctx context.Context, b *batch, handlers map[string]Handler) error {
	defer func() { // gives back what was not finished
		p.s.mu.RLock()
		native.DeleteNativePoolBatch(b.h)
		p.tasks.Add(-1)
		p.s.mu.RUnlock()
	}()
	calls, ok := jsonElements(b.args, 16)
	if !ok {
		return newError(StatusIncompatible, nil, "pool '%s': tasks from %d: arguments that are not a JSON array",
			p.s.name, b.first)
	}
	results := make([]byte, 1, 8*len(calls)+2)
	results[0] = '['
	failures := map[string]string{}
	ran := 0
	var stopped error
	fail := func(msg string) { // task `ran` failed
		if ran > 0 {
			results = append(results, ',')
		}
		failures[strconv.Itoa(ran)] = msg
		results = append(results, "null"...)
		ran++
	}
	h, ok := handlers[b.function]
	for _, args := range calls {
		if err := ctx.Err(); err != nil {
			stopped = err
			break
		}
		if !ok {
			fail(fmt.Sprintf("no function '%s' in this worker", b.function))
			continue
		}
		result, err := runHandler(ctx, h, args)
		if err != nil {
			if ctx.Err() != nil {
				stopped = ctx.Err()
				break
			}
			fail(errorText(err))
			continue
		}
		mark := len(results)
		if ran > 0 {
			results = append(results, ',')
		}
		start := len(results)
		var raw bool
		results, raw, err = appendJSON(results, result)
		switch {
		case err != nil:
			results = results[:mark]
			fail(fmt.Sprintf("the result of '%s' does not encode as JSON: %v", b.function, err))
		case raw && !json.Valid(results[start:]): // taken as it is, so checked here
			results = results[:mark]
			fail(fmt.Sprintf("the result of '%s' is not JSON", b.function))
		default:
			ran++
		}
	}
	if ran > 0 {
		results = append(results, ']')
		var errs []byte
		if len(failures) > 0 {
			errs, _ = json.Marshal(failures)
		}
		p.s.mu.RLock() // open: Close refuses while this batch is out
		err := callNative(func() { b.h.Finish(results, errs) })
		p.s.mu.RUnlock()
		if err != nil {
			return err
		}
	}
	return stopped
}

func runHandler(ctx context.Context, h Handler, args json.RawMessage) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			result, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return h(ctx, args)
}

// errorText is err's text, as valid UTF-8 (the library would replace bad
// bytes alike).
func errorText(err error) string {
	s := err.Error()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// ---- the pool as a whole --------------------------------------------------

// CloseTasks ends submitting (Python's Pool.close()): Submit fails with
// ErrClosed from then on, workers drain the pool, and once every task was
// finished their Take returns ErrClosed (and Serve returns).
func (p *Pool) CloseTasks() error {
	return p.s.do(func(h native.SwigcptrNativePool) { h.Close_tasks() })
}

// Join waits until every task ever submitted (by anyone) was finished, or
// ctx is done (Python's Pool.join()).
func (p *Pool) Join(ctx context.Context) error {
	return p.s.wait(ctx, "join", func(h native.SwigcptrNativePool, timeoutNs int64) { h.Join(timeoutNs) })
}

// Stat is the pool's stat (kind "pool", its task queue's options and
// counters) and this handle's "results_pending", as a JSON object.
func (p *Pool) Stat() (json.RawMessage, error) {
	var s string
	if err := p.s.do(func(h native.SwigcptrNativePool) { s = h.Stat_json() }); err != nil {
		return nil, err
	}
	return json.RawMessage(s), nil
}
