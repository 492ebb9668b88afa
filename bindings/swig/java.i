/*
 * java.i: the Java part of the shared interface (included by polyipc.i).
 *
 * Everything SWIG generates for Java is package-private in io.polyipc: the
 * public API is the hand-written Queue, Polyipc and exceptions in
 * bindings/java/src/main/java/io/polyipc. This file supplies:
 *   - the argout typemap for `polyipc_error *err`: a failing call leaves a
 *     pending io.polyipc.PolyipcException subclass (made by
 *     PolyipcException.fromNative(code, utf8 message)) and the wrapper still
 *     runs its cleanup (freearg, newfree) before returning;
 *   - byte[] in for (const void *data, size_t len), byte[] out for polyipc_bytes,
 *     byte[] out for the library's JSON strings (decoded as real UTF-8 in Java,
 *     never as JNI's modified UTF-8);
 *   - the queue's hand-written fast paths: put/get through a native buffer, and
 *     zero copy (reserve/borrow as a direct ByteBuffer over the ring);
 *   - the pool's submit_array for Pool.map, which reports its progress even when
 *     it stops early;
 *   - loading: the JNI class loads the native libraries through NativeLoader.
 */

%{
#include <jni.h>
#include <stdio.h>

/* io.polyipc.PolyipcException and its factory, looked up once in JNI_OnLoad
 * (FindClass there uses the class loader that called System.load). */
static jclass polyipc_java_exception_class = NULL;
static jmethodID polyipc_java_exception_factory = NULL;

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
  JNIEnv *env = NULL;
  jclass local;
  (void)reserved;
  if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
  local = (*env)->FindClass(env, "io/polyipc/PolyipcException");
  if (!local) return JNI_ERR;
  polyipc_java_exception_class = (jclass)(*env)->NewGlobalRef(env, local);
  (*env)->DeleteLocalRef(env, local);
  if (!polyipc_java_exception_class) return JNI_ERR;
  polyipc_java_exception_factory = (*env)->GetStaticMethodID(env, polyipc_java_exception_class, "fromNative",
                                                             "(I[B)Lio/polyipc/PolyipcException;");
  if (!polyipc_java_exception_factory) return JNI_ERR;
  return JNI_VERSION_1_8;
}

/* Leaves the error of a failed call pending as a Java exception. The message
 * goes up as bytes: it is UTF-8 (maybe cut mid-character at 255 bytes), which
 * NewStringUTF's modified UTF-8 does not accept. */
static void polyipc_java_raise(JNIEnv *jenv, const polyipc_error *err) {
  size_t n = 0;
  jbyteArray message;
  jobject exception;
  if ((*jenv)->ExceptionCheck(jenv)) return; /* an earlier exception (e.g. OutOfMemoryError) wins */
  while (n < sizeof err->message && err->message[n]) ++n;
  message = (*jenv)->NewByteArray(jenv, (jsize)n);
  if (!message) return;
  (*jenv)->SetByteArrayRegion(jenv, message, 0, (jsize)n, (const jbyte *)err->message);
  exception = (*jenv)->CallStaticObjectMethod(jenv, polyipc_java_exception_class, polyipc_java_exception_factory,
                                              (jint)err->code, message);
  (*jenv)->DeleteLocalRef(jenv, message);
  if (exception && !(*jenv)->ExceptionCheck(jenv)) (*jenv)->Throw(jenv, (jthrowable)exception);
}

/* A copy of the library's bytes as a Java byte[] (NULL data: NULL array). */
static jbyteArray polyipc_java_bytes(JNIEnv *jenv, const void *data, size_t len) {
  jbyteArray array;
  if (!data) return NULL;
  if (len > 0x7fffffff) {
    SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "polyipc: message larger than a Java array");
    return NULL;
  }
  array = (*jenv)->NewByteArray(jenv, (jsize)len);
  if (array && len) (*jenv)->SetByteArrayRegion(jenv, array, 0, (jsize)len, (const jbyte *)data);
  return array;
}
%}

/* ---- the queue's fast paths: primitives in, primitives out ----------------------
 * Queue.put/take hand the message across in a per-thread native buffer
 * (io.polyipc.ScratchBuffer, a direct ByteBuffer): the call carries the handle,
 * the buffer's address and a length, and never calls back into the VM unless
 * it fails. "No room" / "nothing" within the slice is a return value, not an
 * exception (the Java side waits in slices and asks again). SWIG's byte[]
 * wrappers stay, renamed, for messages larger than the scratch buffer. */
%rename(put_array) NativeQueue::put;
%rename(get_array) NativeQueue::get;
%{
/* 0: put; 1: no room within the slice (FULL or TIMEOUT); otherwise an exception is pending. */
JNIEXPORT jint JNICALL Java_io_polyipc_polyipc_1nativeJNI_NativeQueue_1put(JNIEnv *jenv, jclass jcls, jlong queue,
                                                                          jlong address, jint length, jlong priority,
                                                                          jlong timeout_ns) {
  polyipc_error err;
  int rc;
  (void)jcls;
  rc = polyipc_queue_put_priority((polyipc_queue *)(intptr_t)queue, (const void *)(intptr_t)address, (size_t)length,
                                  (int64_t)priority, (int64_t)timeout_ns, &err);
  if (rc == 0) return 0;
  if (rc == POLYIPC_ERR_FULL || rc == POLYIPC_ERR_TIMEOUT) return 1;
  polyipc_java_raise(jenv, &err);
  return rc;
}

/* >= 0: the length of the message now at address; -1: nothing within the slice
 * (EMPTY or TIMEOUT); <= -2: the next message needs -2 - result bytes (it stays
 * in the queue); otherwise an exception is pending. */
JNIEXPORT jlong JNICALL Java_io_polyipc_polyipc_1nativeJNI_NativeQueue_1get(JNIEnv *jenv, jclass jcls, jlong queue,
                                                                           jlong address, jlong capacity,
                                                                           jlong timeout_ns) {
  polyipc_error err;
  size_t len = 0;
  int rc;
  (void)jcls;
  rc = polyipc_queue_get_into((polyipc_queue *)(intptr_t)queue, (void *)(intptr_t)address, (size_t)capacity, &len,
                              (int64_t)timeout_ns, &err);
  if (rc == 0) return (jlong)len;
  if (rc == POLYIPC_ERR_EMPTY || rc == POLYIPC_ERR_TIMEOUT) return -1;
  if (rc == POLYIPC_ERR_TOO_LARGE && len > (size_t)capacity && len < (size_t)0x7fffffffffffffffLL - 2)
    return -2 - (jlong)len;
  polyipc_java_raise(jenv, &err);
  return -1;
}

/* ---- zero copy: the ring's own bytes as a direct ByteBuffer ----------------------
 * Queue.reserve / Queue.borrow (io.polyipc.Reservation, io.polyipc.Borrowed).
 * The ByteBuffer is made here, right after the library's call, so that nothing
 * stays reserved or borrowed when it cannot be made. The Java side keeps the
 * native handle (and so the ring's mapping) open for as long as the buffer, or
 * anything derived from it, is reachable; the buffer has no cleaner of its own. */

/* how for NativeQueue_end */
#define POLYIPC_JAVA_COMMIT 0
#define POLYIPC_JAVA_CANCEL 1
#define POLYIPC_JAVA_RELEASE 2

static int polyipc_java_end(polyipc_queue *q, uint64_t ticket, int how, polyipc_error *err) {
  switch (how) {
    case POLYIPC_JAVA_COMMIT: return polyipc_queue_commit(q, ticket, err);
    case POLYIPC_JAVA_CANCEL: return polyipc_queue_cancel(q, ticket, err);
    case POLYIPC_JAVA_RELEASE: return polyipc_queue_release(q, ticket, err);
    default:
      err->code = POLYIPC_ERR_INVALID_ARG;
      snprintf(err->message, sizeof err->message, "polyipc: bad zero-copy end %d", how);
      return POLYIPC_ERR_INVALID_ARG;
  }
}

/* The buffer over len bytes at data for the reservation or borrowed message
 * `ticket`, the ticket in ticket_out[0]. If either cannot be made, the ticket
 * is ended (cancelled, or released: a borrowed message is then taken and
 * dropped, as a failed get drops it) and NULL returned, an exception pending. */
static jobject polyipc_java_zero_copy_buffer(JNIEnv *jenv, polyipc_queue *q, void *data, size_t len, uint64_t ticket,
                                             jlongArray ticket_out, int how_to_end) {
  static char empty_region[1];
  polyipc_error err;
  jobject buffer = NULL;
  jlong t = (jlong)ticket;
  if (len > 0x7fffffff) {
    polyipc_java_end(q, ticket, how_to_end, &err);
    err.code = POLYIPC_ERR_TOO_LARGE;
    snprintf(err.message, sizeof err.message,
             "polyipc: a message of %llu bytes is larger than a ByteBuffer holds (2 GiB - 1); it was taken and dropped",
             (unsigned long long)len);
    polyipc_java_raise(jenv, &err);
    return NULL;
  }
  (*jenv)->SetLongArrayRegion(jenv, ticket_out, 0, 1, &t);
  if (!(*jenv)->ExceptionCheck(jenv)) buffer = (*jenv)->NewDirectByteBuffer(jenv, data ? data : empty_region, (jlong)len);
  if (buffer && !(*jenv)->ExceptionCheck(jenv)) return buffer;
  polyipc_java_end(q, ticket, how_to_end, &err);
  if (!(*jenv)->ExceptionCheck(jenv))
    SWIG_JavaThrowException(jenv, SWIG_JavaRuntimeException, "polyipc: no direct ByteBuffer for the queue's ring");
  return NULL;
}

/* A writable buffer over length reserved bytes, its ticket in ticket_out[0];
 * NULL: no room within the slice (FULL or TIMEOUT), or an exception is pending. */
JNIEXPORT jobject JNICALL Java_io_polyipc_polyipc_1nativeJNI_NativeQueue_1reserve(JNIEnv *jenv, jclass jcls, jlong queue,
                                                                                 jint length, jlong timeout_ns,
                                                                                 jlongArray ticket_out) {
  polyipc_queue *q = (polyipc_queue *)(intptr_t)queue;
  polyipc_error err;
  void *data = NULL;
  uint64_t ticket = 0;
  int rc;
  (void)jcls;
  if (length < 0 || !ticket_out || (*jenv)->GetArrayLength(jenv, ticket_out) < 1) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "polyipc: reserve: bad arguments");
    return NULL;
  }
  rc = polyipc_queue_reserve(q, (size_t)length, &data, &ticket, (int64_t)timeout_ns, &err);
  if (rc == POLYIPC_ERR_FULL || rc == POLYIPC_ERR_TIMEOUT) return NULL;
  if (rc != 0) {
    polyipc_java_raise(jenv, &err);
    return NULL;
  }
  return polyipc_java_zero_copy_buffer(jenv, q, data, (size_t)length, ticket, ticket_out, POLYIPC_JAVA_CANCEL);
}

/* A buffer over the next message's bytes in the ring (the Java side hands out
 * a read-only view), its ticket in ticket_out[0]; NULL: nothing within the
 * slice (EMPTY or TIMEOUT), or an exception is pending. */
JNIEXPORT jobject JNICALL Java_io_polyipc_polyipc_1nativeJNI_NativeQueue_1borrow(JNIEnv *jenv, jclass jcls, jlong queue,
                                                                                jlong timeout_ns, jlongArray ticket_out) {
  polyipc_queue *q = (polyipc_queue *)(intptr_t)queue;
  polyipc_error err;
  const void *data = NULL;
  size_t len = 0;
  uint64_t ticket = 0;
  int rc;
  (void)jcls;
  if (!ticket_out || (*jenv)->GetArrayLength(jenv, ticket_out) < 1) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "polyipc: borrow: bad arguments");
    return NULL;
  }
  rc = polyipc_queue_borrow(q, &data, &len, &ticket, (int64_t)timeout_ns, &err);
  if (rc == POLYIPC_ERR_EMPTY || rc == POLYIPC_ERR_TIMEOUT) return NULL;
  if (rc != 0) {
    polyipc_java_raise(jenv, &err);
    return NULL;
  }
  return polyipc_java_zero_copy_buffer(jenv, q, (void *)data, len, ticket, ticket_out, POLYIPC_JAVA_RELEASE);
}

/* Ends a ticket: how 0 commit, 1 cancel, 2 release. 0: done; otherwise the
 * status, its exception pending. */
JNIEXPORT jint JNICALL Java_io_polyipc_polyipc_1nativeJNI_NativeQueue_1end(JNIEnv *jenv, jclass jcls, jlong queue,
                                                                          jlong ticket, jint how) {
  polyipc_error err;
  int rc;
  (void)jcls;
  rc = polyipc_java_end((polyipc_queue *)(intptr_t)queue, (uint64_t)ticket, (int)how, &err);
  if (rc != 0) polyipc_java_raise(jenv, &err);
  return rc;
}

/* The address of a direct ByteBuffer (0 if it is not one). */
JNIEXPORT jlong JNICALL Java_io_polyipc_polyipc_1nativeJNI_direct_1address(JNIEnv *jenv, jclass jcls, jobject buffer) {
  (void)jcls;
  return (jlong)(intptr_t)(*jenv)->GetDirectBufferAddress(jenv, buffer);
}
%}

/* ---- the pool's map: polyipc_pool_submit_array with its progress ---------------
 * Pool.map submits a group of tasks per call, the arguments as one JSON array.
 * The call reports how far it got even when it stops early (FULL or TIMEOUT
 * when the pool has no room, TOO_LARGE for a chunk the pool can never hold):
 * the tasks put stay submitted, and the caller collects their results by id.
 * polyipc.i has no such call (every language passes its progress its own way). */
%{
/* out[0] = the first task's id, out[1] = how many tasks went in; set before
 * any exception. 0: all went in; FULL or TIMEOUT: no room within the slice (no
 * exception; out says what went in before); otherwise the status, its
 * exception pending. */
JNIEXPORT jint JNICALL Java_io_polyipc_polyipc_1nativeJNI_NativePool_1submit_1array(JNIEnv *jenv, jclass jcls,
                                                                                   jlong pool, jbyteArray function,
                                                                                   jbyteArray data, jlong chunk,
                                                                                   jlong timeout_ns, jlongArray out) {
  polyipc_error err;
  char name_stack[256];
  char *name = name_stack;
  jbyte data_stack[4096];
  jbyte *json = data_stack;
  jsize name_len, len;
  jlong progress[2] = {0, 0};
  uint64_t first = 0;
  size_t submitted = 0;
  int rc;
  (void)jcls;
  err.code = 0;
  err.message[0] = 0;
  if (!function || !data || !out || chunk < 1 || (*jenv)->GetArrayLength(jenv, out) < 2) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "polyipc: submit_array: bad arguments");
    return POLYIPC_ERR_INVALID_ARG;
  }
  name_len = (*jenv)->GetArrayLength(jenv, function);
  len = (*jenv)->GetArrayLength(jenv, data);
  if ((size_t)name_len >= sizeof name_stack) name = (char *)malloc((size_t)name_len + 1);
  if ((size_t)len > sizeof data_stack) json = (jbyte *)malloc((size_t)len);
  if (!name || !json) {
    if (name != name_stack) free(name);
    if (json != data_stack) free(json);
    SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "polyipc: submit_array: no memory for the arguments");
    return POLYIPC_ERR_NO_MEMORY;
  }
  (*jenv)->GetByteArrayRegion(jenv, function, 0, name_len, (jbyte *)name);
  name[name_len] = 0;
  (*jenv)->GetByteArrayRegion(jenv, data, 0, len, json);
  rc = polyipc_pool_submit_array((polyipc_pool *)(intptr_t)pool, name, (const void *)json, (size_t)len, (size_t)chunk,
                                 (int64_t)timeout_ns, &first, &submitted, &err);
  if (name != name_stack) free(name);
  if (json != data_stack) free(json);
  progress[0] = (jlong)first;
  progress[1] = (jlong)submitted;
  (*jenv)->SetLongArrayRegion(jenv, out, 0, 2, progress);
  if (rc == 0 || rc == POLYIPC_ERR_FULL || rc == POLYIPC_ERR_TIMEOUT) return rc;
  polyipc_java_raise(jenv, &err);
  return rc;
}
%}

/* ---- errors ------------------------------------------------------------------ */
/* No early return: freearg and newfree still run, the exception stays pending
 * and the (ignored) result goes back with it. */
%typemap(argout) polyipc_error *err %{
  if ($1->code != 0) polyipc_java_raise(jenv, $1);
%}

/* ---- bytes in: (const void *data, size_t len) <- byte[] ------------------------ */
/* Small messages are copied to the stack, larger ones to the heap; never a
 * pinned/critical array, since the call may block for a long time. */
%typemap(jni) (const void *data, size_t len) "jbyteArray"
%typemap(jtype) (const void *data, size_t len) "byte[]"
%typemap(jstype) (const void *data, size_t len) "byte[]"
%typemap(javain) (const void *data, size_t len) "$javainput"
%typemap(in) (const void *data, size_t len) (jbyte stack_copy[512], jbyte *heap_copy = NULL) %{
  if (!$input) {
    SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "polyipc: null message");
    return $null;
  }
  {
    jsize n = (*jenv)->GetArrayLength(jenv, $input);
    jbyte *copy = stack_copy;
    if ((size_t)n > sizeof stack_copy) {
      heap_copy = (jbyte *)malloc((size_t)n);
      if (!heap_copy) {
        SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "polyipc: no memory for the message");
        return $null;
      }
      copy = heap_copy;
    }
    (*jenv)->GetByteArrayRegion(jenv, $input, 0, n, copy);
    $1 = (void *)copy;
    $2 = (size_t)n;
  }
%}
%typemap(freearg) (const void *data, size_t len) %{ free(heap_copy$argnum); %}

/* ---- a pool task's function name in: UTF-8 byte[] -> NUL-terminated char * -------------
 * SWIG's String typemap passes JNI's modified UTF-8 (surrogate pairs for characters outside
 * the BMP); the library wants real UTF-8, so Pool.java encodes the name and it goes as bytes.
 * Pool.java rejects a name holding U+0000 before the call. */
%typemap(jni) const char *function "jbyteArray"
%typemap(jtype) const char *function "byte[]"
%typemap(jstype) const char *function "byte[]"
%typemap(javain) const char *function "$javainput"
%typemap(in) const char *function (char *name_copy = NULL) %{
  if (!$input) {
    SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "polyipc: null function name");
    return $null;
  }
  {
    jsize n = (*jenv)->GetArrayLength(jenv, $input);
    name_copy = (char *)malloc((size_t)n + 1);
    if (!name_copy) {
      SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "polyipc: no memory for the function name");
      return $null;
    }
    (*jenv)->GetByteArrayRegion(jenv, $input, 0, n, (jbyte *)name_copy);
    name_copy[n] = 0;
    $1 = name_copy;
  }
%}
%typemap(freearg) const char *function %{ free(name_copy$argnum); %}

/* ---- bytes out: polyipc_bytes -> byte[] ------------------------------------------ */
%typemap(jni) polyipc_bytes "jbyteArray"
%typemap(jtype) polyipc_bytes "byte[]"
%typemap(jstype) polyipc_bytes "byte[]"
%typemap(javaout) polyipc_bytes { return $jnicall; }
%typemap(out) polyipc_bytes %{
  $result = polyipc_java_bytes(jenv, $1.data, $1.len);
  polyipc_free($1.data);
%}
%ignore polyipc_bytes;

/* ---- JSON text out: library-allocated char * (freed by newfree) -> String ----------- */
/* Named, so that names in and the library's static `const char *` texts keep
 * SWIG's String typemaps. */
%define POLYIPC_JAVA_JSON_RESULT(NAMES...)
%typemap(jni) NAMES "jbyteArray"
%typemap(jtype) NAMES "byte[]"
%typemap(jstype) NAMES "String"
%typemap(out) NAMES %{ $result = polyipc_java_bytes(jenv, $1, $1 ? strlen($1) : 0); %}
%typemap(javaout) NAMES {
    byte[] utf8 = $jnicall;
    return utf8 == null ? null : new String(utf8, java.nio.charset.StandardCharsets.UTF_8);
  }
%enddef
POLYIPC_JAVA_JSON_RESULT(char *polyipc_native_list_json, char *polyipc_native_stat_json,
                         char *polyipc_native_gc_json, char *polyipc_native_peek_json, char *stat_json)

/* ---- numbers and the queue class ------------------------------------------------------ */
/* Java's long for the 64-bit counts and options (no BigInteger on the hot path). */
%apply int64_t { uint64_t };
/* Work-arounds for polyipc.i, which should say these itself (every language
 * needs them): open_existing returns a handle the caller owns, and the opaque
 * queue has no default constructor (calloc(sizeof) of an incomplete type). */
%newobject NativeQueue::open_existing;
%nodefaultctor NativeQueue;
/* wait(long) is final in java.lang.Object, and notify(long) beside Object's
 * notify() would only confuse: the sync classes' waits get other names. */
%rename(wait_ns) NativeEvent::wait;
%rename(wait_ns) NativeCondition::wait;
%rename(wait_ns) NativeBarrier::wait;
%rename(notify_n) NativeCondition::notify;
%rename(wait_ns) NativeWaitSet::wait;

/* The two %constant's would land in a public interface (SWIG has no modifier
 * for it); the binding number comes from a package-private function instead:
 * the header's POLYIPC_VERSION_NUMBER when this glue was generated and built. */
%ignore POLYIPC_BINDING_VERSION_NUMBER;
%ignore POLYIPC_FOREVER;
%inline %{
static int polyipc_java_binding_version_number(void) { return POLYIPC_VERSION_NUMBER; }
%}

/* ---- shape of the generated classes ------------------------------------------------ */
%pragma(java) jniclassclassmodifiers = "final class"
%pragma(java) moduleclassmodifiers = "final class"
%pragma(java) jniclasscode = %{
  static {
    NativeLoader.load();
  }

  // Hand-written in java.i: the queue's fast paths (see the comments there).
  static native int NativeQueue_put(long queue, long address, int length, long priority, long timeoutNanos);
  static native long NativeQueue_get(long queue, long address, long capacity, long timeoutNanos);
  static native long direct_address(java.nio.ByteBuffer buffer);
  // Zero copy (Queue.reserve/borrow): the buffer over the ring's bytes, or null when there was no room /
  // nothing within the slice; the ticket in ticket[0]. end: how 0 commit, 1 cancel, 2 release.
  static native java.nio.ByteBuffer NativeQueue_reserve(long queue, int length, long timeoutNanos, long[] ticket);
  static native java.nio.ByteBuffer NativeQueue_borrow(long queue, long timeoutNanos, long[] ticket);
  static native int NativeQueue_end(long queue, long ticket, int how);
  // Pool.map: polyipc_pool_submit_array; out[0] the first id, out[1] how many went in (set even when it
  // throws). 0: all; FULL (3) or TIMEOUT (1): no room within the slice, no exception.
  static native int NativePool_submit_array(long pool, byte[] function, byte[] data, long chunk, long timeoutNanos,
                                            long[] out);
%}
%typemap(javaclassmodifiers) SWIGTYPE, SWIGTYPE *, SWIGTYPE &, SWIGTYPE [] "final class"
%include <enumtypeunsafe.swg>
%typemap(javaclassmodifiers) enum SWIGTYPE "final class"
/* The idiomatic Queue closes its handle explicitly (and through a Cleaner when
 * it is dropped unclosed); no finalize(), which is deprecated and races close. */
%typemap(javafinalize) SWIGTYPE ""

/* ---- a direct ByteBuffer over shared memory ---------------------------------------- */
/* polyipc_java_direct_buffer(address, length): a java.nio direct ByteBuffer
 * over length bytes at address (NewDirectByteBuffer: no copy, no cleaner of its
 * own). The caller (SharedMemory.java) keeps the mapping alive for as long as
 * the buffer is reachable and checks that the range lies inside it. */
%{
typedef struct polyipc_java_region {
  void *data;
  jlong len;
} polyipc_java_region;
%}
%typemap(jni) polyipc_java_region "jobject"
%typemap(jtype) polyipc_java_region "java.nio.ByteBuffer"
%typemap(jstype) polyipc_java_region "java.nio.ByteBuffer"
%typemap(javaout) polyipc_java_region { return $jnicall; }
%typemap(out) polyipc_java_region %{
  $result = $1.data ? (*jenv)->NewDirectByteBuffer(jenv, $1.data, $1.len) : NULL;
  if (!$result && !(*jenv)->ExceptionCheck(jenv))
    SWIG_JavaThrowException(jenv, SWIG_JavaRuntimeException, "polyipc: no direct ByteBuffer for the shared memory");
%}
%inline %{
static polyipc_java_region polyipc_java_direct_buffer(uint64_t address, int64_t length) {
  polyipc_java_region r;
  r.data = (void *)(uintptr_t)address;
  r.len = (jlong)length;
  return r;
}
%}
