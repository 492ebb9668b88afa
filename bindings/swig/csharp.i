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
 *   - put_buffer / get_into (%extend below) on caller-pinned buffers: the hot
 *     path of Queue, which reuses one buffer per thread (no library copy, no
 *     second call to free it, no byte[] per string put or taken); the same
 *     for pipes (send_buffer / recv_into), and compare-exchange returning the
 *     value found (Interlocked.CompareExchange's shape) for Value/Array;
 *   - the glue's own library name is given on the command line (-dllimport
 *     polyipc_cs), so mono never looks for the wrappers in libpolyipc.so.
 */

%{
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
%pragma(csharp) imclassclassmodifiers = "internal class"
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
