/*
 * polyipc.i: the one SWIG interface shared by Java, Go, C# and Python.
 *
 * It turns the C API's opaque handles into classes (%extend on a type SWIG
 * sees under its own name, so no generated helper collides with the real
 * polyipc_* functions), hides every `polyipc_error *err` parameter, and
 * leaves three things to the per-language file it includes:
 *   - %typemap(argout) polyipc_error *err : raise the language's error when err->code != 0
 *   - the byte-buffer typemaps for (const void *data, size_t len) in, and
 *     polyipc_bytes out (a library-allocated message the typemap must polyipc_free)
 *   - naming and extra proxy code.
 * The idiomatic API of each language is written by hand on top of these
 * native classes, in bindings/<language>/.
 */
%module polyipc_native

%{
#include "polyipc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef polyipc_queue NativeQueue;
typedef polyipc_lock NativeLock;
typedef polyipc_semaphore NativeSemaphore;
typedef polyipc_event NativeEvent;
typedef polyipc_condition NativeCondition;
typedef polyipc_barrier NativeBarrier;
typedef polyipc_pipe NativePipe;
typedef polyipc_shm NativeSharedMemory;
typedef polyipc_array NativeArray;
typedef polyipc_pool NativePool;
typedef polyipc_pool_task NativePoolTask;
typedef polyipc_pool_batch NativePoolBatch;
typedef polyipc_dict NativeDict;
typedef polyipc_list NativeList;


/* A set of pipes and queues to wait on together (polyipc_wait). */
typedef struct NativeWaitSet {
  polyipc_waitable *items;
  size_t count, cap;
} NativeWaitSet;
static size_t NativeWaitSet_push(NativeWaitSet *w, polyipc_pipe *p, polyipc_queue *q) {
  if (w->count == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 8;
    polyipc_waitable *items = (polyipc_waitable *)realloc(w->items, cap * sizeof *items);
    if (!items) return (size_t)-1;
    w->items = items;
    w->cap = cap;
  }
  w->items[w->count].pipe = p;
  w->items[w->count].queue = q;
  w->items[w->count].ready = 0;
  return w->count++;
}

static polyipc_sync_options polyipc_native_sync_options(uint32_t mode, int ephemeral) {
  polyipc_sync_options o;
  polyipc_sync_options_init(&o);
  if (mode) o.mode = mode;
  o.ephemeral = (uint32_t)ephemeral;
  return o;
}

/* A message returned by the library; the out typemap copies it into the
 * language's byte array and releases it with polyipc_free. */
typedef struct polyipc_bytes {
  void *data;
  size_t len;
} polyipc_bytes;
/* A malloc'd copy as polyipc_bytes (the out typemaps release it with polyipc_free). */
static polyipc_bytes polyipc_native_copy(const char *data, size_t len) {
  polyipc_bytes b = {NULL, 0};
  if (!data) return b;
  b.data = malloc(len ? len : 1);
  if (!b.data) return b;
  memcpy(b.data, data, len);
  b.len = len;
  return b;
}

/* (data, len) as the NUL-terminated text the dict's and list's C API take:
 * NULL, with err filled, when the bytes hold a NUL (no key may, no JSON text
 * does) or memory runs out. `what` says which argument; `stat` gives the
 * object's stat JSON, for its name in the message. */
typedef int (*polyipc_native_stat_fn)(void *handle, char **json, polyipc_error *err);
static int polyipc_native_dict_stat(void *d, char **json, polyipc_error *err) {
  return polyipc_dict_stat_json((polyipc_dict *)d, json, err);
}
static int polyipc_native_list_stat(void *l, char **json, polyipc_error *err) {
  return polyipc_list_stat_json((polyipc_list *)l, json, err);
}
static char *polyipc_native_text(void *handle, polyipc_native_stat_fn stat, const char *kind, const void *data,
                                 size_t len, const char *what, polyipc_error *err) {
  const char *nul = (const char *)memchr(data, 0, len);
  char *copy;
  if (nul) {
    char *json = NULL;
    const char *name = NULL, *end = NULL;
    polyipc_error ignored;
    if (stat(handle, &json, &ignored) == 0 && (name = strstr(json, "\"name\":\"")) != NULL) {
      name += 8;
      end = strchr(name, '"');
    }
    err->code = strcmp(what, "key") == 0 ? POLYIPC_ERR_INVALID_ARG : POLYIPC_ERR_INVALID_JSON;
    snprintf(err->message, sizeof err->message, "%s '%.*s': %s holds a NUL byte at offset %zu", kind,
             end ? (int)(end - name) : 1, end ? name : "?", what, (size_t)(nul - (const char *)data));
    polyipc_free(json);
    return NULL;
  }
  copy = (char *)malloc(len + 1);
  if (!copy) {
    err->code = POLYIPC_ERR_NO_MEMORY;
    snprintf(err->message, sizeof err->message, "%s: no memory for the %s", kind, what);
    return NULL;
  }
  if (len) memcpy(copy, data, len);
  copy[len] = 0;
  return copy;
}
static char *polyipc_native_dict_text(polyipc_dict *d, const void *data, size_t len, const char *what,
                                      polyipc_error *err) {
  return polyipc_native_text(d, polyipc_native_dict_stat, "dict", data, len, what, err);
}
static char *polyipc_native_list_text(polyipc_list *l, const void *data, size_t len, polyipc_error *err) {
  return polyipc_native_text(l, polyipc_native_list_stat, "list", data, len, "value", err);
}
%}

%include <stdint.i>

/* The error parameter never reaches a language: it points at a stack
 * temporary, and the per-language argout typemap raises from it. */
%typemap(in, numinputs = 0) polyipc_error *err (polyipc_error temp) %{
  temp.code = 0;
  temp.message[0] = 0;
  $1 = &temp;
%}

/* Strings the library allocates are released with polyipc_free. */
%typemap(newfree) char * "polyipc_free($1);";

#if defined(SWIGJAVA)
%include "java.i"
#elif defined(SWIGCSHARP)
%include "csharp.i"
#elif defined(SWIGPYTHON)
%include "python.i"
#elif defined(SWIGGO)
%include "go.i"
#endif

/* ---- constants ----------------------------------------------------------- */
enum polyipc_status {
  POLYIPC_OK = 0, POLYIPC_ERR_TIMEOUT = 1, POLYIPC_ERR_EMPTY = 2, POLYIPC_ERR_FULL = 3, POLYIPC_ERR_CLOSED = 4,
  POLYIPC_ERR_NOT_FOUND = 5, POLYIPC_ERR_EXISTS = 6, POLYIPC_ERR_INVALID_ARG = 7, POLYIPC_ERR_INVALID_JSON = 8,
  POLYIPC_ERR_TOO_LARGE = 9, POLYIPC_ERR_PERMISSION = 10, POLYIPC_ERR_OWNER_DEAD = 11,
  POLYIPC_ERR_INCOMPATIBLE = 12, POLYIPC_ERR_NO_MEMORY = 13, POLYIPC_ERR_NOT_OWNER = 14, POLYIPC_ERR_BROKEN = 15,
  POLYIPC_ERR_SYSTEM = 16, POLYIPC_ERR_OUT_OF_RANGE = 17
};
enum polyipc_open_mode { POLYIPC_OPEN_OR_CREATE = 0, POLYIPC_CREATE_ONLY = 1, POLYIPC_OPEN_ONLY = 2 };
enum polyipc_queue_order { POLYIPC_FIFO = 0, POLYIPC_LIFO = 1, POLYIPC_PRIORITY = 2 };
enum polyipc_format { POLYIPC_FORMAT_JSON = 0, POLYIPC_FORMAT_BYTES = 1 };
/* The header this binding was generated from; compared with
 * polyipc_version_number() of the loaded library when the binding loads. */
%constant int POLYIPC_BINDING_VERSION_NUMBER = POLYIPC_VERSION_NUMBER;
%constant int64_t POLYIPC_FOREVER = POLYIPC_FOREVER;

/* ---- free functions ---------------------------------------------------------- */
const char *polyipc_version(void);
int polyipc_version_number(void);
const char *polyipc_status_name(int status);
int polyipc_unlink(const char *name, polyipc_error *err);

%newobject polyipc_native_list_json;
%newobject polyipc_native_stat_json;
%newobject polyipc_native_gc_json;
%newobject polyipc_native_peek_json;
%inline %{
/* The namespace, as JSON text (see polyipc.h for the shapes). */
char *polyipc_native_list_json(polyipc_error *err) {
  char *json = NULL;
  polyipc_list_json(&json, err);
  return json;
}
char *polyipc_native_stat_json(const char *name, polyipc_error *err) {
  char *json = NULL;
  polyipc_stat_json(name, &json, err);
  return json;
}
char *polyipc_native_gc_json(polyipc_error *err) {
  char *json = NULL;
  polyipc_gc_json(&json, err);
  return json;
}
char *polyipc_native_peek_json(const char *name, size_t max_count, polyipc_error *err) {
  char *json = NULL;
  polyipc_peek_json(name, max_count, &json, err);
  return json;
}
%}

/* ---- queues ----------------------------------------------------------------- */
%nodefaultctor NativeQueue;
typedef struct {} NativeQueue;
typedef struct polyipc_bytes { void *data; size_t len; } polyipc_bytes;

%newobject NativeQueue::open;
%newobject NativeQueue::open_existing;
%newobject NativeQueue::stat_json;
%extend NativeQueue {
  /* All options at once; ordinary defaults come from the idiomatic layer. */
  static NativeQueue *open(const char *name, int open_mode, int order, int format, int joinable, uint64_t max_items,
                           uint64_t capacity_bytes, uint64_t max_message_bytes, uint32_t mode, int ephemeral,
                           polyipc_error *err) {
    polyipc_queue_options o;
    polyipc_queue *q = NULL;
    polyipc_queue_options_init(&o);
    o.order = (uint32_t)order;
    o.format = (uint32_t)format;
    o.joinable = (uint32_t)joinable;
    o.max_items = max_items;
    if (capacity_bytes) o.capacity_bytes = capacity_bytes;
    o.max_message_bytes = max_message_bytes;
    if (mode) o.mode = mode;
    o.ephemeral = (uint32_t)ephemeral;
    polyipc_queue_open(name, (polyipc_open_mode)open_mode, &o, &q, err);
    return q;
  }
  /* Attach to an existing queue whatever its options. */
  static NativeQueue *open_existing(const char *name, polyipc_error *err) {
    polyipc_queue *q = NULL;
    polyipc_queue_open(name, POLYIPC_OPEN_ONLY, NULL, &q, err);
    return q;
  }
  ~NativeQueue() { polyipc_queue_close($self); }

  void put(const void *data, size_t len, int64_t priority, int64_t timeout_ns, polyipc_error *err) {
    polyipc_queue_put_priority($self, data, len, priority, timeout_ns, err);
  }
  polyipc_bytes get(int64_t timeout_ns, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    polyipc_queue_get($self, &b.data, &b.len, timeout_ns, err);
    return b;
  }
  uint64_t size(polyipc_error *err) {
    uint64_t n = 0;
    polyipc_queue_size($self, &n, err);
    return n;
  }
  void task_done(polyipc_error *err) { polyipc_queue_task_done($self, err); }
  /* joinable: ends the lease on exactly these bytes (the message as got) */
  void task_done_message(const void *data, size_t len, polyipc_error *err) {
    polyipc_queue_task_done_message($self, data, len, err);
  }
  void join(int64_t timeout_ns, polyipc_error *err) { polyipc_queue_join($self, timeout_ns, err); }
  void close_writes(polyipc_error *err) { polyipc_queue_close_writes($self, err); }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_queue_stat_json($self, &json, err);
    return json;
  }
}

/* ---- synchronisation -------------------------------------------------------
 * Every wait takes a timeout in nanoseconds (bindings wait in slices to stay
 * responsive) and raises on any non-OK status, OWNER_DEAD and TIMEOUT
 * included: the idiomatic layer turns those into its language's idiom. */
%nodefaultctor NativeLock;
%nodefaultctor NativeSemaphore;
%nodefaultctor NativeEvent;
%nodefaultctor NativeCondition;
%nodefaultctor NativeBarrier;
typedef struct {} NativeLock;
typedef struct {} NativeSemaphore;
typedef struct {} NativeEvent;
typedef struct {} NativeCondition;
typedef struct {} NativeBarrier;

%newobject NativeLock::open;
%newobject NativeLock::stat_json;
%extend NativeLock {
  /* recursive: 0 = Lock, 1 = RLock. mode 0 = the default 0600. */
  static NativeLock *open(const char *name, int open_mode, int recursive, uint32_t mode, int ephemeral,
                          polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_lock *l = NULL;
    polyipc_lock_open(name, (polyipc_open_mode)open_mode, recursive, &o, &l, err);
    return l;
  }
  ~NativeLock() { polyipc_lock_close($self); }
  void acquire(int64_t timeout_ns, polyipc_error *err) { polyipc_lock_acquire($self, timeout_ns, err); }
  void release(polyipc_error *err) { polyipc_lock_release($self, err); }
  int locked(polyipc_error *err) {
    int v = 0;
    polyipc_lock_locked($self, &v, err);
    return v;
  }
  /* how many times the calling thread holds it */
  uint32_t held(polyipc_error *err) {
    uint32_t v = 0;
    polyipc_lock_held($self, &v, err);
    return v;
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_lock_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativeSemaphore::open;
%newobject NativeSemaphore::stat_json;
%extend NativeSemaphore {
  /* max 0 = unbounded; open_mode OPEN_ONLY takes an existing one as it is */
  static NativeSemaphore *open(const char *name, int open_mode, uint64_t initial, uint64_t max, uint32_t mode,
                               int ephemeral, polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_semaphore *s = NULL;
    polyipc_semaphore_open(name, (polyipc_open_mode)open_mode, initial, max, &o, &s, err);
    return s;
  }
  ~NativeSemaphore() { polyipc_semaphore_close($self); }
  void acquire(uint64_t n, int64_t timeout_ns, polyipc_error *err) {
    polyipc_semaphore_acquire_n($self, n, timeout_ns, err);
  }
  void release(uint64_t n, polyipc_error *err) { polyipc_semaphore_release($self, n, err); }
  uint64_t value(polyipc_error *err) {
    uint64_t v = 0;
    polyipc_semaphore_value($self, &v, err);
    return v;
  }
  uint64_t drain(polyipc_error *err) {
    uint64_t v = 0;
    polyipc_semaphore_drain($self, &v, err);
    return v;
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_semaphore_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativeEvent::open;
%newobject NativeEvent::stat_json;
%extend NativeEvent {
  static NativeEvent *open(const char *name, int open_mode, uint32_t mode, int ephemeral, polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_event *e = NULL;
    polyipc_event_open(name, (polyipc_open_mode)open_mode, &o, &e, err);
    return e;
  }
  ~NativeEvent() { polyipc_event_close($self); }
  void set(polyipc_error *err) { polyipc_event_set($self, err); }
  void clear(polyipc_error *err) { polyipc_event_clear($self, err); }
  int is_set(polyipc_error *err) {
    int v = 0;
    polyipc_event_is_set($self, &v, err);
    return v;
  }
  void wait(int64_t timeout_ns, polyipc_error *err) { polyipc_event_wait($self, timeout_ns, err); }
  /* sliced waits: token() once, then wait_since(token, slice) until it returns */
  uint32_t token(polyipc_error *err) {
    uint32_t t = 0;
    polyipc_event_token($self, &t, err);
    return t;
  }
  void wait_since(uint32_t token, int64_t timeout_ns, polyipc_error *err) {
    polyipc_event_wait_since($self, token, timeout_ns, err);
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_event_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativeCondition::open;
%newobject NativeCondition::stat_json;
%extend NativeCondition {
  /* lock_name NULL or "": "<name>.lock" */
  static NativeCondition *open(const char *name, int open_mode, const char *lock_name, uint32_t mode, int ephemeral,
                               polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_condition *c = NULL;
    polyipc_condition_open(name, (polyipc_open_mode)open_mode, (lock_name && *lock_name) ? lock_name : NULL, &o, &c,
                           err);
    return c;
  }
  ~NativeCondition() { polyipc_condition_close($self); }
  void acquire(int64_t timeout_ns, polyipc_error *err) { polyipc_condition_acquire($self, timeout_ns, err); }
  void release(polyipc_error *err) { polyipc_condition_release($self, err); }
  void wait(int64_t timeout_ns, polyipc_error *err) { polyipc_condition_wait($self, timeout_ns, err); }
  void notify(uint64_t n, polyipc_error *err) { polyipc_condition_notify($self, n, err); }
  void notify_all(polyipc_error *err) { polyipc_condition_notify_all($self, err); }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_condition_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativeBarrier::open;
%newobject NativeBarrier::stat_json;
%extend NativeBarrier {
  static NativeBarrier *open(const char *name, int open_mode, uint32_t parties, uint32_t mode, int ephemeral,
                             polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_barrier *b = NULL;
    polyipc_barrier_open(name, (polyipc_open_mode)open_mode, parties, &o, &b, err);
    return b;
  }
  ~NativeBarrier() { polyipc_barrier_close($self); }
  /* arrival index; a timeout breaks the barrier */
  uint64_t wait(int64_t timeout_ns, polyipc_error *err) {
    uint64_t index = 0;
    polyipc_barrier_wait($self, timeout_ns, &index, err);
    return index;
  }
  /* two-step wait for slices: arrive, then await(ticket) until it returns; TIMEOUT keeps the arrival */
  uint64_t arrive(polyipc_error *err) {
    uint64_t ticket = 0;
    polyipc_barrier_arrive($self, &ticket, err);
    return ticket;
  }
  uint64_t await_ticket(uint64_t ticket, int64_t timeout_ns, polyipc_error *err) {
    uint64_t index = 0;
    polyipc_barrier_await($self, ticket, timeout_ns, &index, err);
    return index;
  }
  /* gives up an arrival: BROKEN (raised), unless its round completed: then its index */
  uint64_t cancel_ticket(uint64_t ticket, polyipc_error *err) {
    uint64_t index = 0;
    polyipc_barrier_cancel($self, ticket, &index, err);
    return index;
  }
  void abort(polyipc_error *err) { polyipc_barrier_abort($self, err); }
  void reset(polyipc_error *err) { polyipc_barrier_reset($self, err); }
  uint32_t parties(polyipc_error *err) {
    uint32_t v = 0;
    polyipc_barrier_parties($self, &v, err);
    return v;
  }
  uint32_t n_waiting(polyipc_error *err) {
    uint32_t v = 0;
    polyipc_barrier_n_waiting($self, &v, err);
    return v;
  }
  int broken(polyipc_error *err) {
    int v = 0;
    polyipc_barrier_broken($self, &v, err);
    return v;
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_barrier_stat_json($self, &json, err);
    return json;
  }
}

/* ---- pipes, shared memory, Value/Array -----------------------------------------
 * As above: every method raises on any non-OK status (EMPTY, TIMEOUT, CLOSED
 * included); the idiomatic layer turns them into the language's idiom. */
%nodefaultctor NativePipe;
%nodefaultctor NativeSharedMemory;
%nodefaultctor NativeArray;
%nodefaultctor NativeWaitSet;
typedef struct {} NativePipe;
/* Holds raw pointers: the idiomatic layer keeps the pipes and queues it adds
 * open for as long as it uses the set. */
typedef struct {} NativeWaitSet;
typedef struct {} NativeSharedMemory;
typedef struct {} NativeArray;
%nodefaultctor NativePool;
%nodefaultctor NativePoolTask;
/* A task refers to the pool it was taken from: the idiomatic layer keeps the
 * pool open for as long as it holds the task. */
typedef struct {} NativePool;
typedef struct {} NativePoolTask;
%nodefaultctor NativePoolBatch;
/* (typemaps apply where the type is declared, not where it is extended) */
%apply (const void *data, size_t len) { (const void *errors, size_t errors_len) };
typedef struct {} NativePoolBatch;

%newobject NativePipe::open;
%newobject NativePipe::open_existing;
%newobject NativePipe::stat_json;
%extend NativePipe {
  /* end: 0 = A, 1 = B. duplex 0: only A sends. capacity 0 / mode 0: the defaults. */
  static NativePipe *open(const char *name, int open_mode, int end, int duplex, int format, uint64_t capacity_bytes,
                          uint32_t mode, int ephemeral, polyipc_error *err) {
    polyipc_pipe_options o;
    polyipc_pipe *p = NULL;
    polyipc_pipe_options_init(&o);
    o.duplex = (uint32_t)duplex;
    o.format = (uint32_t)format;
    if (capacity_bytes) o.capacity_bytes = capacity_bytes;
    if (mode) o.mode = mode;
    o.ephemeral = (uint32_t)ephemeral;
    polyipc_pipe_open(name, (polyipc_open_mode)open_mode, (polyipc_pipe_end)end, &o, &p, err);
    return p;
  }
  /* an existing pipe, whatever its options */
  static NativePipe *open_existing(const char *name, int end, polyipc_error *err) {
    polyipc_pipe *p = NULL;
    polyipc_pipe_open(name, POLYIPC_OPEN_ONLY, (polyipc_pipe_end)end, NULL, &p, err);
    return p;
  }
  ~NativePipe() { polyipc_pipe_close($self); }
  void send(const void *data, size_t len, int64_t timeout_ns, polyipc_error *err) {
    polyipc_pipe_send($self, data, len, timeout_ns, err);
  }
  polyipc_bytes recv(int64_t timeout_ns, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    polyipc_pipe_recv($self, &b.data, &b.len, timeout_ns, err);
    return b;
  }
  /* raises TIMEOUT when nothing came, CLOSED at end of stream */
  void poll(int64_t timeout_ns, polyipc_error *err) { polyipc_pipe_poll($self, timeout_ns, err); }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_pipe_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativeWaitSet::create;
%extend NativeWaitSet {
  static NativeWaitSet *create(void) {
    NativeWaitSet *w = (NativeWaitSet *)calloc(1, sizeof *w);
    return w;
  }
  ~NativeWaitSet() {
    free($self->items);
    free($self);
  }
  /* adds a pipe or a queue; returns its index */
  size_t add_pipe(NativePipe *p) { return NativeWaitSet_push($self, p, NULL); }
  size_t add_queue(NativeQueue *q) { return NativeWaitSet_push($self, NULL, q); }
  /* how many are ready (0 with TIMEOUT raised when none became ready) */
  size_t wait(int64_t timeout_ns, polyipc_error *err) {
    size_t i, n = 0;
    polyipc_wait($self->items, $self->count, timeout_ns, err);
    for (i = 0; i < $self->count; ++i) n += $self->items[i].ready != 0;
    return n;
  }
  int ready(size_t index) { return index < $self->count && $self->items[index].ready; }
}

%newobject NativeSharedMemory::open;
%newobject NativeSharedMemory::stat_json;
%extend NativeSharedMemory {
  /* size 0: an existing block, whatever its size */
  static NativeSharedMemory *open(const char *name, int open_mode, uint64_t size, uint32_t mode, int ephemeral,
                                  polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_shm *m = NULL;
    polyipc_shm_open(name, (polyipc_open_mode)open_mode, size, &o, &m, err);
    return m;
  }
  ~NativeSharedMemory() { polyipc_shm_close($self); }
  /* the address of the bytes, valid until this handle is destroyed; the
   * idiomatic layer wraps it in the language's view */
  uint64_t address(polyipc_error *err) {
    void *data = NULL;
    polyipc_shm_data($self, &data, NULL, err);
    return (uint64_t)(uintptr_t)data;
  }
  uint64_t size(polyipc_error *err) {
    uint64_t n = 0;
    polyipc_shm_data($self, NULL, &n, err);
    return n;
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_shm_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativeArray::open;
%newobject NativeArray::stat_json;
%extend NativeArray {
  /* type: 0 = int64, 1 = double; length 0: an existing array, whatever its length */
  static NativeArray *open(const char *name, int open_mode, int type, uint64_t length, uint32_t mode, int ephemeral,
                           polyipc_error *err) {
    polyipc_sync_options o = polyipc_native_sync_options(mode, ephemeral);
    polyipc_array *a = NULL;
    polyipc_array_open(name, (polyipc_open_mode)open_mode, (polyipc_elem_type)type, length, &o, &a, err);
    return a;
  }
  ~NativeArray() { polyipc_array_close($self); }
  uint64_t length(polyipc_error *err) {
    uint64_t n = 0;
    polyipc_array_length($self, &n, err);
    return n;
  }
  int elem_type(polyipc_error *err) {
    polyipc_elem_type t = POLYIPC_INT64;
    polyipc_array_type($self, &t, err);
    return (int)t;
  }
  int64_t load_i64(uint64_t index, polyipc_error *err) {
    int64_t v = 0;
    polyipc_array_load_i64($self, index, &v, err);
    return v;
  }
  void store_i64(uint64_t index, int64_t value, polyipc_error *err) { polyipc_array_store_i64($self, index, value, err); }
  /* returns the value before */
  int64_t add_i64(uint64_t index, int64_t delta, polyipc_error *err) {
    int64_t prev = 0;
    polyipc_array_add_i64($self, index, delta, &prev, err);
    return prev;
  }
  /* 1 when replaced */
  int compare_exchange_i64(uint64_t index, int64_t expected, int64_t desired, polyipc_error *err) {
    int swapped = 0;
    polyipc_array_compare_exchange_i64($self, index, expected, desired, NULL, &swapped, err);
    return swapped;
  }
  double load_f64(uint64_t index, polyipc_error *err) {
    double v = 0;
    polyipc_array_load_f64($self, index, &v, err);
    return v;
  }
  void store_f64(uint64_t index, double value, polyipc_error *err) { polyipc_array_store_f64($self, index, value, err); }
  double add_f64(uint64_t index, double delta, polyipc_error *err) {
    double prev = 0;
    polyipc_array_add_f64($self, index, delta, &prev, err);
    return prev;
  }
  int compare_exchange_f64(uint64_t index, double expected, double desired, polyipc_error *err) {
    int swapped = 0;
    polyipc_array_compare_exchange_f64($self, index, expected, desired, NULL, &swapped, err);
    return swapped;
  }
  /* the optional lock: raises OWNER_DEAD (held) / TIMEOUT; release: NOT_OWNER */
  void acquire(int64_t timeout_ns, polyipc_error *err) { polyipc_array_acquire($self, timeout_ns, err); }
  void release(polyipc_error *err) { polyipc_array_release($self, err); }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_array_stat_json($self, &json, err);
    return json;
  }
}

%newobject NativePool::open;
%newobject NativePool::take;
%newobject NativePool::take_batch;
%newobject NativePool::stat_json;
%extend NativePool {
  /* capacity_bytes, max_tasks, result_capacity_bytes, mode 0: the defaults */
  static NativePool *open(const char *name, int open_mode, uint64_t capacity_bytes, uint64_t max_tasks,
                          uint64_t result_capacity_bytes, uint32_t mode, polyipc_error *err) {
    polyipc_pool_options o;
    polyipc_pool *p = NULL;
    polyipc_pool_options_init(&o);
    if (capacity_bytes) o.capacity_bytes = capacity_bytes;
    o.max_tasks = max_tasks;
    if (result_capacity_bytes) o.result_capacity_bytes = result_capacity_bytes;
    if (mode) o.mode = mode;
    polyipc_pool_open(name, (polyipc_open_mode)open_mode, &o, &p, err);
    return p;
  }
  ~NativePool() { polyipc_pool_close($self); }
  /* args: JSON bytes; returns the task id */
  uint64_t submit(const char *function, const void *data, size_t len, int64_t timeout_ns, polyipc_error *err) {
    uint64_t id = 0;
    polyipc_pool_submit($self, function, data, len, timeout_ns, &id, err);
    return id;
  }
  /* task_id 0: any task of this handle. The result message as UTF-8 JSON bytes:
   * {"id":7,"ok":true,"result":...} or {"id":7,"ok":false,"error":"..."}
   * (cancelled: {"id":7,"ok":false,"cancelled":true,"error":"cancelled"}) */
  polyipc_bytes result(uint64_t task_id, int64_t timeout_ns, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    char *json = NULL;
    if (polyipc_pool_result($self, task_id, timeout_ns, &json, &b.len, err) == POLYIPC_OK) b.data = json;
    return b;
  }
  /* the results of tasks first_id .. first_id+count-1, once all came, as
   * UTF-8 JSON bytes: [<values>,<failures>] (see polyipc_pool_results) */
  polyipc_bytes results(uint64_t first_id, size_t count, int64_t timeout_ns, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    char *values = NULL, *failures = NULL;
    size_t values_len = 0, failures_len = 0;
    if (polyipc_pool_results($self, first_id, count, timeout_ns, &values, &values_len, &failures, &failures_len,
                             err) == POLYIPC_OK) {
      b.len = values_len + failures_len + 3;
      b.data = malloc(b.len);
      if (b.data) {
        char *out = (char *)b.data;
        out[0] = '[';
        memcpy(out + 1, values, values_len);
        out[1 + values_len] = ',';
        memcpy(out + 2 + values_len, failures, failures_len);
        out[b.len - 1] = ']';
      } else {
        b.len = 0;
        err->code = POLYIPC_ERR_NO_MEMORY;
        snprintf(err->message, sizeof err->message, "pool results: no memory for %zu bytes", values_len + failures_len);
      }
    }
    polyipc_free(values);
    polyipc_free(failures);
    return b;
  }
  /* 1: taken back before any worker took it (its result says "cancelled"); 0: it runs */
  int cancel(uint64_t task_id, polyipc_error *err) {
    int cancelled = 0;
    polyipc_pool_cancel($self, task_id, &cancelled, err);
    return cancelled;
  }
  /* NULL (with the error raised) when none was taken */
  NativePoolTask *take(int64_t timeout_ns, polyipc_error *err) {
    polyipc_pool_task *t = NULL;
    polyipc_pool_take($self, timeout_ns, &t, err);
    return t;
  }
  /* tasks to run together (max_tasks 0: a chunk's all); NULL (with the error raised) when none was taken */
  NativePoolBatch *take_batch(size_t max_tasks, int64_t timeout_ns, polyipc_error *err) {
    polyipc_pool_batch *b = NULL;
    polyipc_pool_take_batch($self, max_tasks, timeout_ns, &b, err);
    return b;
  }
  void close_tasks(polyipc_error *err) { polyipc_pool_close_tasks($self, err); }
  /* the untaken tasks of chunks this handle holds go back (a worker loop that ends) */
  void give_back_held(polyipc_error *err) { polyipc_pool_give_back_held($self, err); }
  void join(int64_t timeout_ns, polyipc_error *err) { polyipc_pool_join($self, timeout_ns, err); }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_pool_stat_json($self, &json, err);
    return json;
  }
}

%extend NativePoolTask {
  /* frees the task; one not finished goes back to the pool */
  ~NativePoolTask() { polyipc_pool_task_free($self); }
  uint64_t id() { return polyipc_pool_task_id($self); }
  /* UTF-8 bytes */
  polyipc_bytes function() {
    const char *f = polyipc_pool_task_function($self);
    return polyipc_native_copy(f, f ? strlen(f) : 0);
  }
  /* the JSON arguments, as sent */
  polyipc_bytes args() {
    size_t len = 0;
    const char *a = polyipc_pool_task_args($self, &len);
    return polyipc_native_copy(a, len);
  }
  /* failed 0: data is the JSON result; 1: an error text (UTF-8) */
  void finish(int failed, const void *data, size_t len, polyipc_error *err) {
    polyipc_pool_finish($self, failed, data, len, err);
  }
}

%extend NativePoolBatch {
  /* frees the batch; its unfinished tasks go back to the pool */
  ~NativePoolBatch() { polyipc_pool_batch_free($self); }
  uint64_t first_id() { return polyipc_pool_batch_first_id($self); }
  size_t count() { return polyipc_pool_batch_count($self); }
  size_t finished() { return polyipc_pool_batch_finished($self); }
  /* UTF-8 bytes */
  polyipc_bytes function() {
    const char *f = polyipc_pool_batch_function($self);
    return polyipc_native_copy(f, f ? strlen(f) : 0);
  }
  /* a JSON array of each task's arguments, as sent */
  polyipc_bytes args() {
    size_t len = 0;
    const char *a = polyipc_pool_batch_args($self, &len);
    return polyipc_native_copy(a, len);
  }
  /* the arguments of task first_id + index alone, as sent (empty past count) */
  polyipc_bytes task_args(size_t index) {
    size_t len = 0;
    const char *a = polyipc_pool_batch_task_args($self, index, &len);
    return polyipc_native_copy(a, len);
  }
  /* the next tasks' results (a JSON array), and errors: empty, or a JSON
   * object of failed indexes to error texts */
  void finish(const void *data, size_t len, const void *errors, size_t errors_len, polyipc_error *err) {
    polyipc_pool_batch_finish($self, data, len, errors, errors_len, err);
  }
}

/* ---- dict: string keys to JSON values -------------------------------------------
 * Keys and values go in as bytes (UTF-8 and JSON text), so no language's own
 * string marshalling (Java's modified UTF-8) touches them. A valid JSON text
 * is never empty, so an empty result means "absent", and an empty expected or
 * desired value in compare_and_set means NULL in the C API. */
%apply (const void *data, size_t len) { (const void *key, size_t key_len), (const void *value, size_t value_len),
                                        (const void *expected, size_t expected_len),
                                        (const void *desired, size_t desired_len) };
%nodefaultctor NativeDict;
typedef struct {} NativeDict;
%newobject NativeDict::open;
%newobject NativeDict::stat_json;
%extend NativeDict {
  /* capacity_bytes, max_items, mode 0: the defaults */
  static NativeDict *open(const char *name, int open_mode, uint64_t capacity_bytes, uint64_t max_items, uint32_t mode,
                          int ephemeral, polyipc_error *err) {
    polyipc_dict_options o;
    polyipc_dict *d = NULL;
    polyipc_dict_options_init(&o);
    if (capacity_bytes) o.capacity_bytes = capacity_bytes;
    if (max_items) o.max_items = max_items;
    if (mode) o.mode = mode;
    o.ephemeral = (uint32_t)ephemeral;
    polyipc_dict_open(name, (polyipc_open_mode)open_mode, &o, &d, err);
    return d;
  }
  ~NativeDict() { polyipc_dict_close($self); }
  void set(const void *key, size_t key_len, const void *value, size_t value_len, polyipc_error *err) {
    char *k = polyipc_native_dict_text($self, key, key_len, "key", err);
    char *v = k ? polyipc_native_dict_text($self, value, value_len, "value", err) : NULL;
    if (v) polyipc_dict_set($self, k, v, err);
    free(k);
    free(v);
  }
  /* the value's JSON text; empty when the key is absent */
  polyipc_bytes get(const void *key, size_t key_len, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    char *k = polyipc_native_dict_text($self, key, key_len, "key", err);
    int found = 0;
    if (k && polyipc_dict_get($self, k, (char **)&b.data, &b.len, &found, err) != 0) b.len = 0;
    free(k);
    return b;
  }
  /* 1 when the key was there */
  int remove(const void *key, size_t key_len, polyipc_error *err) {
    int deleted = 0;
    char *k = polyipc_native_dict_text($self, key, key_len, "key", err);
    if (k) polyipc_dict_delete($self, k, &deleted, err);
    free(k);
    return deleted;
  }
  /* expected empty: only if absent; desired empty: delete. 1 when it changed. */
  int compare_and_set(const void *key, size_t key_len, const void *expected, size_t expected_len,
                      const void *desired, size_t desired_len, polyipc_error *err) {
    int swapped = 0;
    char *k = polyipc_native_dict_text($self, key, key_len, "key", err);
    char *x = k && expected_len ? polyipc_native_dict_text($self, expected, expected_len, "expected value", err) : NULL;
    char *v = k && (x || !expected_len) && desired_len
                  ? polyipc_native_dict_text($self, desired, desired_len, "value", err) : NULL;
    if (k && (x || !expected_len) && (v || !desired_len))
      polyipc_dict_compare_and_set($self, k, x, v, &swapped, err);
    free(k);
    free(x);
    free(v);
    return swapped;
  }
  uint64_t len(polyipc_error *err) {
    uint64_t n = 0;
    polyipc_dict_len($self, &n, err);
    return n;
  }
  /* a JSON array of the keys (UTF-8) */
  polyipc_bytes keys(polyipc_error *err) {
    char *json = NULL;
    polyipc_bytes b = {NULL, 0};
    if (polyipc_dict_keys($self, &json, err) == 0) {
      b.data = json;
      b.len = strlen(json);
    }
    return b;
  }
  /* a JSON object of every entry (UTF-8) */
  polyipc_bytes items(polyipc_error *err) {
    char *json = NULL;
    polyipc_bytes b = {NULL, 0};
    if (polyipc_dict_items($self, &json, err) == 0) {
      b.data = json;
      b.len = strlen(json);
    }
    return b;
  }
  void clear(polyipc_error *err) { polyipc_dict_clear($self, err); }
  /* +1 per change */
  uint64_t version(polyipc_error *err) {
    uint64_t v = 0;
    polyipc_dict_version($self, &v, err);
    return v;
  }
  /* the version at return; TIMEOUT in err while it is still seen_version. Sliced
   * waits pass the same seen_version again, so no change between slices is missed. */
  uint64_t wait_change(uint64_t seen_version, int64_t timeout_ns, polyipc_error *err) {
    uint64_t v = seen_version;
    polyipc_dict_wait_change($self, seen_version, timeout_ns, &v, err);
    return v;
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_dict_stat_json($self, &json, err);
    return json;
  }
}

/* ---- list: a sequence of JSON values --------------------------------------------
 * Values go in as bytes (JSON text) as the dict's do; indexes as in Python
 * (negative: from the end). */
%nodefaultctor NativeList;
typedef struct {} NativeList;
%newobject NativeList::open;
%newobject NativeList::stat_json;
%extend NativeList {
  /* capacity_bytes, max_items, mode 0: the defaults */
  static NativeList *open(const char *name, int open_mode, uint64_t capacity_bytes, uint64_t max_items, uint32_t mode,
                          int ephemeral, polyipc_error *err) {
    polyipc_list_options o;
    polyipc_list *l = NULL;
    polyipc_list_options_init(&o);
    if (capacity_bytes) o.capacity_bytes = capacity_bytes;
    if (max_items) o.max_items = max_items;
    if (mode) o.mode = mode;
    o.ephemeral = (uint32_t)ephemeral;
    polyipc_list_open(name, (polyipc_open_mode)open_mode, &o, &l, err);
    return l;
  }
  ~NativeList() { polyipc_list_close($self); }
  void append(const void *value, size_t value_len, polyipc_error *err) {
    char *v = polyipc_native_list_text($self, value, value_len, err);
    if (v) polyipc_list_append($self, v, err);
    free(v);
  }
  /* before element index (as Python's list.insert) */
  void insert(int64_t index, const void *value, size_t value_len, polyipc_error *err) {
    char *v = polyipc_native_list_text($self, value, value_len, err);
    if (v) polyipc_list_insert($self, index, v, err);
    free(v);
  }
  polyipc_bytes get(int64_t index, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    if (polyipc_list_get($self, index, (char **)&b.data, &b.len, err) != 0) b.len = 0;
    return b;
  }
  void set(int64_t index, const void *value, size_t value_len, polyipc_error *err) {
    char *v = polyipc_native_list_text($self, value, value_len, err);
    if (v) polyipc_list_set($self, index, v, err);
    free(v);
  }
  /* removes element index (-1: the last) and returns it; EMPTY on an empty list */
  polyipc_bytes pop(int64_t index, polyipc_error *err) {
    polyipc_bytes b = {NULL, 0};
    if (polyipc_list_pop($self, index, (char **)&b.data, &b.len, err) != 0) b.len = 0;
    return b;
  }
  uint64_t len(polyipc_error *err) {
    uint64_t n = 0;
    polyipc_list_len($self, &n, err);
    return n;
  }
  /* every value as one JSON array (UTF-8) */
  polyipc_bytes items(polyipc_error *err) {
    char *json = NULL;
    polyipc_bytes b = {NULL, 0};
    if (polyipc_list_items($self, &json, err) == 0) {
      b.data = json;
      b.len = strlen(json);
    }
    return b;
  }
  void clear(polyipc_error *err) { polyipc_list_clear($self, err); }
  /* as NativeDict's */
  uint64_t version(polyipc_error *err) {
    uint64_t v = 0;
    polyipc_list_version($self, &v, err);
    return v;
  }
  uint64_t wait_change(uint64_t seen_version, int64_t timeout_ns, polyipc_error *err) {
    uint64_t v = seen_version;
    polyipc_list_wait_change($self, seen_version, timeout_ns, &v, err);
    return v;
  }
  char *stat_json(polyipc_error *err) {
    char *json = NULL;
    polyipc_list_stat_json($self, &json, err);
    return json;
  }
}
