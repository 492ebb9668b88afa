/*
 * polyipc.h: the only public header of polyipc, a C ABI over the C++ core.
 *
 * Rules every function follows (see docs/design-notes.md, "C API additions to the contract"):
 *  - returns int: POLYIPC_OK (0) or a polyipc_status code (> 0).
 *  - the last parameter is `polyipc_error *err` (nullable). On failure it is
 *    filled with the status and a message naming the object and the cause.
 *    There is no thread-local "last error".
 *  - output parameters are untouched when a call fails, except where a
 *    function documents otherwise (get_into's *len on TOO_LARGE, the
 *    *done counts of the batch calls).
 *  - timeouts are int64_t nanoseconds on the monotonic clock:
 *    POLYIPC_FOREVER (< 0) blocks, 0 never blocks, > 0 waits at most that long.
 *  - names: 1..200 chars of [A-Za-z0-9._-], never a path. Objects live in the
 *    namespace named by the environment variable POLYIPC_NAMESPACE
 *    (default "default").
 *  - every handle may be used from several threads at once; closing a handle
 *    while another thread uses it is the caller's bug (bindings guard it).
 *  - memory the library returns is released with polyipc_free().
 *  - options structs start with struct_size and have an _init() function.
 */
#ifndef POLYIPC_H
#define POLYIPC_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define POLYIPC_API __declspec(dllexport)
#else
#define POLYIPC_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define POLYIPC_VERSION_MAJOR 0
#define POLYIPC_VERSION_MINOR 9
#define POLYIPC_VERSION_PATCH 8
/* MAJOR*1000000 + MINOR*1000 + PATCH */
#define POLYIPC_VERSION_NUMBER 9008
#define POLYIPC_VERSION_STRING "0.9.8"

#define POLYIPC_FOREVER ((int64_t)-1)
#define POLYIPC_MAX_NAME 200
/* Deepest nesting a JSON-format message may have (arrays + objects). */
#define POLYIPC_JSON_MAX_DEPTH 512

/* Stable numbers: new codes are only ever appended. */
typedef enum polyipc_status {
  POLYIPC_OK = 0,
  POLYIPC_ERR_TIMEOUT = 1,       /* the wait ran out */
  POLYIPC_ERR_EMPTY = 2,         /* non-blocking get on an empty queue (queue.Empty) */
  POLYIPC_ERR_FULL = 3,          /* non-blocking put on a full queue (queue.Full) */
  POLYIPC_ERR_CLOSED = 4,        /* closed for writing and drained, or peer gone (EOFError) */
  POLYIPC_ERR_NOT_FOUND = 5,     /* OPEN_ONLY of a name that does not exist */
  POLYIPC_ERR_EXISTS = 6,        /* CREATE_ONLY of a name that exists */
  POLYIPC_ERR_INVALID_ARG = 7,   /* NULL handle, bad name, bad size, bad option */
  POLYIPC_ERR_INVALID_JSON = 8,  /* a JSON-format object was given malformed JSON */
  POLYIPC_ERR_TOO_LARGE = 9,     /* message larger than the object can ever hold, or caller buffer too small */
  POLYIPC_ERR_PERMISSION = 10,   /* the OS refused access to the object */
  POLYIPC_ERR_OWNER_DEAD = 11,   /* acquired, but the previous holder died holding it */
  POLYIPC_ERR_INCOMPATIBLE = 12, /* the name holds another kind, another layout version, or garbage */
  POLYIPC_ERR_NO_MEMORY = 13,    /* /dev/shm has no room for a new object or a pipe's next pages (not a
                                  * SIGBUS later); a table of handles or waiters is full */
  POLYIPC_ERR_NOT_OWNER = 14,    /* release of a lock this caller does not hold */
  POLYIPC_ERR_BROKEN = 15,       /* barrier broken / aborted */
  POLYIPC_ERR_SYSTEM = 16,       /* an unexpected OS error; the message carries errno text */
  POLYIPC_ERR_OUT_OF_RANGE = 17  /* an index outside a list or array (IndexError); since 0.7.0 */
} polyipc_status;

typedef struct polyipc_error {
  int code;
  char message[256];
} polyipc_error;

typedef enum polyipc_open_mode {
  POLYIPC_OPEN_OR_CREATE = 0, /* race-free: concurrent openers all get the same object */
  POLYIPC_CREATE_ONLY = 1,
  POLYIPC_OPEN_ONLY = 2
} polyipc_open_mode;

POLYIPC_API const char *polyipc_version(void);           /* "MAJOR.MINOR.PATCH" */
POLYIPC_API int polyipc_version_number(void);            /* equals POLYIPC_VERSION_NUMBER of the build */
POLYIPC_API const char *polyipc_status_name(int status); /* "POLYIPC_ERR_TIMEOUT"; static text */
POLYIPC_API void polyipc_free(void *p);                  /* NULL is fine */

/* ---- queues: FIFO, LIFO, priority; optionally joinable ------------------ */
typedef struct polyipc_queue polyipc_queue;

typedef enum polyipc_queue_order { POLYIPC_FIFO = 0, POLYIPC_LIFO = 1, POLYIPC_PRIORITY = 2 } polyipc_queue_order;
typedef enum polyipc_format { POLYIPC_FORMAT_JSON = 0, POLYIPC_FORMAT_BYTES = 1 } polyipc_format;

typedef struct polyipc_queue_options {
  uint32_t struct_size;       /* sizeof(polyipc_queue_options), set by _init() */
  uint32_t order;             /* polyipc_queue_order, default FIFO */
  uint32_t format;            /* polyipc_format, default JSON: put() validates */
  uint32_t joinable;          /* 1: task_done()/join() are available; gets are leases */
  uint64_t max_items;         /* 0 = bounded only by capacity_bytes (Python's maxsize) */
  uint64_t capacity_bytes;    /* shared memory for messages; default 1 MiB */
  uint64_t max_message_bytes; /* 0 = as large as capacity_bytes allows */
  uint32_t mode;              /* permission bits of the object, default 0600 */
  uint32_t ephemeral;         /* 1: unlinked when the last attached process detaches or dies */
} polyipc_queue_options;

POLYIPC_API void polyipc_queue_options_init(polyipc_queue_options *opts);

/* Opens or creates queue `name`. When the queue exists, opts only has to agree
 * with it where it matters (order, format, joinable): a mismatch is INCOMPATIBLE. */
POLYIPC_API int polyipc_queue_open(const char *name, polyipc_open_mode mode, const polyipc_queue_options *opts,
                                   polyipc_queue **out, polyipc_error *err);
POLYIPC_API int polyipc_queue_put(polyipc_queue *q, const void *data, size_t len, int64_t timeout_ns,
                                  polyipc_error *err);
/* lowest priority first, FIFO among equals; on FIFO/LIFO queues the priority is ignored */
POLYIPC_API int polyipc_queue_put_priority(polyipc_queue *q, const void *data, size_t len, int64_t priority,
                                           int64_t timeout_ns, polyipc_error *err);
/* library-allocated copy in *data (release with polyipc_free) */
POLYIPC_API int polyipc_queue_get(polyipc_queue *q, void **data, size_t *len, int64_t timeout_ns,
                                  polyipc_error *err);
/* zero-allocation variant: copies into buf; TOO_LARGE sets *len to the needed size and leaves the message */
POLYIPC_API int polyipc_queue_get_into(polyipc_queue *q, void *buf, size_t cap, size_t *len, int64_t timeout_ns,
                                       polyipc_error *err);
/* Batch put: messages data[i] of lens[i] bytes, in order, under as few locks and
 * wake-ups as possible. Waits up to timeout_ns for room for the first message,
 * then puts as many as fit without waiting again. *done = number put (the
 * first *done messages; the rest were not). Returns OK when all were put, else
 * the status that stopped it (FULL/TIMEOUT when out of room, INVALID_JSON or
 * TOO_LARGE naming message *done, CLOSED). */
POLYIPC_API int polyipc_queue_put_many(polyipc_queue *q, const void *const *data, const size_t *lens, size_t count,
                                       size_t *done, int64_t timeout_ns, polyipc_error *err);
/* Batch get: waits up to timeout_ns for one message, then takes up to max_count
 * that are there and fit in buf, packed back to back; lens[i] is the length of
 * message i. *done = number taken. If the first message does not fit, returns
 * TOO_LARGE with lens[0] = its size and leaves it in the queue. */
POLYIPC_API int polyipc_queue_get_many(polyipc_queue *q, void *buf, size_t cap, size_t *lens, size_t max_count,
                                       size_t *done, int64_t timeout_ns, polyipc_error *err);
/* Zero copy, for large messages: the bytes are written or read in the ring itself.
 * reserve: room for len bytes at *data (priority 0), this process's alone until
 *   commit publishes it (a JSON queue validates it then; INVALID_JSON drops it)
 *   or cancel drops it. Waits up to timeout_ns for room, as put does.
 * borrow: takes the next message as get does, but leaves its len bytes in the
 *   ring at *data (read only) until release.
 * *ticket names the reservation or the borrowed message (its position in the
 * ring); a ticket this process does not hold (another's, or one ended already)
 * is INVALID_ARG, except that a position can come back to this process in a
 * LIFO or PRIORITY queue, whose freed space is reused at once: end each ticket
 * exactly once (the bindings' guards do). A process
 * that dies first loses its reservation, and its borrowed message goes back to
 * the queue for the next getter. Space behind either is reused only after it
 * ends: keep them short. */
POLYIPC_API int polyipc_queue_reserve(polyipc_queue *q, size_t len, void **data, uint64_t *ticket, int64_t timeout_ns,
                                      polyipc_error *err);
POLYIPC_API int polyipc_queue_commit(polyipc_queue *q, uint64_t ticket, polyipc_error *err);
POLYIPC_API int polyipc_queue_cancel(polyipc_queue *q, uint64_t ticket, polyipc_error *err);
POLYIPC_API int polyipc_queue_borrow(polyipc_queue *q, const void **data, size_t *len, uint64_t *ticket,
                                     int64_t timeout_ns, polyipc_error *err);
POLYIPC_API int polyipc_queue_release(polyipc_queue *q, uint64_t ticket, polyipc_error *err);
POLYIPC_API int polyipc_queue_size(polyipc_queue *q, uint64_t *out, polyipc_error *err); /* qsize() */
/* Joinable queues. task_done ends the oldest item this process got and has not
 * ended; with several threads finishing items out of order, task_done_message
 * ends the one holding exactly these bytes (the message as got), so that a
 * process that dies leaves exactly its unfinished items to be handed out again. */
POLYIPC_API int polyipc_queue_task_done(polyipc_queue *q, polyipc_error *err);
POLYIPC_API int polyipc_queue_task_done_message(polyipc_queue *q, const void *data, size_t len, polyipc_error *err);
POLYIPC_API int polyipc_queue_join(polyipc_queue *q, int64_t timeout_ns, polyipc_error *err);
/* end of stream: getters drain what is there, then everyone gets CLOSED */
POLYIPC_API int polyipc_queue_close_writes(polyipc_queue *q, polyipc_error *err);
/* the queue's name, options and counters as a JSON object (release with polyipc_free) */
POLYIPC_API int polyipc_queue_stat_json(polyipc_queue *q, char **json, polyipc_error *err);
POLYIPC_API void polyipc_queue_close(polyipc_queue *q); /* release this handle; NULL is fine */

/* ---- synchronisation: lock, rlock, semaphore, event, condition, barrier ----
 * Python's multiprocessing primitives, shared by name across processes and
 * languages, and robust: a holder that dies never wedges the others.
 * Ownership of locks is per thread (the OS thread that acquired); a binding
 * whose runtime moves calls between OS threads (Go) pins the thread while
 * the lock is held. Closing a handle never releases a lock. */
typedef struct polyipc_sync_options {
  uint32_t struct_size; /* sizeof(polyipc_sync_options), set by _init() */
  uint32_t mode;        /* permission bits of the object, default 0600 */
  uint32_t ephemeral;   /* 1: unlinked when the last attached process detaches or dies */
} polyipc_sync_options;
POLYIPC_API void polyipc_sync_options_init(polyipc_sync_options *opts);

/* Lock (recursive = 0) and RLock (recursive = 1): the name holds a "lock" or
 * an "rlock"; opening it as the other kind is INCOMPATIBLE. */
typedef struct polyipc_lock polyipc_lock;
POLYIPC_API int polyipc_lock_open(const char *name, polyipc_open_mode mode, int recursive,
                                  const polyipc_sync_options *opts /* nullable */, polyipc_lock **out,
                                  polyipc_error *err);
/* OK; OWNER_DEAD: acquired, but the previous holder died holding it (repair
 * what it guards; the lock is held and usable); TIMEOUT; INVALID_ARG when a
 * non-recursive lock is acquired again by the thread holding it (blocking;
 * with timeout 0 that is TIMEOUT, like Python's acquire(False)). */
POLYIPC_API int polyipc_lock_acquire(polyipc_lock *l, int64_t timeout_ns, polyipc_error *err);
/* NOT_OWNER when the calling thread does not hold it. An rlock is free again
 * after as many releases as acquires. */
POLYIPC_API int polyipc_lock_release(polyipc_lock *l, polyipc_error *err);
POLYIPC_API int polyipc_lock_locked(polyipc_lock *l, int *out, polyipc_error *err); /* held by anyone */
/* how many times the calling thread holds it (0: it does not) */
POLYIPC_API int polyipc_lock_held(polyipc_lock *l, uint32_t *depth, polyipc_error *err);
POLYIPC_API int polyipc_lock_stat_json(polyipc_lock *l, char **json, polyipc_error *err);
POLYIPC_API void polyipc_lock_close(polyipc_lock *l); /* NULL is fine; does not release */

/* Semaphore: max = 0 is unbounded; max > 0 makes a BoundedSemaphore whose
 * release past max is INVALID_ARG (Python's ValueError). initial is used
 * when creating; an existing semaphore with another max is INCOMPATIBLE
 * (OPEN_ONLY takes it as it is). Slots are counted per holder process: the
 * slots of a process that dies come back. */
typedef struct polyipc_semaphore polyipc_semaphore;
POLYIPC_API int polyipc_semaphore_open(const char *name, polyipc_open_mode mode, uint64_t initial, uint64_t max,
                                       const polyipc_sync_options *opts /* nullable */, polyipc_semaphore **out,
                                       polyipc_error *err);
POLYIPC_API int polyipc_semaphore_acquire(polyipc_semaphore *s, int64_t timeout_ns, polyipc_error *err);
/* n slots at once, all or none (java.util.concurrent.Semaphore.acquire(n)); n = 0 returns OK */
POLYIPC_API int polyipc_semaphore_acquire_n(polyipc_semaphore *s, uint64_t n, int64_t timeout_ns,
                                            polyipc_error *err);
POLYIPC_API int polyipc_semaphore_release(polyipc_semaphore *s, uint64_t n, polyipc_error *err);
POLYIPC_API int polyipc_semaphore_value(polyipc_semaphore *s, uint64_t *out, polyipc_error *err);
/* takes every slot available now; *taken = how many */
POLYIPC_API int polyipc_semaphore_drain(polyipc_semaphore *s, uint64_t *taken, polyipc_error *err);
POLYIPC_API int polyipc_semaphore_stat_json(polyipc_semaphore *s, char **json, polyipc_error *err);
POLYIPC_API void polyipc_semaphore_close(polyipc_semaphore *s);

/* Event: set wakes every waiter in every process; a waiter woken by set
 * returns OK even if clear came before it ran. */
typedef struct polyipc_event polyipc_event;
POLYIPC_API int polyipc_event_open(const char *name, polyipc_open_mode mode,
                                   const polyipc_sync_options *opts /* nullable */, polyipc_event **out,
                                   polyipc_error *err);
POLYIPC_API int polyipc_event_set(polyipc_event *e, polyipc_error *err);
POLYIPC_API int polyipc_event_clear(polyipc_event *e, polyipc_error *err);
POLYIPC_API int polyipc_event_is_set(polyipc_event *e, int *out, polyipc_error *err);
POLYIPC_API int polyipc_event_wait(polyipc_event *e, int64_t timeout_ns, polyipc_error *err); /* OK or TIMEOUT */
/* For callers that wait in slices: take a token once, then wait_since(token)
 * per slice; OK when the event is set or was set at any time after the token
 * was taken (even if cleared since), so no set between two slices is missed. */
POLYIPC_API int polyipc_event_token(polyipc_event *e, uint32_t *token, polyipc_error *err);
POLYIPC_API int polyipc_event_wait_since(polyipc_event *e, uint32_t token, int64_t timeout_ns, polyipc_error *err);
POLYIPC_API int polyipc_event_stat_json(polyipc_event *e, char **json, polyipc_error *err);
POLYIPC_API void polyipc_event_close(polyipc_event *e);

/* Condition bound to the lock or rlock named lock_name (NULL: "<name>.lock";
 * either is opened or created as a lock). The condition's own acquire and
 * release act on that lock, so `with condition:` needs no second handle. */
typedef struct polyipc_condition polyipc_condition;
POLYIPC_API int polyipc_condition_open(const char *name, polyipc_open_mode mode, const char *lock_name,
                                       const polyipc_sync_options *opts /* nullable */, polyipc_condition **out,
                                       polyipc_error *err);
POLYIPC_API int polyipc_condition_acquire(polyipc_condition *c, int64_t timeout_ns, polyipc_error *err);
POLYIPC_API int polyipc_condition_release(polyipc_condition *c, polyipc_error *err);
/* The caller holds the lock: releases it, waits for a notify, takes it back
 * (however long that takes). OK: notified; TIMEOUT; NOT_OWNER: lock not held;
 * OWNER_DEAD: re-acquired from a holder that died (treat as a wake-up). */
POLYIPC_API int polyipc_condition_wait(polyipc_condition *c, int64_t timeout_ns, polyipc_error *err);
/* The caller holds the lock (else NOT_OWNER). Wakes up to n waiters, longest waiting first. */
POLYIPC_API int polyipc_condition_notify(polyipc_condition *c, uint64_t n, polyipc_error *err);
POLYIPC_API int polyipc_condition_notify_all(polyipc_condition *c, polyipc_error *err);
POLYIPC_API int polyipc_condition_stat_json(polyipc_condition *c, char **json, polyipc_error *err);
POLYIPC_API void polyipc_condition_close(polyipc_condition *c);

/* Barrier of `parties` (1..256). wait returns the arrival index in *index
 * (0 first, parties - 1 last). A timeout, an abort, a reset or a waiting
 * process that dies breaks it: waiters get BROKEN (the one that timed out
 * gets TIMEOUT) until reset. An existing barrier with other parties is
 * INCOMPATIBLE. */
typedef struct polyipc_barrier polyipc_barrier;
POLYIPC_API int polyipc_barrier_open(const char *name, polyipc_open_mode mode, uint32_t parties,
                                     const polyipc_sync_options *opts /* nullable */, polyipc_barrier **out,
                                     polyipc_error *err);
POLYIPC_API int polyipc_barrier_wait(polyipc_barrier *b, int64_t timeout_ns, uint64_t *index, polyipc_error *err);
/* wait in two steps, for callers that wait in slices: arrive, then await
 * until OK or BROKEN; await's TIMEOUT keeps the arrival (call it again, or
 * abort to give up, which breaks the barrier as a timeout would). */
POLYIPC_API int polyipc_barrier_arrive(polyipc_barrier *b, uint64_t *ticket, polyipc_error *err);
POLYIPC_API int polyipc_barrier_await(polyipc_barrier *b, uint64_t ticket, int64_t timeout_ns, uint64_t *index,
                                      polyipc_error *err);
/* gives up an arrival (after await's TIMEOUT, or on cancellation): breaks the
 * barrier and returns BROKEN, unless the ticket's round completed meanwhile:
 * then OK with *index, as wait does when its own timeout runs out. Unlike
 * abort it never breaks a later round. */
POLYIPC_API int polyipc_barrier_cancel(polyipc_barrier *b, uint64_t ticket, uint64_t *index, polyipc_error *err);
POLYIPC_API int polyipc_barrier_abort(polyipc_barrier *b, polyipc_error *err);
POLYIPC_API int polyipc_barrier_reset(polyipc_barrier *b, polyipc_error *err);
POLYIPC_API int polyipc_barrier_parties(polyipc_barrier *b, uint32_t *out, polyipc_error *err);
POLYIPC_API int polyipc_barrier_n_waiting(polyipc_barrier *b, uint32_t *out, polyipc_error *err);
POLYIPC_API int polyipc_barrier_broken(polyipc_barrier *b, int *out, polyipc_error *err);
POLYIPC_API int polyipc_barrier_stat_json(polyipc_barrier *b, char **json, polyipc_error *err);
POLYIPC_API void polyipc_barrier_close(polyipc_barrier *b);

/* ---- pipes: named two-ended connections (multiprocessing.Pipe) ------------
 * End A and end B; duplex, or one-way (only A sends, only B receives). Each
 * direction is a ring of capacity_bytes; a message is at most
 * capacity_bytes - 8 bytes. Several handles (processes) may hold one end.
 * recv returns CLOSED once every handle of the other end is closed, or its
 * processes died (noticed within ~100 ms), and everything sent was received;
 * send to a closed end is CLOSED. A receiver waits for an end never opened. */
typedef struct polyipc_pipe polyipc_pipe;
typedef enum polyipc_pipe_end { POLYIPC_END_A = 0, POLYIPC_END_B = 1 } polyipc_pipe_end;

typedef struct polyipc_pipe_options {
  uint32_t struct_size;    /* sizeof(polyipc_pipe_options), set by _init() */
  uint32_t duplex;         /* default 1; 0: only end A sends */
  uint32_t format;         /* polyipc_format, default JSON: send validates */
  uint32_t mode;           /* permission bits of the object, default 0600 */
  uint64_t capacity_bytes; /* per direction, default 4 MiB (light use touches 1 MiB) */
  uint32_t ephemeral;      /* 1: unlinked when the last attached process detaches or dies */
  uint32_t reserved;
} polyipc_pipe_options;

POLYIPC_API void polyipc_pipe_options_init(polyipc_pipe_options *opts);
/* opts NULL: an existing pipe as it is (or a new one with the defaults). An
 * existing pipe with another duplex or format is INCOMPATIBLE. */
POLYIPC_API int polyipc_pipe_open(const char *name, polyipc_open_mode mode, polyipc_pipe_end end,
                                  const polyipc_pipe_options *opts, polyipc_pipe **out, polyipc_error *err);
/* OK; FULL (timeout 0) or TIMEOUT without room; CLOSED; INVALID_JSON; TOO_LARGE;
 * INVALID_ARG when this end may not send (end B of a one-way pipe); NO_MEMORY
 * when the ring needs pages /dev/shm cannot give (nothing was sent). */
POLYIPC_API int polyipc_pipe_send(polyipc_pipe *p, const void *data, size_t len, int64_t timeout_ns,
                                  polyipc_error *err);
/* library-allocated copy in *data (release with polyipc_free); EMPTY (timeout 0),
 * TIMEOUT, CLOSED (end of stream) */
POLYIPC_API int polyipc_pipe_recv(polyipc_pipe *p, void **data, size_t *len, int64_t timeout_ns, polyipc_error *err);
/* into buf; TOO_LARGE sets *len to the needed size and leaves the message */
POLYIPC_API int polyipc_pipe_recv_into(polyipc_pipe *p, void *buf, size_t cap, size_t *len, int64_t timeout_ns,
                                       polyipc_error *err);
/* OK: a message is waiting; CLOSED: end of stream; TIMEOUT: neither within timeout_ns */
POLYIPC_API int polyipc_pipe_poll(polyipc_pipe *p, int64_t timeout_ns, polyipc_error *err);
POLYIPC_API int polyipc_pipe_stat_json(polyipc_pipe *p, char **json, polyipc_error *err);
/* releases this handle's hold on its end (the other end sees EOF when no handle is left) */
POLYIPC_API void polyipc_pipe_close(polyipc_pipe *p);

/* ---- waiting on several pipes and queues (multiprocessing.connection.wait) */
typedef struct polyipc_waitable {
  polyipc_pipe *pipe;   /* exactly one of pipe and queue is set */
  polyipc_queue *queue;
  int ready;            /* out: 1 when a recv/get would not wait (a message, or the end of stream) */
} polyipc_waitable;
/* OK when at least one is ready (each marked), TIMEOUT when none became ready. */
POLYIPC_API int polyipc_wait(polyipc_waitable *items, size_t count, int64_t timeout_ns, polyipc_error *err);

/* ---- shared memory: a named block of bytes ---------------------------------
 * size: bytes to create; when the name exists, 0 takes it whatever its size
 * and another size is INCOMPATIBLE. The bytes start zeroed, page-aligned.
 * The pointer stays valid until this handle is closed, even after another
 * process unlinks the name. Larger than /dev/shm can hold: NO_MEMORY. */
typedef struct polyipc_shm polyipc_shm;
POLYIPC_API int polyipc_shm_open(const char *name, polyipc_open_mode mode, uint64_t size,
                                 const polyipc_sync_options *opts /* nullable */, polyipc_shm **out,
                                 polyipc_error *err);
POLYIPC_API int polyipc_shm_data(polyipc_shm *m, void **data, uint64_t *size, polyipc_error *err);
POLYIPC_API int polyipc_shm_stat_json(polyipc_shm *m, char **json, polyipc_error *err);
POLYIPC_API void polyipc_shm_close(polyipc_shm *m); /* unmaps: pointers from _data are invalid after */

/* ---- Value and Array of int64 or double, with atomic operations ------------
 * (multiprocessing.Value / Array; a Value is an array of length 1). Elements
 * start at 0. length 0 opens an existing array whatever its length; another
 * type or length is INCOMPATIBLE. An index out of range is OUT_OF_RANGE; an
 * operation of the other element type is INVALID_ARG. All operations are sequentially
 * consistent atomics; the optional lock (acquire/release, robust, as a
 * polyipc lock) serves compound updates. */
typedef struct polyipc_array polyipc_array;
typedef enum polyipc_elem_type { POLYIPC_INT64 = 0, POLYIPC_DOUBLE = 1 } polyipc_elem_type;
POLYIPC_API int polyipc_array_open(const char *name, polyipc_open_mode mode, polyipc_elem_type type, uint64_t length,
                                   const polyipc_sync_options *opts /* nullable */, polyipc_array **out,
                                   polyipc_error *err);
POLYIPC_API int polyipc_array_length(polyipc_array *a, uint64_t *out, polyipc_error *err);
POLYIPC_API int polyipc_array_type(polyipc_array *a, polyipc_elem_type *out, polyipc_error *err);
POLYIPC_API int polyipc_array_load_i64(polyipc_array *a, uint64_t index, int64_t *out, polyipc_error *err);
POLYIPC_API int polyipc_array_store_i64(polyipc_array *a, uint64_t index, int64_t value, polyipc_error *err);
/* adds (wrapping); *previous (nullable) = the value before */
POLYIPC_API int polyipc_array_add_i64(polyipc_array *a, uint64_t index, int64_t delta, int64_t *previous,
                                      polyipc_error *err);
/* replaces expected by desired; *actual = the value found, *swapped = 1 when replaced (both nullable) */
POLYIPC_API int polyipc_array_compare_exchange_i64(polyipc_array *a, uint64_t index, int64_t expected, int64_t desired,
                                                   int64_t *actual, int *swapped, polyipc_error *err);
POLYIPC_API int polyipc_array_load_f64(polyipc_array *a, uint64_t index, double *out, polyipc_error *err);
POLYIPC_API int polyipc_array_store_f64(polyipc_array *a, uint64_t index, double value, polyipc_error *err);
POLYIPC_API int polyipc_array_add_f64(polyipc_array *a, uint64_t index, double delta, double *previous,
                                      polyipc_error *err);
/* compares the bits of the doubles (so NaN can be replaced, and -0.0 != 0.0) */
POLYIPC_API int polyipc_array_compare_exchange_f64(polyipc_array *a, uint64_t index, double expected, double desired,
                                                   double *actual, int *swapped, polyipc_error *err);
/* the optional lock: OK, OWNER_DEAD (held; its holder died), TIMEOUT; release: NOT_OWNER */
POLYIPC_API int polyipc_array_acquire(polyipc_array *a, int64_t timeout_ns, polyipc_error *err);
POLYIPC_API int polyipc_array_release(polyipc_array *a, polyipc_error *err);
POLYIPC_API int polyipc_array_stat_json(polyipc_array *a, char **json, polyipc_error *err);
POLYIPC_API void polyipc_array_close(polyipc_array *a);

/* ---- dict: string keys to JSON values (the Manager's dict, without a manager)
 * Every attached process reads and writes it directly; each call is atomic
 * (one robust lock, one journaled change: a process killed mid-call leaves
 * the dict as before or after the call). Keys are NUL-terminated UTF-8 of at
 * most 4096 bytes; values are one JSON text each, validated (INVALID_JSON).
 * FULL: max_items keys, or no room left in capacity_bytes. keys/items list
 * entries in the order they were last set. */
typedef struct polyipc_dict polyipc_dict;
typedef struct polyipc_dict_options {
  uint32_t struct_size;    /* sizeof(polyipc_dict_options), set by _init() */
  uint32_t mode;           /* permission bits of the object, default 0600 */
  uint64_t capacity_bytes; /* room for keys and values, default 1 MiB (the object maps twice that) */
  uint64_t max_items;      /* default 4096 */
  uint32_t ephemeral;      /* 1: unlinked when the last attached process detaches or dies */
  uint32_t reserved;
} polyipc_dict_options;
POLYIPC_API void polyipc_dict_options_init(polyipc_dict_options *opts);
/* opening an existing dict ignores capacity_bytes and max_items */
POLYIPC_API int polyipc_dict_open(const char *name, polyipc_open_mode mode, const polyipc_dict_options *opts /* nullable */,
                                  polyipc_dict **out, polyipc_error *err);
POLYIPC_API int polyipc_dict_set(polyipc_dict *d, const char *key, const char *json, polyipc_error *err);
/* *json: a library-allocated copy, NUL-terminated (release with polyipc_free), *len (nullable) its bytes.
 * A missing key: *found = 0 and *json = NULL; with found == NULL it is NOT_FOUND. */
POLYIPC_API int polyipc_dict_get(polyipc_dict *d, const char *key, char **json, size_t *len, int *found,
                                 polyipc_error *err);
/* *deleted (nullable) = 1 when the key was there */
POLYIPC_API int polyipc_dict_delete(polyipc_dict *d, const char *key, int *deleted, polyipc_error *err);
/* sets key to desired only if its value equals expected as JSON (1 == 1.0; whitespace aside);
 * expected NULL: only if the key is absent; desired NULL: deletes it. *swapped = 1 when expected matched:
 * the key now holds desired (or is absent, for desired NULL, even if it was absent before). */
POLYIPC_API int polyipc_dict_compare_and_set(polyipc_dict *d, const char *key, const char *expected /* nullable */,
                                             const char *desired /* nullable */, int *swapped, polyipc_error *err);
POLYIPC_API int polyipc_dict_len(polyipc_dict *d, uint64_t *len, polyipc_error *err);
/* a JSON array of the keys / a JSON object of every entry, each one snapshot (release with polyipc_free) */
POLYIPC_API int polyipc_dict_keys(polyipc_dict *d, char **json, polyipc_error *err);
POLYIPC_API int polyipc_dict_items(polyipc_dict *d, char **json, polyipc_error *err);
POLYIPC_API int polyipc_dict_clear(polyipc_dict *d, polyipc_error *err);
/* Watching for changes (0.6.0). *version: +1 per change (a set, a delete that
 * found its key, a clear, a swap), 0 for a new dict. wait_change returns OK
 * once the version differs from seen_version (*version, nullable: the one
 * seen), or TIMEOUT: read the version, read what you need, then wait with
 * that version, and no change between the two is missed. Changes made by a
 * 0.5 process, or by one killed before its wake-up, are seen within 100 ms. */
POLYIPC_API int polyipc_dict_version(polyipc_dict *d, uint64_t *version, polyipc_error *err);
POLYIPC_API int polyipc_dict_wait_change(polyipc_dict *d, uint64_t seen_version, int64_t timeout_ns, uint64_t *version,
                                         polyipc_error *err);
POLYIPC_API int polyipc_dict_stat_json(polyipc_dict *d, char **json, polyipc_error *err);
POLYIPC_API void polyipc_dict_close(polyipc_dict *d);

/* ---- list: a sequence of JSON values (the Manager's list, without a manager)
 * Built and made crash-safe as the dict is. Indexes count from the end when
 * negative (-1: the last); outside [-len, len) they are OUT_OF_RANGE. append, set, and insert or pop at either end are O(1); insert or
 * pop in the middle copy the list. FULL: max_items values, or no room left
 * in capacity_bytes. (polyipc_list_json, below, lists the namespace's
 * objects: it is not of this family.) */
typedef struct polyipc_list polyipc_list;
typedef struct polyipc_list_options {
  uint32_t struct_size;    /* sizeof(polyipc_list_options), set by _init() */
  uint32_t mode;           /* permission bits of the object, default 0600 */
  uint64_t capacity_bytes; /* room for values, default 1 MiB (the object maps twice that) */
  uint64_t max_items;      /* default 4096 */
  uint32_t ephemeral;      /* 1: unlinked when the last attached process detaches or dies */
  uint32_t reserved;
} polyipc_list_options;
POLYIPC_API void polyipc_list_options_init(polyipc_list_options *opts);
/* opening an existing list ignores capacity_bytes and max_items */
POLYIPC_API int polyipc_list_open(const char *name, polyipc_open_mode mode, const polyipc_list_options *opts /* nullable */,
                                  polyipc_list **out, polyipc_error *err);
POLYIPC_API int polyipc_list_append(polyipc_list *l, const char *json, polyipc_error *err);
/* before element index; index >= len appends, index <= -len prepends (as Python's list.insert) */
POLYIPC_API int polyipc_list_insert(polyipc_list *l, int64_t index, const char *json, polyipc_error *err);
/* *json: a library-allocated copy, NUL-terminated (release with polyipc_free); *len (nullable) its bytes */
POLYIPC_API int polyipc_list_get(polyipc_list *l, int64_t index, char **json, size_t *len, polyipc_error *err);
POLYIPC_API int polyipc_list_set(polyipc_list *l, int64_t index, const char *json, polyipc_error *err);
/* removes element index (-1: the last) and returns it as _get does; EMPTY on an empty list */
POLYIPC_API int polyipc_list_pop(polyipc_list *l, int64_t index, char **json, size_t *len, polyipc_error *err);
POLYIPC_API int polyipc_list_len(polyipc_list *l, uint64_t *len, polyipc_error *err);
/* every value as one JSON array, one snapshot (release with polyipc_free) */
POLYIPC_API int polyipc_list_items(polyipc_list *l, char **json, polyipc_error *err);
POLYIPC_API int polyipc_list_clear(polyipc_list *l, polyipc_error *err);
/* as polyipc_dict_version / _wait_change: every append, insert, set, pop and clear is a change */
POLYIPC_API int polyipc_list_version(polyipc_list *l, uint64_t *version, polyipc_error *err);
POLYIPC_API int polyipc_list_wait_change(polyipc_list *l, uint64_t seen_version, int64_t timeout_ns, uint64_t *version,
                                         polyipc_error *err);
POLYIPC_API int polyipc_list_stat_json(polyipc_list *l, char **json, polyipc_error *err);
POLYIPC_API void polyipc_list_close(polyipc_list *l);

/* ---- worker pools: tasks by function name, results to their submitter ------
 * Python's Pool.apply_async across processes and languages. A submitter names
 * a function and passes JSON arguments; a worker process, in any language,
 * takes the task, runs what it registered under that name, and finishes it
 * with a JSON result or an error text, which goes back to the submitting
 * handle alone. The pool is a joinable task queue (kind "pool"): a worker
 * that dies or gives a task back has it handed to another worker, so a task
 * runs at least once, and a handle returns each task's result once. Any
 * handle can submit and work. Results wait in a queue of each submitting
 * handle, "<pool>.results.<pid>.<n>", removed with the handle. */
typedef struct polyipc_pool polyipc_pool;
typedef struct polyipc_pool_task polyipc_pool_task;

typedef struct polyipc_pool_options {
  uint32_t struct_size;           /* sizeof(polyipc_pool_options), set by _init() */
  uint32_t mode;                  /* permission bits of the pool and result queues, default 0600 */
  uint64_t capacity_bytes;        /* the task queue; default 1 MiB */
  uint64_t max_tasks;             /* 0 = bounded by capacity_bytes only */
  uint64_t result_capacity_bytes; /* each submitting handle's result queue; default 1 MiB */
} polyipc_pool_options;

POLYIPC_API void polyipc_pool_options_init(polyipc_pool_options *opts);
/* Pool names have at most 160 characters (result queue names extend them).
 * opts NULL: the defaults. */
POLYIPC_API int polyipc_pool_open(const char *name, polyipc_open_mode mode, const polyipc_pool_options *opts,
                                  polyipc_pool **out, polyipc_error *err);
/* Submits function(args), args being JSON; *task_id names the task for
 * polyipc_pool_result. Waits up to timeout_ns for room in the pool. */
POLYIPC_API int polyipc_pool_submit(polyipc_pool *p, const char *function, const void *args, size_t len,
                                    int64_t timeout_ns, uint64_t *task_id, polyipc_error *err);
/* Submits function(args[i]) (lens[i] bytes of JSON) for each i < count, as
 * tasks *first_id + i, `chunk` of them to a pool message: a worker takes a
 * message's tasks one after another (Python's Pool.map chunksize; 1: plain
 * tasks). Workers see plain tasks and results come one per task, as after
 * polyipc_pool_submit. Every args[i] is checked before anything is put.
 * *submitted counts the tasks put: after a failure (FULL or TIMEOUT when
 * timeout_ns ran out, TOO_LARGE for a message the pool can never hold) the
 * earlier messages stay submitted. A task of a chunk cannot be cancelled on
 * its own (polyipc_pool_cancel answers *cancelled = 0). Workers need 0.7.0
 * or later: older ones drop a chunk as not a pool task. Each call checks all
 * the arguments it is given, so a caller that retries the rest after FULL
 * should pass a few thousand tasks per call, not all of a large batch (a
 * Go loop doing the latter ran 50x slower). Since 0.7.0. */
POLYIPC_API int polyipc_pool_submit_many(polyipc_pool *p, const char *function, const void *const *args,
                                         const size_t *lens, size_t count, size_t chunk, int64_t timeout_ns,
                                         uint64_t *first_id, size_t *submitted, polyipc_error *err);
/* polyipc_pool_submit_many of the elements of one JSON array (len bytes):
 * element i is the arguments of task *first_id + i. For a caller that has
 * all arguments in one text (a binding's map) and wants the results the
 * same way (polyipc_pool_results): these tasks' results are returned by id
 * only, never to polyipc_pool_result(p, 0, ...). INVALID_JSON when args is
 * not a JSON array. Since 0.8.0. */
POLYIPC_API int polyipc_pool_submit_array(polyipc_pool *p, const char *function, const void *args, size_t len,
                                          size_t chunk, int64_t timeout_ns, uint64_t *first_id, size_t *submitted,
                                          polyipc_error *err);
/* Waits for the result of task_id (0: of any task of this handle that no
 * other thread is waiting for by id), a JSON
 * object in *json (release with polyipc_free), *len bytes, NUL-terminated:
 *   {"id":7,"ok":true,"result":<the JSON the worker returned>}
 *   {"id":7,"ok":false,"error":"<the worker's error text>"}
 *   {"id":7,"ok":false,"cancelled":true,"error":"cancelled"}  (polyipc_pool_cancel)
 * TIMEOUT when none came in time (the task goes on: ask again); INVALID_ARG
 * for an id of no task of this handle whose result is still to come (with 0:
 * none left that no other thread waits for by id). */
POLYIPC_API int polyipc_pool_result(polyipc_pool *p, uint64_t task_id, int64_t timeout_ns, char **json, size_t *len,
                                    polyipc_error *err);
/* Waits for the results of tasks first_id .. first_id+count-1 and returns
 * them together, in two JSON texts (release each with polyipc_free):
 * *values, an array of each task's result in id order, null for a task
 * that failed; *failures, an object mapping the index in that array of
 * each failed task to its result message (as above), "{}" when none did:
 *   [1,null,9]   {"1":{"id":8,"ok":false,"error":"ValueError: x"}}
 * TIMEOUT when not all came
 * in time: none is taken, ask again. INVALID_ARG as for polyipc_pool_result,
 * for any id of the range. Since 0.8.0. */
POLYIPC_API int polyipc_pool_results(polyipc_pool *p, uint64_t first_id, size_t count, int64_t timeout_ns,
                                     char **values, size_t *values_len, char **failures, size_t *failures_len,
                                     polyipc_error *err);
/* Takes task_id back out of the pool if no worker has taken it yet: then
 * *cancelled = 1, the task never runs, join() does not wait for it, and its
 * result is the cancelled one above. *cancelled = 0: a worker has it (or had
 * it and died: it is redelivered, not cancelled) and its result comes as
 * usual. INVALID_ARG as for polyipc_pool_result. (java.util.concurrent's
 * Future.cancel(false).) */
POLYIPC_API int polyipc_pool_cancel(polyipc_pool *p, uint64_t task_id, int *cancelled, polyipc_error *err);
/* Worker: takes the next task. EMPTY (timeout 0) or TIMEOUT when there was
 * none, CLOSED once polyipc_pool_close_tasks was called and all were taken.
 * The task refers to p: free it before closing p. */
POLYIPC_API int polyipc_pool_take(polyipc_pool *p, int64_t timeout_ns, polyipc_pool_task **task, polyipc_error *err);
POLYIPC_API uint64_t polyipc_pool_task_id(const polyipc_pool_task *t);       /* 0 for NULL */
POLYIPC_API const char *polyipc_pool_task_function(const polyipc_pool_task *t); /* NULL for NULL */
/* the arguments as sent: JSON, NUL-terminated, *len bytes (len may be NULL) */
POLYIPC_API const char *polyipc_pool_task_args(const polyipc_pool_task *t, size_t *len);
/* Sends the result and ends the task: failed 0, data is the JSON result;
 * failed 1, data is an error text (UTF-8; invalid bytes become U+FFFD).
 * INVALID_JSON for a result that is not JSON leaves the task unfinished:
 * finish it again. A submitter that is gone drops the result; a result too
 * large for its result queue reaches the submitter as an error instead.
 * Waits while the submitter's result queue is full. */
POLYIPC_API int polyipc_pool_finish(polyipc_pool_task *t, int failed, const void *data, size_t len,
                                    polyipc_error *err);
/* Frees a task. One not finished goes back to the pool for another worker. */
POLYIPC_API void polyipc_pool_task_free(polyipc_pool_task *t);
/* Worker, in bulk: takes tasks to run together, so that a binding crosses
 * into the library once per batch instead of twice per task. A batch is up
 * to max_tasks (0: no limit) tasks of a chunk (polyipc_pool_submit_many)
 * that this handle holds or takes next, or one plain task: tasks
 * first_id .. first_id+count-1 of one function, whose arguments come as one
 * JSON array. Statuses as polyipc_pool_take. The batch refers to p: free it
 * before closing p. Since 0.8.0. */
typedef struct polyipc_pool_batch polyipc_pool_batch;
POLYIPC_API int polyipc_pool_take_batch(polyipc_pool *p, size_t max_tasks, int64_t timeout_ns,
                                        polyipc_pool_batch **batch, polyipc_error *err);
POLYIPC_API uint64_t polyipc_pool_batch_first_id(const polyipc_pool_batch *b);    /* 0 for NULL */
POLYIPC_API size_t polyipc_pool_batch_count(const polyipc_pool_batch *b);         /* 0 for NULL */
POLYIPC_API size_t polyipc_pool_batch_finished(const polyipc_pool_batch *b);      /* 0 for NULL */
POLYIPC_API const char *polyipc_pool_batch_function(const polyipc_pool_batch *b); /* NULL for NULL */
/* "[<args of the first task>,<args of the next>,...]": each as sent,
 * NUL-terminated, *len bytes (len may be NULL) */
POLYIPC_API const char *polyipc_pool_batch_args(const polyipc_pool_batch *b, size_t *len);
/* The arguments of task first_id + index alone, as sent: *len bytes of the
 * text above (not NUL-terminated); NULL for an index past count, or NULL b */
POLYIPC_API const char *polyipc_pool_batch_task_args(const polyipc_pool_batch *b, size_t index, size_t *len);
/* Finishes the batch's next tasks in order, one per element of `results`,
 * a JSON array of 1 to (count - finished) elements: a task's result is its
 * element, unless `errors` (a JSON object such as {"2":"ValueError: bad"};
 * NULL or errors_len 0: none) maps the element's index to an error text,
 * which fails that task instead (its element is ignored; null will do).
 * Results are sent as polyipc_pool_finish sends them. INVALID_JSON or
 * INVALID_ARG finish none of them. */
POLYIPC_API int polyipc_pool_batch_finish(polyipc_pool_batch *b, const void *results, size_t len, const void *errors,
                                          size_t errors_len, polyipc_error *err);
/* Frees a batch. Its unfinished tasks go back to the pool, as a task's do. */
POLYIPC_API void polyipc_pool_batch_free(polyipc_pool_batch *b);
/* A worker loop that stops taking calls this: the tasks of chunks (see
 * polyipc_pool_submit_many) that this handle took but has not handed out yet
 * go back to the pool, each chunk whole once its tasks out are finished or
 * freed. Otherwise they wait for the handle's next take, or its close, which
 * does the same. Since 0.7.0. */
POLYIPC_API int polyipc_pool_give_back_held(polyipc_pool *p, polyipc_error *err);
/* No more tasks (Pool.close()): workers drain the pool, then take gets CLOSED. */
POLYIPC_API int polyipc_pool_close_tasks(polyipc_pool *p, polyipc_error *err);
/* Waits until every task submitted by anyone has been finished (Pool.join()). */
POLYIPC_API int polyipc_pool_join(polyipc_pool *p, int64_t timeout_ns, polyipc_error *err);
/* the task queue's stat (kind "pool") and this handle's results_pending (release with polyipc_free) */
POLYIPC_API int polyipc_pool_stat_json(polyipc_pool *p, char **json, polyipc_error *err);
POLYIPC_API void polyipc_pool_close(polyipc_pool *p); /* NULL is fine */

/* ---- names ---------------------------------------------------------------- */
/* remove a name; attached handles keep working */
POLYIPC_API int polyipc_unlink(const char *name, polyipc_error *err);
/* every object of the namespace as a JSON array of stat objects (release with polyipc_free); these and
 * polyipc_stat_json's carry "shm_bytes": the /dev/shm memory the object's pages take */
POLYIPC_API int polyipc_list_json(char **json, polyipc_error *err);
/* one object, by name, without attaching to it (release with polyipc_free) */
POLYIPC_API int polyipc_stat_json(const char *name, char **json, polyipc_error *err);
/* Reads at most max_count messages of queue `name` (of a pool: its waiting tasks) without taking them, as a JSON
 * array of {"message": ..., "priority": n} (bytes messages as base64 under "base64"). */
POLYIPC_API int polyipc_peek_json(const char *name, size_t max_count, char **json, polyipc_error *err);
/* removes ephemeral objects whose attached processes are all dead, and the
 * files of objects whose creator died before finishing them; returns
 * {"removed": [...], "stale": [...], "abandoned": [files]} (release with polyipc_free) */
POLYIPC_API int polyipc_gc_json(char **json, polyipc_error *err);

#ifdef __cplusplus
}
#endif

#endif /* POLYIPC_H */
