/*
 * csharp.i: the C# part of the shared interface (included by polyipc.i), for
 * `swig -csharp -namespace Polyipc.Native -dllimport polyipc_cs`.
 *
 * Everything SWIG generates is internal to Polyipc.dll: the public API is the
 * hand-written Queue, Names, Library and exceptions in bindings/csharp/src.
 * This file supplies:
 *   - the argout typemap for `polyipc_error *err`: a failing call leaves a
 *     pending Polyipc.PolyipcException subclass (made by
 *     PolyipcException.FromNative(code, message) through a callback the
 *     PINVOKE class registers), which the proxy throws after the call;
 *   - byte[] in for (const void *data, size_t len): the array is pinned with
 *     `fixed` for the call (no copy) and passed as a {pointer, length} struct;
 *   - byte[] out for polyipc_bytes: the {pointer, length} struct comes back by
 *     value and the proxy copies it into a byte[], then polyipc_free()s it;
 *   - polyipc_cs_queue_put_utf16 / polyipc_cs_queue_get_into: Queue's hot path
 *     (own DllImports, status returned, UTF-8 <-> UTF-16 done in the glue);
 *   - polyipc_cs_queue_reserve / _borrow / _end_zero_copy: Queue's zero-copy
 *     Reserve and Borrow (own DllImports in the same way);
 *   - put_buffer / get_into (%extend below) on caller-pinned buffers (no
 *     longer used by Queue), which reuses one buffer per thread (no library copy, no
 *     second call to free it, no byte[] per string put or taken); the same
 *     for pipes (send_buffer / recv_into), and compare-exchange returning the
 *     value found (Interlocked.CompareExchange's shape) for Value/Array;
 *   - the glue's own library name is given on the command line (-dllimport
 *     polyipc_cs), so mono never looks for the wrappers in libpolyipc.so.
 */

%begin %{
/* RTLD_DEFAULT (dlfcn.h), before any system header */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
%}

%{
#include <dlfcn.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* A byte range handed in from C#: a pinned byte[] and its length. */
typedef struct polyipc_cs_span {
  const void *data;
  int64_t len; /* a C# long: no UIntPtr conversion in the proxy */
} polyipc_cs_span;

/* Polyipc.Native.polyipc_nativePINVOKE registers this when it loads: it turns
 * (status, UTF-8 message) into the pending PolyipcException subclass. */
typedef void(SWIGSTDCALL *polyipc_cs_error_callback)(int code, const char *message, int length);
static polyipc_cs_error_callback polyipc_cs_error_cb = NULL;

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT void SWIGSTDCALL polyipc_cs_register_error_callback(polyipc_cs_error_callback cb) {
  polyipc_cs_error_cb = cb;
}

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT void SWIGSTDCALL polyipc_cs_free(void *p) {
  polyipc_free(p);
}

/* The name must start with SWIG_CSharpSetPendingException: SWIG then makes
 * the proxy check for (and throw) the pending exception after the call. The
 * message goes up with its length: it is UTF-8, maybe cut mid-character at
 * 255 bytes, and C# decodes it itself. */
static void SWIG_CSharpSetPendingExceptionPolyipc(const polyipc_error *err) {
  size_t n = 0;
  while (n < sizeof err->message && err->message[n]) ++n;
  if (polyipc_cs_error_cb) {
    polyipc_cs_error_cb(err->code, err->message, (int)n);
  } else {
    SWIG_CSharpSetPendingException(SWIG_CSharpApplicationException, err->message[0] ? err->message : "polyipc error");
  }
}

/* The hot path of Polyipc.Queue, called through its own DllImports (plain
 * pointers and integers, no SWIG proxy): the status comes back as the return
 * value. A real error leaves the pending exception as every wrapper does; with
 * `quiet` set, TIMEOUT/EMPTY/FULL (a wait slice running out, or a Try* call
 * finding nothing) only return their status, so no exception object is made
 * and thrown for the ordinary "nothing yet" outcome. */
static int polyipc_cs_status(int rc, const polyipc_error *err, int quiet) {
  if (rc == POLYIPC_OK) return rc;
  if (quiet && (rc == POLYIPC_ERR_TIMEOUT || rc == POLYIPC_ERR_EMPTY || rc == POLYIPC_ERR_FULL)) return rc;
  if (err->code != 0) {
    SWIG_CSharpSetPendingExceptionPolyipc(err);
  } else {
    polyipc_error e;
    e.code = rc;
    e.message[0] = 0;
    SWIG_CSharpSetPendingExceptionPolyipc(&e);
  }
  return rc;
}

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_queue_put(polyipc_queue *q, const void *buf, int64_t len, int64_t priority,
                                                int64_t timeout_ns, int quiet) {
  polyipc_error err;
  int rc;
  err.code = 0;
  err.message[0] = 0;
  rc = polyipc_queue_put_priority(q, buf ? buf : (const void *)"", (size_t)len, priority, timeout_ns, &err);
  return polyipc_cs_status(rc, &err, quiet);
}

/* ASCII <-> UTF-16, 16 characters a step (SSE2 where there is SSE2: every
 * x86-64): the whole of text[0..n) narrowed into out, or out[0..n) widened
 * from bytes, up to the first non-ASCII unit; the number done. */
static int64_t polyipc_cs_narrow_ascii(const uint16_t *text, int64_t n, uint8_t *out) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i high = _mm_set1_epi16((short)0xFF80);
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(text + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(text + i + 8));
    __m128i h = _mm_and_si128(_mm_or_si128(a, b), high);
    if (_mm_movemask_epi8(_mm_cmpeq_epi16(h, _mm_setzero_si128())) != 0xFFFF) break;
    _mm_storeu_si128((__m128i *)(out + i), _mm_packus_epi16(a, b));
  }
#endif
  for (; i < n && text[i] < 0x80; ++i) out[i] = (uint8_t)text[i];
  return i;
}

static int64_t polyipc_cs_widen_ascii(const uint8_t *bytes, int64_t n, uint16_t *out) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(bytes + i));
    if (_mm_movemask_epi8(v) != 0) break;
    _mm_storeu_si128((__m128i *)(out + i), _mm_unpacklo_epi8(v, zero));
    _mm_storeu_si128((__m128i *)(out + i + 8), _mm_unpackhi_epi8(v, zero));
  }
#endif
  for (; i < n && bytes[i] < 0x80; ++i) out[i] = bytes[i];
  return i;
}

/* Put of a C# string: its UTF-16 code units (n of them, pinned in place) are
 * encoded as UTF-8 into scratch (at least 3n bytes: the caller's reused
 * buffer) in the same call; mono's UTF8Encoding costs as much as the put.
 * -2 (nothing put) for a lone surrogate: the caller encodes with
 * UTF8Encoding, which reports it. */
/* text[0..n) (UTF-16 code units) as UTF-8 into out (at least 3n bytes): the
 * number of bytes, or -1 for a lone surrogate (nothing to put: the caller
 * encodes with UTF8Encoding, which reports it). */
static int64_t polyipc_cs_encode_utf16(const uint16_t *text, int64_t n, uint8_t *out) {
  uint8_t *o = out;
  int64_t i = polyipc_cs_narrow_ascii(text, n, out);
  o += i;
  for (;;) {
    for (; i < n && text[i] < 0x80; ++i) *o++ = (uint8_t)text[i];
    if (i == n) break;
    {
      uint32_t c = text[i++];
      if (c < 0x800) {
        *o++ = (uint8_t)(0xC0 | (c >> 6));
        *o++ = (uint8_t)(0x80 | (c & 0x3F));
      } else if (c < 0xD800 || c > 0xDFFF) {
        *o++ = (uint8_t)(0xE0 | (c >> 12));
        *o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (uint8_t)(0x80 | (c & 0x3F));
      } else if (c <= 0xDBFF && i < n && text[i] >= 0xDC00 && text[i] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (uint32_t)(text[i++] - 0xDC00);
        *o++ = (uint8_t)(0xF0 | (c >> 18));
        *o++ = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (uint8_t)(0x80 | (c & 0x3F));
      } else {
        return -1;
      }
    }
  }
  return (int64_t)(o - out);
}

/* Put of a C# string: its UTF-16 code units (n of them, pinned in place) are
 * encoded as UTF-8 into scratch (at least 3n bytes: the caller's reused
 * buffer) in the same call; mono's UTF8Encoding costs as much as the put.
 * -2 (nothing put) for a lone surrogate: the caller encodes with
 * UTF8Encoding, which reports it. */
#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_queue_put_utf16(polyipc_queue *q, const uint16_t *text, int64_t n,
                                                      uint8_t *scratch, int64_t priority, int64_t timeout_ns,
                                                      int quiet) {
  polyipc_error err;
  int rc;
  int64_t len = polyipc_cs_encode_utf16(text, n, scratch);
  if (len < 0) return -2;
  err.code = 0;
  err.message[0] = 0;
  rc = polyipc_queue_put_priority(q, scratch, (size_t)len, priority, timeout_ns, &err);
  return polyipc_cs_status(rc, &err, quiet);
}

/* The next message into buf: OK with its length in *len; -1 with its length in
 * *len when buf is too small (the message stays in the queue and no error is
 * raised: the caller grows its buffer and calls again); else as above. With
 * chars (a C# char[] of at least cap elements), an all-ASCII message is also
 * widened into it, in the same call, and -2 is returned instead of OK: the
 * caller makes its string from the chars without decoding. */
#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_queue_get_into(polyipc_queue *q, void *buf, int64_t cap, uint16_t *chars,
                                                     int64_t timeout_ns, int quiet, int64_t *len) {
  polyipc_error err;
  size_t n = 0;
  size_t c = buf ? (size_t)cap : 0;
  int rc;
  err.code = 0;
  err.message[0] = 0;
  rc = polyipc_queue_get_into(q, buf, c, &n, timeout_ns, &err);
  *len = (int64_t)n;
  if (rc == POLYIPC_ERR_TOO_LARGE && n > c) return -1;
  if (rc == POLYIPC_OK && chars && polyipc_cs_widen_ascii((const uint8_t *)buf, (int64_t)n, chars) == (int64_t)n) {
    return -2;
  }
  return polyipc_cs_status(rc, &err, quiet);
}

/* Zero copy (Polyipc.Queue.Reserve / Borrow and their guards), through own
 * DllImports as the hot path above: the status comes back, a pending
 * exception only for real errors (quiet: TIMEOUT/EMPTY/FULL of a slice or a
 * Try* call just return their status). Outputs are written only on OK. */
#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_queue_reserve(polyipc_queue *q, int64_t len, void **data, uint64_t *ticket,
                                                    int64_t timeout_ns, int quiet) {
  polyipc_error err;
  int rc;
  err.code = 0;
  err.message[0] = 0;
  if (len < 0) len = 0; /* the caller checks: never a huge size_t */
  rc = polyipc_queue_reserve(q, (size_t)len, data, ticket, timeout_ns, &err);
  return polyipc_cs_status(rc, &err, quiet);
}

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_queue_borrow(polyipc_queue *q, const void **data, int64_t *len,
                                                   uint64_t *ticket, int64_t timeout_ns, int quiet) {
  polyipc_error err;
  size_t n = 0;
  int rc;
  err.code = 0;
  err.message[0] = 0;
  rc = polyipc_queue_borrow(q, data, &n, ticket, timeout_ns, &err);
  if (rc == POLYIPC_OK) *len = (int64_t)n;
  return polyipc_cs_status(rc, &err, quiet);
}

/* Ends a reservation (how 0: commit, 1: cancel) or a borrowed message (2:
 * release). With raise 0 nothing is left pending (a guard's Dispose ignores
 * the outcome). A commit that fails for another reason than the bytes
 * (INVALID_JSON: dropped already) or the ticket (INVALID_ARG: not held) is
 * followed by a cancel, so the reservation ends whatever happened: the C#
 * guard is over after one call and never holds ring space it cannot end. */
#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_queue_end_zero_copy(polyipc_queue *q, uint64_t ticket, int how, int raise) {
  polyipc_error err;
  int rc;
  err.code = 0;
  err.message[0] = 0;
  if (how == 0) {
    rc = polyipc_queue_commit(q, ticket, &err);
    if (rc != POLYIPC_OK && rc != POLYIPC_ERR_INVALID_JSON && rc != POLYIPC_ERR_INVALID_ARG) {
      polyipc_queue_cancel(q, ticket, NULL);
    }
  } else if (how == 1) {
    rc = polyipc_queue_cancel(q, ticket, &err);
  } else {
    rc = polyipc_queue_release(q, ticket, &err);
  }
  if (rc == POLYIPC_OK || !raise) return rc;
  return polyipc_cs_status(rc, &err, 0);
}

/* ---- the no-wait fast path: mono internal calls without a GC transition ----
 *
 * Under mono's default (hybrid) thread suspension every P/Invoke enters and
 * leaves a "GC safe" region: two state-machine transitions and a copy of the
 * managed stack, about as much as the put or get itself. Polyipc.Queue first
 * tries Put(string) and Take() without waiting through the functions below,
 * registered as raw internal calls of Polyipc.Native.QueueFastCalls (no
 * transition: they run as managed code does, and a collection stops the
 * thread with a signal, as mono's preemptive suspension always did). They
 * therefore never wait (timeout 0: at most the queue lock, held for
 * microseconds), never call back into managed code (no pending exception, no
 * error message: err is NULL) and only return the status. Anything but OK
 * (no room or no message yet, a buffer too small, a lone surrogate, a real
 * error) sends the caller to the P/Invoke path above, which waits in slices
 * and raises errors with their messages; a failed call changed nothing, so
 * doing it again there is the same call a moment later. */
static int polyipc_cs_fast_queue_put_utf16(polyipc_queue *q, const uint16_t *text, int64_t n, uint8_t *scratch,
                                           int64_t priority) {
  int64_t len = polyipc_cs_encode_utf16(text, n, scratch);
  if (len < 0) return -2;
  return polyipc_queue_put_priority(q, scratch, (size_t)len, priority, 0, NULL);
}

/* The next message into buf (cap bytes) without waiting: OK with its length
 * in *len, -1 when it is larger than buf (left in the queue), else the status. */
static int polyipc_cs_fast_queue_get_into(polyipc_queue *q, void *buf, int64_t cap, int64_t *len) {
  size_t n = 0;
  int rc = polyipc_queue_get_into(q, buf, (size_t)cap, &n, 0, NULL);
  if (rc != POLYIPC_OK) return rc == POLYIPC_ERR_TOO_LARGE ? -1 : rc;
  *len = (int64_t)n;
  return POLYIPC_OK;
}

/* bytes[0..n) widened into chars (a fresh C# string's n chars) up to the first
 * non-ASCII byte: the number done (n: the string is the message). */
static int64_t polyipc_cs_fast_widen_ascii(const uint8_t *bytes, int64_t n, uint16_t *chars) {
  return polyipc_cs_widen_ascii(bytes, n, chars);
}

/* Registers the two functions above with mono (found in the running process:
 * the mono executable or libmonosgen exports mono_dangerous_add_raw_internal_call),
 * before any method that calls them is compiled. 1 if registered; 0 (not
 * mono, or a mono without it): the caller keeps to the P/Invoke path. The
 * names must match bindings/csharp/src/QueueFastCalls.cs. */
typedef void (*polyipc_cs_add_icall_fn)(const char *name, const void *method);

#ifdef __cplusplus
extern "C"
#endif
SWIGEXPORT int SWIGSTDCALL polyipc_cs_register_fast_calls(void) {
  polyipc_cs_add_icall_fn add;
  if (getenv("POLYIPC_CS_NO_FAST_CALLS")) return 0;
  *(void **)(&add) = dlsym(RTLD_DEFAULT, "mono_dangerous_add_raw_internal_call");
  if (!add) return 0;
  add("Polyipc.Native.QueueFastCalls::QueuePutUtf16", (const void *)polyipc_cs_fast_queue_put_utf16);
  add("Polyipc.Native.QueueFastCalls::QueueGetInto", (const void *)polyipc_cs_fast_queue_get_into);
  add("Polyipc.Native.QueueFastCalls::WidenAscii", (const void *)polyipc_cs_fast_widen_ascii);
  return 1;
}
%}

/* ---- errors ------------------------------------------------------------------ */
/* No early return: freearg and newfree still run; the proxy throws afterwards. */
%typemap(argout, canthrow=1) polyipc_error *err %{
  if ($1->code != 0) SWIG_CSharpSetPendingExceptionPolyipc($1);
%}

/* ---- bytes in: (const void *data, size_t len) <- byte[] ------------------------ */
/* Pinned in place for the call (`fixed`), never copied. An empty array pins
 * as NULL: it becomes a valid zero-length pointer here. */
%typemap(ctype) (const void *data, size_t len) "polyipc_cs_span"
%typemap(imtype) (const void *data, size_t len) "polyipc_nativePINVOKE.Span"
%typemap(cstype) (const void *data, size_t len) "byte[]"
%typemap(csin,
         pre="    if ($csinput == null) throw new global::System.ArgumentNullException(\"$csinput\");\n"
             "    fixed (byte* swig_ptrTo_$csinput = $csinput) {",
         terminator="    }")
  (const void *data, size_t len) "new polyipc_nativePINVOKE.Span((global::System.IntPtr)swig_ptrTo_$csinput, $csinput.Length)"
%typemap(in) (const void *data, size_t len) %{
  $1 = ($1_ltype)($input.data ? $input.data : (const void *)"");
  $2 = (size_t)$input.len;
%}
%csmethodmodifiers NativeQueue::put "public unsafe";

/* ---- bytes out: polyipc_bytes -> byte[] ------------------------------------------ */
/* The struct comes back by value; the proxy copies it into a byte[] and hands
 * the library's buffer back with polyipc_free (also when the copy fails). A
 * failed get leaves it {NULL, 0}: nothing to free, and the pending exception
 * is thrown first. */
%typemap(ctype) polyipc_bytes "polyipc_bytes"
%typemap(imtype) polyipc_bytes "polyipc_nativePINVOKE.Bytes"
%typemap(cstype) polyipc_bytes "byte[]"
%typemap(out) polyipc_bytes %{ $result = $1; %}
%typemap(csout, excode=SWIGEXCODE) polyipc_bytes {
    polyipc_nativePINVOKE.Bytes ret = $imcall;$excode
    return polyipc_nativePINVOKE.TakeBytes(ret);
  }
%ignore polyipc_bytes;

/* ---- caller-owned buffers: put_buffer / get_into ---------------------------------- */
/* The hand-written Queue pins a reused byte[] itself (`fixed`) and passes the
 * {pointer, length} struct straight through: no copy, no library allocation,
 * no second call to free. */
%typemap(ctype) (const void *buf, size_t buf_len), (void *buf, size_t cap) "polyipc_cs_span"
%typemap(imtype) (const void *buf, size_t buf_len), (void *buf, size_t cap) "polyipc_nativePINVOKE.Span"
%typemap(cstype) (const void *buf, size_t buf_len), (void *buf, size_t cap) "polyipc_nativePINVOKE.Span"
%typemap(csin) (const void *buf, size_t buf_len), (void *buf, size_t cap) "$csinput"
%typemap(in) (const void *buf, size_t buf_len) %{
  $1 = ($1_ltype)($input.data ? $input.data : (const void *)"");
  $2 = (size_t)$input.len;
%}
%typemap(in) (void *buf, size_t cap) %{
  $1 = ($1_ltype)$input.data;
  $2 = $1 ? (size_t)$input.len : 0;
%}

%extend NativeQueue {
  /* put of buf_len bytes at buf (a pinned, reused C# buffer). */
  void put_buffer(const void *buf, size_t buf_len, int64_t priority, int64_t timeout_ns, polyipc_error *err) {
    polyipc_queue_put_priority($self, buf, buf_len, priority, timeout_ns, err);
  }
  /* Copies the next message into buf: its length (>= 0), or -(its length)
   * when buf is too small (the message stays in the queue and no error is
   * raised: the caller grows its buffer and calls again). */
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

/* ---- pipes: the same caller-pinned buffers as the queue's --------------------------- */
%csmethodmodifiers NativePipe::send "public unsafe";
%csmethodmodifiers NativePool::submit "public unsafe";
%csmethodmodifiers NativeQueue::task_done_message "public unsafe";
%csmethodmodifiers NativePoolTask::finish "public unsafe";
%csmethodmodifiers NativePoolBatch::finish "public unsafe";
%csmethodmodifiers NativePool::submit_array "public unsafe";
%csmethodmodifiers NativeDict::set "public unsafe";
%csmethodmodifiers NativeDict::get "public unsafe";
%csmethodmodifiers NativeDict::remove "public unsafe";
%csmethodmodifiers NativeDict::compare_and_set "public unsafe";
%csmethodmodifiers NativeList::append "public unsafe";
%csmethodmodifiers NativeList::insert "public unsafe";
%csmethodmodifiers NativeList::set "public unsafe";
%extend NativePipe {
  /* send of buf_len bytes at buf (a pinned byte[] or Span). */
  void send_buffer(const void *buf, size_t buf_len, int64_t timeout_ns, polyipc_error *err) {
    polyipc_pipe_send($self, buf, buf_len, timeout_ns, err);
  }
  /* As NativeQueue::get_into: the message's length, or -(its length) when buf
   * is too small (the message stays in the pipe, no error raised). */
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

/* ---- Value/Array: compare-exchange returning the value found (Interlocked's shape) -- */
%extend NativeArray {
  int64_t compare_exchange_value_i64(uint64_t index, int64_t expected, int64_t desired, polyipc_error *err) {
    int64_t actual = 0;
    polyipc_array_compare_exchange_i64($self, index, expected, desired, &actual, NULL, err);
    return actual;
  }
  double compare_exchange_value_f64(uint64_t index, double expected, double desired, polyipc_error *err) {
    double actual = 0;
    polyipc_array_compare_exchange_f64($self, index, expected, desired, &actual, NULL, err);
    return actual;
  }
}

/* ---- shape of the generated code ------------------------------------------------- */
%pragma(csharp) moduleclassmodifiers = "internal class"
/* No stack walk for a security demand on each call (.NET Framework; mono
 * ignores code access security, where it is only documentation). */
%pragma(csharp) imclassclassmodifiers = "[global::System.Security.SuppressUnmanagedCodeSecurity]\ninternal class"
%typemap(csclassmodifiers) SWIGTYPE, SWIGTYPE *, SWIGTYPE &, SWIGTYPE [] "internal class"
%typemap(csclassmodifiers) enum SWIGTYPE "internal enum"

/* An explicit static constructor: the module class (and through it the native
 * libraries) then initialises at its first use, inside Library.EnsureLoaded's
 * try block, and not at the entry of whichever method mentions it (mono runs
 * initialisers of "beforefieldinit" classes early), so a missing library is
 * reported clearly. */
%pragma(csharp) modulecode = %{
  static polyipc_native() {
  }
%}

%pragma(csharp) imclasscode = %{
  /* {pointer, length} of a pinned byte[] (polyipc_cs_span). */
  [global::System.Runtime.InteropServices.StructLayout(global::System.Runtime.InteropServices.LayoutKind.Sequential)]
  internal struct Span {
    public global::System.IntPtr Data;
    public long Length; /* int64_t */
    public Span(global::System.IntPtr data, int length) {
      Data = data;
      Length = length;
    }
  }

  /* A message the library allocated (polyipc_bytes). */
  [global::System.Runtime.InteropServices.StructLayout(global::System.Runtime.InteropServices.LayoutKind.Sequential)]
  internal struct Bytes {
    public global::System.IntPtr Data;
    public global::System.UIntPtr Length;
  }

  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_free")]
  internal static extern void PolyipcFree(global::System.IntPtr p);

  /* A copy of the library's message as a byte[]; the library's buffer is released. */
  internal static byte[] TakeBytes(Bytes b) {
    try {
      ulong n = (ulong)b.Length;
      if (n > int.MaxValue) throw new global::System.OutOfMemoryException("polyipc: message larger than a C# array");
      byte[] array = new byte[(int)n];
      if (n > 0) global::System.Runtime.InteropServices.Marshal.Copy(b.Data, array, 0, (int)n);
      return array;
    } finally {
      if (b.Data != global::System.IntPtr.Zero) PolyipcFree(b.Data);
    }
  }

  /* Polyipc.Queue's hot path (polyipc_cs_queue_put / _get_into above): a status
   * back, a pending exception only for real errors (or every non-OK status
   * when quiet is 0). */
  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_queue_put")]
  internal static extern unsafe int QueuePut(global::System.IntPtr q, byte* buf, long len, long priority, long timeoutNs, int quiet);

  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_queue_put_utf16")]
  internal static extern unsafe int QueuePutUtf16(global::System.IntPtr q, char* text, long n, byte* scratch, long priority, long timeoutNs, int quiet);

  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_queue_get_into")]
  internal static extern unsafe int QueueGetInto(global::System.IntPtr q, byte* buf, long cap, char* chars, long timeoutNs, int quiet, long* len);

  /* Zero copy (polyipc_cs_queue_reserve / _borrow / _end_zero_copy above):
   * the status back, outputs set only on OK; a pending exception as for
   * QueuePut (end: only with raise 1). how: 0 commit, 1 cancel, 2 release. */
  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_queue_reserve")]
  internal static extern unsafe int QueueReserve(global::System.IntPtr q, long len, byte** data, ulong* ticket, long timeoutNs, int quiet);

  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_queue_borrow")]
  internal static extern unsafe int QueueBorrow(global::System.IntPtr q, byte** data, long* len, ulong* ticket, long timeoutNs, int quiet);

  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_queue_end_zero_copy")]
  internal static extern int QueueEndZeroCopy(global::System.IntPtr q, ulong ticket, int how, int raise);

  /* Registers the raw internal calls of Polyipc.Native.QueueFastCalls (see
   * polyipc_cs_register_fast_calls): true if mono took them. */
  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_register_fast_calls")]
  internal static extern int RegisterFastCalls();

  /* The exception a wrapper left pending for status rc (a PolyipcException for
   * rc if, unexpectedly, none is). */
  internal static global::System.Exception TakePending(int rc) {
    global::System.Exception e = SWIGPendingException.Retrieve();
    return e ?? global::Polyipc.PolyipcException.FromNative(rc, "");
  }

  /* The error callback: a failing call leaves a PolyipcException pending. */
  internal delegate void PolyipcErrorDelegate(int code, global::System.IntPtr message, int length);
  static readonly PolyipcErrorDelegate polyipcErrorDelegate = new PolyipcErrorDelegate(SetPendingPolyipcError);

  [global::System.Runtime.InteropServices.DllImport("polyipc_cs", EntryPoint = "polyipc_cs_register_error_callback")]
  static extern void PolyipcRegisterErrorCallback(PolyipcErrorDelegate cb);

  static void SetPendingPolyipcError(int code, global::System.IntPtr message, int length) {
    string text = "";
    if (length > 0) {
      byte[] utf8 = new byte[length];
      global::System.Runtime.InteropServices.Marshal.Copy(message, utf8, 0, length);
      text = global::System.Text.Encoding.UTF8.GetString(utf8);
    }
    SWIGPendingException.Set(global::Polyipc.PolyipcException.FromNative(code, text));
  }

  /* Registered before any wrapper runs: SWIG gives this class an explicit
   * static constructor, so static initialisers run on first use of any member. */
  internal static readonly bool polyipcErrorCallbackRegistered = RegisterPolyipcErrorCallback();

  static bool RegisterPolyipcErrorCallback() {
    PolyipcRegisterErrorCallback(polyipcErrorDelegate);
    return true;
  }
%}

/* ---- the pool's map: polyipc_pool_submit_array with its progress ----------------
 * Pool.Map submits a group of tasks per call, the arguments as one JSON array,
 * and must know how far a call got even when it stopped early (FULL, TIMEOUT,
 * TOO_LARGE): so this call never raises, and answers the JSON text
 * [first_id, submitted, status, "message"] (the message's quotes, backslashes
 * and control characters made plain, so it needs no escaping). */
%extend NativePool {
  polyipc_bytes submit_array(const char *function, const void *data, size_t len, size_t chunk, int64_t timeout_ns) {
    polyipc_error e;
    uint64_t first = 0;
    size_t done = 0, i;
    int st;
    char out[sizeof e.message + 96];
    e.code = 0;
    e.message[0] = 0;
    st = polyipc_pool_submit_array($self, function, data, len, chunk, timeout_ns, &first, &done, &e);
    for (i = 0; e.message[i]; ++i)
      if (e.message[i] == '"' || e.message[i] == '\\' || (unsigned char)e.message[i] < 0x20) e.message[i] = '\'';
    snprintf(out, sizeof out, "[%llu,%zu,%d,\"%s\"]", (unsigned long long)first, done, st, e.message);
    return polyipc_native_copy(out, strlen(out));
  }
}
