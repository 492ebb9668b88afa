/*
 * go.i: the Go side of polyipc.i, for `swig -go -cgo -intgosize 64`
 * (run by bindings/go/generate.sh; the output is committed under
 * bindings/go/internal/native).
 *
 * The wrappers never allocate on the C side where a Go panic could skip the
 * release: errors are raised with a panic (the only way SWIG's Go wrappers
 * report), which unwinds past every freearg/newfree that follows it.
 */

/* The handle only comes from NativeQueue::open*: no default constructor
 * (polyipc_queue is incomplete here, so SWIG's calloc(sizeof) would not
 * compile), and polyipc_bytes is only a return type, never a Go object. */
%nodefaultctor NativeQueue;
%ignore polyipc_bytes;

/* Header and library come from CGO_CFLAGS / CGO_LDFLAGS (or the system
 * paths): the committed output names no machine-specific path. Setting
 * CGO_CFLAGS replaces go's default "-g -O2", which would leave the wrappers
 * and cgo's stubs unoptimised (-O0): the package's own -O2 comes after the
 * environment's flags, so it wins. */
%insert(cgo_comment_typedefs) %{
#cgo CFLAGS: -O2
#cgo LDFLAGS: -lpolyipc
extern void polyipc_free(void *p);
extern void polyipc_go_queue_put(uintptr_t q, const unsigned char *data, size_t len, int64_t priority,
                                 int64_t timeout_ns);
extern int64_t polyipc_go_queue_get_into(uintptr_t q, unsigned char *buf, size_t cap, int64_t timeout_ns);
typedef struct polyipc_go_zero_copy {
  void *data;
  uint64_t len;
  uint64_t ticket;
} polyipc_go_zero_copy;
extern polyipc_go_zero_copy polyipc_go_queue_reserve(uintptr_t q, size_t len, int64_t timeout_ns);
extern polyipc_go_zero_copy polyipc_go_queue_borrow(uintptr_t q, int64_t timeout_ns);
extern void polyipc_go_queue_end(uintptr_t q, uint64_t ticket, int op);
extern uint64_t polyipc_go_pool_submit(uintptr_t p, const unsigned char *fn, size_t fn_len, const unsigned char *data,
                                       size_t len, int64_t timeout_ns);
extern void polyipc_go_pool_submit_many(uintptr_t p, const unsigned char *fn, size_t fn_len, const unsigned char *data,
                                        const uint64_t *lens, size_t count, size_t chunk, int64_t timeout_ns,
                                        uint64_t *first, uint64_t *done);
extern void polyipc_go_pool_submit_array(uintptr_t p, const unsigned char *fn, size_t fn_len,
                                         const unsigned char *data, size_t len, size_t chunk, int64_t timeout_ns,
                                         uint64_t *first, uint64_t *done);
%}

/* Queue's hot path (QueuePut / QueueGetInto below, and the zero-copy
 * QueueReserve / QueueBorrow / QueueCommit / QueueCancel / QueueRelease):
 * one cgo call each, no SWIG proxy. The handle is passed as an integer and
 * the bytes as an unsigned char *, so cgo knows statically that no Go pointer can hide
 * behind them and skips its per-call pointer check (SWIG's slice-header and
 * interface arguments are walked by runtime.cgoCheckPointer on every call).
 * The error stays on the C stack; a failure raises as every SWIG wrapper
 * does (a Go panic that bindings/go recovers into an *Error). */
%{
static void polyipc_go_raise(const polyipc_error *err) {
  char msg[sizeof err->message + 32];
  snprintf(msg, sizeof msg, "polyipc:%d:%s", err->code, err->message);
  _swig_gopanic(msg);
}

void polyipc_go_queue_put(uintptr_t q, const unsigned char *data, size_t len, int64_t priority,
                          int64_t timeout_ns) {
  polyipc_error err;
  err.code = 0;
  if (polyipc_queue_put_priority((polyipc_queue *)q, len ? (const void *)data : (const void *)"", len, priority,
                                 timeout_ns, &err) != 0) {
    polyipc_go_raise(&err);
  }
}

/* As NativeQueue::get_into: the message's length, or -(its length) when
 * buf is too small (the message stays in the queue, nothing is raised). */
int64_t polyipc_go_queue_get_into(uintptr_t q, unsigned char *buf, size_t cap, int64_t timeout_ns) {
  polyipc_error err;
  size_t len = 0;
  int rc;
  err.code = 0;
  rc = polyipc_queue_get_into((polyipc_queue *)q, buf, buf ? cap : 0, &len, timeout_ns, &err);
  if (rc == 0) return (int64_t)len;
  if (rc == POLYIPC_ERR_TOO_LARGE && len > cap) return -(int64_t)len;
  polyipc_go_raise(&err);
  return 0;
}

/* Zero copy (QueueReserve / QueueBorrow / QueueEnd below): the ring's
 * address, the length and the ticket come back by value, so no Go pointer
 * crosses (the same struct is declared in the cgo preamble). */
typedef struct polyipc_go_zero_copy {
  void *data;
  uint64_t len;
  uint64_t ticket;
} polyipc_go_zero_copy;

polyipc_go_zero_copy polyipc_go_queue_reserve(uintptr_t q, size_t len, int64_t timeout_ns) {
  polyipc_error err;
  polyipc_go_zero_copy r;
  r.data = NULL;
  r.len = len;
  r.ticket = 0;
  err.code = 0;
  if (polyipc_queue_reserve((polyipc_queue *)q, len, &r.data, &r.ticket, timeout_ns, &err) != 0) {
    polyipc_go_raise(&err);
  }
  return r;
}

polyipc_go_zero_copy polyipc_go_queue_borrow(uintptr_t q, int64_t timeout_ns) {
  polyipc_error err;
  polyipc_go_zero_copy r;
  const void *data = NULL;
  size_t len = 0;
  r.ticket = 0;
  err.code = 0;
  if (polyipc_queue_borrow((polyipc_queue *)q, &data, &len, &r.ticket, timeout_ns, &err) != 0) {
    polyipc_go_raise(&err);
  }
  r.data = (void *)data;
  r.len = len;
  return r;
}

/* op: 0 commit, 1 cancel (a reservation), 2 release (a borrowed message). */
void polyipc_go_queue_end(uintptr_t q, uint64_t ticket, int op) {
  polyipc_error err;
  int rc;
  err.code = 0;
  switch (op) {
    case 0: rc = polyipc_queue_commit((polyipc_queue *)q, ticket, &err); break;
    case 1: rc = polyipc_queue_cancel((polyipc_queue *)q, ticket, &err); break;
    default: rc = polyipc_queue_release((polyipc_queue *)q, ticket, &err); break;
  }
  if (rc != 0) polyipc_go_raise(&err);
}

/* NativePool::submit without SWIG's malloc'd copy of the function name,
 * which a failing call (a full pool's TIMEOUT, every wait slice) would leak:
 * the name is copied to the stack (or a malloc'd buffer, freed before the
 * raise). bindings/go rejects names with a NUL byte before the call. */
/* The function name as a C string: in buf when it fits, else malloc'd (free
 * it when it is not buf); NULL when there is no memory. */
static char *polyipc_go_name(const unsigned char *fn, size_t fn_len, char *buf, size_t cap) {
  char *name = fn_len < cap ? buf : (char *)malloc(fn_len + 1);
  if (!name) return NULL;
  if (fn_len) memcpy(name, fn, fn_len);
  name[fn_len] = 0;
  return name;
}

uint64_t polyipc_go_pool_submit(uintptr_t p, const unsigned char *fn, size_t fn_len, const unsigned char *data,
                                size_t len, int64_t timeout_ns) {
  polyipc_error err;
  char stackbuf[256];
  char *name = polyipc_go_name(fn, fn_len, stackbuf, sizeof stackbuf);
  uint64_t id = 0;
  int rc;
  err.code = 0;
  if (!name) {
    err.code = POLYIPC_ERR_NO_MEMORY;
    snprintf(err.message, sizeof err.message, "submit: no memory for a function name of %zu bytes", fn_len);
    polyipc_go_raise(&err);
    return 0;
  }
  rc = polyipc_pool_submit((polyipc_pool *)p, name, len ? (const void *)data : (const void *)"", len, timeout_ns, &id,
                           &err);
  if (name != stackbuf) free(name);
  if (rc != 0) polyipc_go_raise(&err);
  return id;
}

/* polyipc_pool_submit_many of count arguments laid end to end in data
 * (lens[i] bytes each). *first and *done are set before a failure raises, so
 * that the caller knows which tasks went in. */
void polyipc_go_pool_submit_many(uintptr_t p, const unsigned char *fn, size_t fn_len, const unsigned char *data,
                                 const uint64_t *lens, size_t count, size_t chunk, int64_t timeout_ns,
                                 uint64_t *first, uint64_t *done) {
  polyipc_error err;
  char stackbuf[256];
  char *name = polyipc_go_name(fn, fn_len, stackbuf, sizeof stackbuf);
  const void **args = (const void **)malloc(sizeof(*args) * (count + 1));
  size_t *sizes = (size_t *)malloc(sizeof(*sizes) * (count + 1));
  size_t i, off = 0, submitted = 0;
  int rc;
  err.code = 0;
  *first = *done = 0;
  if (!name || !args || !sizes) {
    if (name != stackbuf) free(name);
    free(args);
    free(sizes);
    err.code = POLYIPC_ERR_NO_MEMORY;
    snprintf(err.message, sizeof err.message, "submit_many: no memory for %zu tasks", count);
    polyipc_go_raise(&err);
    return;
  }
  for (i = 0; i < count; ++i) {
    args[i] = data + off;
    sizes[i] = (size_t)lens[i];
    off += (size_t)lens[i];
  }
  rc = polyipc_pool_submit_many((polyipc_pool *)p, name, args, sizes, count, chunk, timeout_ns, first, &submitted,
                                &err);
  *done = submitted;
  if (name != stackbuf) free(name);
  free(args);
  free(sizes);
  if (rc != 0) polyipc_go_raise(&err);
}

/* polyipc_pool_submit_array of the JSON array in data; *first and *done as
 * for polyipc_go_pool_submit_many. */
void polyipc_go_pool_submit_array(uintptr_t p, const unsigned char *fn, size_t fn_len, const unsigned char *data,
                                  size_t len, size_t chunk, int64_t timeout_ns, uint64_t *first, uint64_t *done) {
  polyipc_error err;
  char stackbuf[256];
  char *name = polyipc_go_name(fn, fn_len, stackbuf, sizeof stackbuf);
  size_t submitted = 0;
  int rc;
  err.code = 0;
  *first = *done = 0;
  if (!name) {
    err.code = POLYIPC_ERR_NO_MEMORY;
    snprintf(err.message, sizeof err.message, "submit_array: no memory for a function name of %zu bytes", fn_len);
    polyipc_go_raise(&err);
    return;
  }
  rc = polyipc_pool_submit_array((polyipc_pool *)p, name, len ? (const void *)data : (const void *)"", len, chunk,
                                 timeout_ns, first, &submitted, &err);
  *done = submitted;
  if (name != stackbuf) free(name);
  if (rc != 0) polyipc_go_raise(&err);
}
%}

%insert(go_wrapper) %{
// QueuePut is h.Put(data, priority, timeoutNs) in one cgo call without the
// SWIG proxy (see go.i). h must not be closed during the call.
func QueuePut(h SwigcptrNativeQueue, data []byte, priority, timeoutNs int64) {
	C.polyipc_go_queue_put(C.uintptr_t(h), (*C.uchar)(unsafe.SliceData(data)), C.size_t(len(data)),
		C.int64_t(priority), C.int64_t(timeoutNs))
}

// QueueGetInto is h.Get_into(buf, timeoutNs) in one cgo call without the
// SWIG proxy (see go.i): the message's length, or minus its length when it
// does not fit in buf (it then stays in the queue).
func QueueGetInto(h SwigcptrNativeQueue, buf []byte, timeoutNs int64) int64 {
	return int64(C.polyipc_go_queue_get_into(C.uintptr_t(h), (*C.uchar)(unsafe.SliceData(buf)),
		C.size_t(len(buf)), C.int64_t(timeoutNs)))
}

// QueueReserve reserves n bytes in h's ring within timeoutNs (one cgo call):
// their address (C memory, outside the Go heap) and the ticket. A failure
// panics as every wrapper does.
func QueueReserve(h SwigcptrNativeQueue, n int, timeoutNs int64) (data unsafe.Pointer, ticket uint64) {
	r := C.polyipc_go_queue_reserve(C.uintptr_t(h), C.size_t(n), C.int64_t(timeoutNs))
	return r.data, uint64(r.ticket)
}

// QueueBorrow takes the next message of h within timeoutNs, leaving it in the
// ring (one cgo call): its address (C memory), its length and the ticket.
func QueueBorrow(h SwigcptrNativeQueue, timeoutNs int64) (data unsafe.Pointer, n uint64, ticket uint64) {
	r := C.polyipc_go_queue_borrow(C.uintptr_t(h), C.int64_t(timeoutNs))
	return r.data, uint64(r.len), uint64(r.ticket)
}

// QueueCommit publishes the reservation ticket (polyipc_queue_commit).
func QueueCommit(h SwigcptrNativeQueue, ticket uint64) {
	C.polyipc_go_queue_end(C.uintptr_t(h), C.uint64_t(ticket), 0)
}

// QueueCancel drops the reservation ticket (polyipc_queue_cancel).
func QueueCancel(h SwigcptrNativeQueue, ticket uint64) {
	C.polyipc_go_queue_end(C.uintptr_t(h), C.uint64_t(ticket), 1)
}

// QueueRelease ends the borrowed message ticket (polyipc_queue_release).
func QueueRelease(h SwigcptrNativeQueue, ticket uint64) {
	C.polyipc_go_queue_end(C.uintptr_t(h), C.uint64_t(ticket), 2)
}

// PoolSubmit is h.Submit(function, args, timeoutNs) in one cgo call without
// the SWIG proxy, whose malloc'd copy of the function name a failing call
// would leak (see go.i): the task id. function must hold no NUL byte.
func PoolSubmit(h SwigcptrNativePool, function string, args []byte, timeoutNs int64) uint64 {
	return uint64(C.polyipc_go_pool_submit(C.uintptr_t(h), (*C.uchar)(unsafe.Pointer(unsafe.StringData(function))),
		C.size_t(len(function)), (*C.uchar)(unsafe.SliceData(args)), C.size_t(len(args)), C.int64_t(timeoutNs)))
}

// PoolSubmitMany is polyipc_pool_submit_many in one cgo call: task i's
// arguments are the lens[i] bytes of data after those of tasks 0..i-1. It
// sets *first and *done (the tasks that went in) before a failure panics.
func PoolSubmitMany(h SwigcptrNativePool, function string, data []byte, lens []uint64, chunk int, timeoutNs int64,
	first, done *uint64) {
	C.polyipc_go_pool_submit_many(C.uintptr_t(h), (*C.uchar)(unsafe.Pointer(unsafe.StringData(function))),
		C.size_t(len(function)), (*C.uchar)(unsafe.SliceData(data)), (*C.uint64_t)(unsafe.SliceData(lens)),
		C.size_t(len(lens)), C.size_t(chunk), C.int64_t(timeoutNs), (*C.uint64_t)(unsafe.Pointer(first)),
		(*C.uint64_t)(unsafe.Pointer(done)))
}

// PoolSubmitArray is polyipc_pool_submit_array in one cgo call: data is one
// JSON array, each element a task's arguments. It sets *first and *done (the
// tasks that went in) before a failure panics.
func PoolSubmitArray(h SwigcptrNativePool, function string, data []byte, chunk int, timeoutNs int64,
	first, done *uint64) {
	C.polyipc_go_pool_submit_array(C.uintptr_t(h), (*C.uchar)(unsafe.Pointer(unsafe.StringData(function))),
		C.size_t(len(function)), (*C.uchar)(unsafe.SliceData(data)), C.size_t(len(data)), C.size_t(chunk),
		C.int64_t(timeoutNs), (*C.uint64_t)(unsafe.Pointer(first)), (*C.uint64_t)(unsafe.Pointer(done)))
}
%}

/* Raise: a Go panic whose value is the string "polyipc:<code>:<message>";
 * bindings/go recovers it into an *Error. SWIG's panic helper copies the
 * text before unwinding, so a stack buffer is fine. */
%typemap(argout) polyipc_error *err %{
  if ($1->code != 0) {
    char swig_polyipc_msg[sizeof $1->message + 32];
    snprintf(swig_polyipc_msg, sizeof swig_polyipc_msg, "polyipc:%d:%s", $1->code, $1->message);
    _swig_gopanic(swig_polyipc_msg);
  }
%}

/* Names: copied to the C stack, not malloc, so a failing call leaks nothing.
 * Valid names are at most POLYIPC_MAX_NAME (200) characters; a longer one is
 * cut at 255, which the library still rejects as too long. Embedded NULs are
 * rejected by bindings/go before the call. */
%typemap(in) const char *name (char namebuf[256]) %{
  {
    size_t swig_n = (size_t)$input.n < sizeof namebuf - 1 ? (size_t)$input.n : sizeof namebuf - 1;
    if (swig_n) memcpy(namebuf, $input.p, swig_n);
    namebuf[swig_n] = 0;
    $1 = namebuf;
  }
%}
%typemap(freearg) const char *name ""
/* The lock name of NativeCondition::open likewise ("" = the default). */
%apply const char *name { const char *lock_name };

/* Input bytes: a Go []byte, passed without a copy (cgo pins it for the call). */
%typemap(gotype) (const void *data, size_t len) "[]byte"
%typemap(in) (const void *data, size_t len) %{
  $1 = ($1_ltype)($input.len ? $input.array : (void *)"");
  $2 = (size_t)$input.len;
%}

/* Output bytes: the library's buffer is handed to Go as a slice over C
 * memory, copied into a Go []byte there and released with polyipc_free. An
 * empty message is released here already. */
%typemap(gotype) polyipc_bytes "[]byte"
%typemap(out) polyipc_bytes %{
  if ($1.len == 0) {
    polyipc_free($1.data);
    $1.data = NULL;
  }
  $result.array = $1.data;
  $result.len = (intgo)$1.len;
  $result.cap = (intgo)$1.len;
%}
%typemap(goout) polyipc_bytes %{
  {
    // A copy in Go memory, then the library's buffer goes back to the library.
    $result = make([]byte, len($1))
    if len($1) > 0 {
      copy($result, $1)
      C.polyipc_free(unsafe.Pointer(&$1[0]))
    }
  }
%}

/* Library strings (JSON, version): no C-side copy is made for NULL or "",
 * so the NULL a failing call returns allocates nothing the panic would leak. */
%typemap(out, fragment="AllocateString") char * %{
  if ($1 && *$1) {
    $result = Swig_AllocateString((char *)$1, strlen((char *)$1));
  } else {
    $result.p = NULL;
    $result.n = 0;
  }
%}
%typemap(goout, fragment="CopyString") char * %{
  if len($1) == 0 {
    $result = ""
  } else {
    $result = swigCopyString($1)
  }
%}

/* A caller-owned output buffer: a Go []byte, passed without a copy (cgo pins
 * it for the call); the library writes the message into it. */
%typemap(gotype) (void *buf, size_t cap) "[]byte"
%typemap(in) (void *buf, size_t cap) %{
  $1 = ($1_ltype)$input.array;
  $2 = $1 ? (size_t)$input.len : 0;
%}

%extend NativeQueue {
  /* Copies the next message into buf: its length (>= 0), or -(its length)
   * when buf is too small (the message stays in the queue and nothing is
   * raised: the caller grows its buffer and calls again). No library
   * allocation and no second call to free it, unlike get. */
  int64_t get_into(void *buf, size_t cap, int64_t timeout_ns, polyipc_error *err) {
    size_t len = 0;
    int rc = polyipc_queue_get_into($self, buf, cap, &len, timeout_ns, err);
    if (rc == POLYIPC_ERR_TOO_LARGE && len > cap) {
      err->code = 0;
      err->message[0] = 0;
      return -(int64_t)len;
    }
    return rc == 0 ? (int64_t)len : 0;
  }
}

%extend NativePipe {
  /* Copies the next message into buf, as NativeQueue::get_into: its length
   * (>= 0), or -(its length) when buf is too small (the message stays in the
   * pipe and nothing is raised). Raises EMPTY / TIMEOUT / CLOSED as recv. */
  int64_t recv_into(void *buf, size_t cap, int64_t timeout_ns, polyipc_error *err) {
    size_t len = 0;
    int rc = polyipc_pipe_recv_into($self, buf, cap, &len, timeout_ns, err);
    if (rc == POLYIPC_ERR_TOO_LARGE && len > cap) {
      err->code = 0;
      err->message[0] = 0;
      return -(int64_t)len;
    }
    return rc == 0 ? (int64_t)len : 0;
  }
}
