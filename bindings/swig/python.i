/*
 * python.i: the Python part of the shared SWIG interface (included by
 * polyipc.i under SWIGPYTHON). Build with `swig -python -threads`, so every
 * wrapped call releases the GIL while it runs in native code; the typemaps
 * below run with the GIL held.
 *
 * Errors: the argout typemap raises the class that the hand-written package
 * registered for the status (polyipc_python_register_errors), constructed as
 * cls(message) with .status set; before registration it raises
 * polyipc_native.Error(status, message), a RuntimeError.
 * Bytes in: (const void *data, size_t len) takes str (its UTF-8, no copy) or
 * any C-contiguous buffer (bytes, bytearray, memoryview ...).
 * Bytes out: polyipc_bytes becomes bytes; the library's copy is polyipc_free'd.
 */

%{
static PyObject *polyipc_python_error_base = NULL;    /* polyipc_native.Error */
static PyObject *polyipc_python_error_classes = NULL; /* {status: class}, set by the package */

/* Sets the Python error for a failed call. */
static void polyipc_python_raise(const polyipc_error *e) {
  PyObject *cls = NULL, *exc, *status = PyLong_FromLong(e->code);
  if (!status) return;
  if (polyipc_python_error_classes) {
    cls = PyDict_GetItemWithError(polyipc_python_error_classes, status); /* borrowed */
    if (!cls && PyErr_Occurred()) goto done;
  }
  if (!cls) {
    PyObject *args = Py_BuildValue("(is)", e->code, e->message);
    if (args) PyErr_SetObject(polyipc_python_error_base ? polyipc_python_error_base : PyExc_RuntimeError, args);
    Py_XDECREF(args);
    goto done;
  }
  exc = PyObject_CallFunction(cls, "s", e->message);
  if (!exc) goto done;
  if (PyObject_SetAttrString(exc, "status", status) == 0) PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
  Py_DECREF(exc);
done:
  Py_DECREF(status);
}
%}

%init %{
  polyipc_python_error_base = PyErr_NewExceptionWithDoc("polyipc_native.Error",
      "A failed polyipc call: args are (status, message).", PyExc_RuntimeError, NULL);
  if (polyipc_python_error_base) PyModule_AddObject(m, "Error", (Py_INCREF(polyipc_python_error_base), polyipc_python_error_base));
%}

/* Raise after the call when the library reported a failure. $result may
 * already hold the return value: drop it. */
%typemap(argout) polyipc_error *err {
  if ($1->code != 0) {
    Py_XDECREF($result);
    $result = NULL;
    polyipc_python_raise($1);
    SWIG_fail;
  }
}

/* Input bytes: str (UTF-8, cached by str itself) or a contiguous buffer. The
 * arguments tuple keeps the object alive while the GIL is released. */
%typemap(in) (const void *data, size_t len) (Py_buffer view, int have_view = 0) {
  if (PyUnicode_Check($input)) {
    Py_ssize_t n = 0;
    const char *s = PyUnicode_AsUTF8AndSize($input, &n);
    if (!s) SWIG_fail;
    $1 = (void *)s;
    $2 = (size_t)n;
  } else {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0) SWIG_fail;
    have_view = 1;
    $1 = view.buf;
    $2 = (size_t)view.len;
  }
}
%typemap(freearg) (const void *data, size_t len) {
  if (have_view$argnum) PyBuffer_Release(&view$argnum);
}
%typemap(typecheck, precedence = SWIG_TYPECHECK_STRING) (const void *data, size_t len) {
  $1 = PyUnicode_Check($input) || PyObject_CheckBuffer($input);
}

/* Output bytes: copy into bytes, then release the library's copy. */
%typemap(out) polyipc_bytes {
  if ($1.data) {
    $result = PyBytes_FromStringAndSize((const char *)$1.data, (Py_ssize_t)$1.len);
    polyipc_free($1.data);
    if (!$result) SWIG_fail;
  } else {
    $result = PyBytes_FromStringAndSize("", 0);
  }
}

/* The package hands over its exception classes once, at import. */
%nothread polyipc_python_register_errors;
%exception polyipc_python_register_errors {
  $action
  if (PyErr_Occurred()) SWIG_fail;
}
%inline %{
void polyipc_python_register_errors(PyObject *classes) {
  if (!PyDict_Check(classes)) {
    PyErr_SetString(PyExc_TypeError, "polyipc_python_register_errors: expected a dict {status: exception class}");
    return;
  }
  Py_INCREF(classes);
  Py_XSETREF(polyipc_python_error_classes, classes);
}
%}

/* ---- batches: one Python call, one lock and one wake-up for many messages ----
 * (polyipc.i has no batch methods yet; these call the C API's put_many,
 * get_many and pool_submit_many directly.) They return the status instead of
 * raising, because a batch can succeed in part; the package raises from it. */
%nothread polyipc_python_put_many;
%nothread polyipc_python_get_many;
%nothread polyipc_python_pool_submit_many;
%nothread polyipc_python_pool_submit_array;
%{
/* The buffers of items[start:] (a tuple of bytes or str), for a C batch call:
 * *data and *lens (PyMem_Free both), *count of them. 0, or -1 with a Python
 * error set. The tuple (held by the caller) keeps the buffers alive while the
 * GIL is released. */
static int polyipc_python_buffers(PyObject *items, size_t start, const char *call, const void ***data, size_t **lens,
                                  Py_ssize_t *count) {
  Py_ssize_t i;
  if (!PyTuple_Check(items)) {
    PyErr_Format(PyExc_TypeError, "%s: items must be a tuple of bytes or str", call);
    return -1;
  }
  *count = PyTuple_GET_SIZE(items) - (Py_ssize_t)start;
  if (*count < 0) *count = 0;
  *data = (const void **)PyMem_Malloc(sizeof(**data) * (size_t)(*count + 1));
  *lens = (size_t *)PyMem_Malloc(sizeof(**lens) * (size_t)(*count + 1));
  if (!*data || !*lens) {
    PyMem_Free(*data);
    PyMem_Free(*lens);
    PyErr_NoMemory();
    return -1;
  }
  for (i = 0; i < *count; ++i) {
    PyObject *it = PyTuple_GET_ITEM(items, (Py_ssize_t)start + i);
    Py_ssize_t n;
    if (PyBytes_Check(it)) {
      (*data)[i] = PyBytes_AS_STRING(it);
      (*lens)[i] = (size_t)PyBytes_GET_SIZE(it);
    } else if (PyUnicode_Check(it) && ((*data)[i] = PyUnicode_AsUTF8AndSize(it, &n)) != NULL) {
      (*lens)[i] = (size_t)n;
    } else {
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "%s: item %zd is %.100s, not bytes or str", call, (Py_ssize_t)start + i,
                     Py_TYPE(it)->tp_name);
      PyMem_Free(*data);
      PyMem_Free(*lens);
      return -1;
    }
  }
  return 0;
}
%}
%inline %{
/* Puts items[start:] (a tuple of bytes or str) in order.
 * Returns (done, status, message): items[start:start+done] were put. */
PyObject *polyipc_python_put_many(NativeQueue *q, PyObject *items, size_t start, int64_t timeout_ns) {
  polyipc_error e;
  Py_ssize_t count;
  const void **data;
  size_t *lens, done = 0;
  int st;
  e.code = 0;
  e.message[0] = 0;
  if (polyipc_python_buffers(items, start, "put_many", &data, &lens, &count) != 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  st = polyipc_queue_put_many(q, data, lens, (size_t)count, &done, timeout_ns, &e);
  Py_END_ALLOW_THREADS
  PyMem_Free(data);
  PyMem_Free(lens);
  return Py_BuildValue("(nis)", (Py_ssize_t)done, st, e.message);
}

/* Submits function(items[i]) for every JSON text of the tuple, `chunk` to a
 * pool message. Returns (first_id, done, status, message): tasks
 * first_id .. first_id+done-1 were submitted. */
PyObject *polyipc_python_pool_submit_many(NativePool *p, const char *function, PyObject *items, size_t chunk,
                                          int64_t timeout_ns) {
  polyipc_error e;
  Py_ssize_t count;
  const void **data;
  size_t *lens, done = 0;
  uint64_t first = 0;
  int st;
  e.code = 0;
  e.message[0] = 0;
  if (polyipc_python_buffers(items, 0, "submit_many", &data, &lens, &count) != 0) return NULL;
  Py_BEGIN_ALLOW_THREADS
  st = polyipc_pool_submit_many(p, function, data, lens, (size_t)count, chunk, timeout_ns, &first, &done, &e);
  Py_END_ALLOW_THREADS
  PyMem_Free(data);
  PyMem_Free(lens);
  return Py_BuildValue("(Knis)", (unsigned long long)first, (Py_ssize_t)done, st, e.message);
}

/* Submits function(a) for every element a of the JSON array `array` (str or
 * bytes), `chunk` to a pool message. Returns (first_id, done, status,
 * message), as polyipc_python_pool_submit_many. */
PyObject *polyipc_python_pool_submit_array(NativePool *p, const char *function, PyObject *array, size_t chunk,
                                           int64_t timeout_ns) {
  polyipc_error e;
  Py_buffer view;
  const char *data;
  Py_ssize_t len = 0;
  size_t done = 0;
  uint64_t first = 0;
  int st, have_view = 0;
  e.code = 0;
  e.message[0] = 0;
  if (PyUnicode_Check(array)) {
    data = PyUnicode_AsUTF8AndSize(array, &len);
    if (!data) return NULL;
  } else {
    if (PyObject_GetBuffer(array, &view, PyBUF_SIMPLE) < 0) return NULL;
    have_view = 1;
    data = (const char *)view.buf;
    len = view.len;
  }
  Py_INCREF(array); /* the text stays while the GIL is released */
  Py_BEGIN_ALLOW_THREADS
  st = polyipc_pool_submit_array(p, function, data, (size_t)len, chunk, timeout_ns, &first, &done, &e);
  Py_END_ALLOW_THREADS
  if (have_view) PyBuffer_Release(&view);
  Py_DECREF(array);
  return Py_BuildValue("(Knis)", (unsigned long long)first, (Py_ssize_t)done, st, e.message);
}

/* Waits up to timeout_ns for a message, then takes up to max_count that fit in
 * cap bytes. Returns (list of bytes, status, message, needed): needed is the
 * size of a first message that does not fit cap (status TOO_LARGE), else 0. */
PyObject *polyipc_python_get_many(NativeQueue *q, size_t max_count, size_t cap, int64_t timeout_ns) {
  polyipc_error e;
  char *buf;
  size_t *lens, done = 0, i, off = 0, needed = 0;
  int st;
  PyObject *list;
  e.code = 0;
  e.message[0] = 0;
  if (max_count == 0) max_count = 1;
  buf = (char *)PyMem_Malloc(cap ? cap : 1);
  lens = (size_t *)PyMem_Malloc(sizeof(*lens) * max_count);
  if (!buf || !lens) {
    PyMem_Free(buf);
    PyMem_Free(lens);
    return PyErr_NoMemory();
  }
  lens[0] = 0;
  Py_BEGIN_ALLOW_THREADS
  st = polyipc_queue_get_many(q, buf, cap, lens, max_count, &done, timeout_ns, &e);
  Py_END_ALLOW_THREADS
  if (st == POLYIPC_ERR_TOO_LARGE && done == 0) needed = lens[0];
  list = PyList_New((Py_ssize_t)done);
  for (i = 0; list && i < done; ++i) {
    PyObject *b = PyBytes_FromStringAndSize(buf + off, (Py_ssize_t)lens[i]);
    if (!b) {
      Py_CLEAR(list);
      break;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, b);
    off += lens[i];
  }
  PyMem_Free(buf);
  PyMem_Free(lens);
  if (!list) return NULL;
  return Py_BuildValue("(Nisn)", list, st, e.message, (Py_ssize_t)needed);
}
%}

/* ---- the per-message hot path: hand-written METH_FASTCALL functions ---------
 * polyipc_python_queue_put / _get / _get_text do what NativeQueue_put /
 * NativeQueue_get do (same arguments, same errors raised through the
 * registered classes), without SWIG's per-call argument tuple, its generic
 * conversions, or the library's malloc'd copy on get, and with a first
 * attempt that keeps the GIL (POLYIPC_PYTHON_QUICK_NS): the message is taken
 * with polyipc_queue_get_into into a stack buffer and copied once into the
 * result object (larger messages fall back to polyipc_queue_get). _get_text
 * returns str (strict UTF-8, as bytes.decode), for a custom JSON decoder;
 * _get_json returns the object, decoded in C (see polyipc_python_jdecode). */
%{
#define POLYIPC_PYTHON_STACK_MESSAGE 2048
/* The first attempt of every call keeps the GIL: dropping and taking it back
 * costs about as much as the library's put or get. It waits at most this long
 * (for the lock, or for a message / room), so other threads are held up for
 * microseconds at worst; when it times out, the call is made again with the
 * GIL released and the caller's timeout. */
#define POLYIPC_PYTHON_QUICK_NS ((int64_t)1000)

static int polyipc_python_queue_arg(PyObject *o, NativeQueue **q) {
  void *p = NULL;
  if (!SWIG_IsOK(SWIG_ConvertPtr(o, &p, SWIGTYPE_p_NativeQueue, 0)) || !p) {
    PyErr_SetString(PyExc_TypeError, "expected a NativeQueue pointer");
    return -1;
  }
  *q = (NativeQueue *)p;
  return 0;
}

static int polyipc_python_int64_arg(PyObject *o, int64_t *v) {
  long long x = PyLong_AsLongLong(o);
  if (x == -1 && PyErr_Occurred()) return -1;
  *v = (int64_t)x;
  return 0;
}

/* The put of every fast call: raises and returns the status when it fails. */
static int polyipc_python_put_data(NativeQueue *q, const void *buf, size_t len, int64_t priority, int64_t timeout_ns) {
  polyipc_error e;
  int st;
  e.code = 0;
  e.message[0] = 0;
  st = polyipc_queue_put_priority(q, buf, len, priority, POLYIPC_PYTHON_QUICK_NS, &e); /* GIL held */
  if (st == POLYIPC_ERR_TIMEOUT && timeout_ns != POLYIPC_PYTHON_QUICK_NS) {
    e.code = 0;
    e.message[0] = 0;
    Py_BEGIN_ALLOW_THREADS
    st = polyipc_queue_put_priority(q, buf, len, priority, timeout_ns, &e);
    Py_END_ALLOW_THREADS
  }
  if (st != 0) {
    if (e.code == 0) e.code = st;
    polyipc_python_raise(&e);
  }
  return st;
}

/* put(ptr, data, priority, timeout_ns) -> None */
static PyObject *polyipc_python_queue_put(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  NativeQueue *q;
  int64_t priority, timeout_ns;
  PyObject *data;
  Py_buffer view;
  int have_view = 0, st;
  const void *buf;
  Py_ssize_t len;
  (void)self;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "polyipc_python_queue_put(ptr, data, priority, timeout_ns)");
    return NULL;
  }
  if (polyipc_python_queue_arg(args[0], &q) < 0 || polyipc_python_int64_arg(args[2], &priority) < 0 ||
      polyipc_python_int64_arg(args[3], &timeout_ns) < 0)
    return NULL;
  data = args[1];
  if (PyBytes_Check(data)) { /* immutable: the caller's reference keeps it alive without the GIL */
    buf = PyBytes_AS_STRING(data);
    len = PyBytes_GET_SIZE(data);
  } else if (PyUnicode_Check(data)) { /* its UTF-8, cached by the str itself */
    buf = PyUnicode_AsUTF8AndSize(data, &len);
    if (!buf) return NULL;
  } else { /* bytearray, memoryview ...: the export pins the buffer */
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    have_view = 1;
    buf = view.buf;
    len = view.len;
  }
  st = polyipc_python_put_data(q, buf, (size_t)len, priority, timeout_ns);
  if (have_view) PyBuffer_Release(&view);
  if (st != 0) return NULL;
  Py_RETURN_NONE;
}

/* ---- JSON straight from objects into a buffer ----
 * The common case of put(obj) on a JSON queue: exact dict (str keys), list,
 * tuple, str, int (64-bit), finite float, bool and None, written as
 * json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
 * writes them. Anything else (subclasses, other key types, big ints, NaN,
 * lone surrogates, nesting deeper than 64: circular references too) returns
 * 1 and the caller encodes with the stdlib, which raises its usual errors. */
typedef struct {
  char *p;
  size_t len, cap;
  int heap;
} polyipc_python_jbuf;

static int polyipc_python_jreserve(polyipc_python_jbuf *b, size_t more) {
  size_t cap;
  char *p;
  if (b->len + more <= b->cap) return 0;
  cap = b->cap * 2 > b->len + more ? b->cap * 2 : b->len + more + 256;
  p = b->heap ? (char *)PyMem_Realloc(b->p, cap) : (char *)PyMem_Malloc(cap);
  if (!p) {
    PyErr_NoMemory();
    return -1;
  }
  if (!b->heap) memcpy(p, b->p, b->len);
  b->p = p;
  b->cap = cap;
  b->heap = 1;
  return 0;
}

static int polyipc_python_jput(polyipc_python_jbuf *b, const char *s, size_t n) {
  if (polyipc_python_jreserve(b, n) < 0) return -1;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

static int polyipc_python_jstr(polyipc_python_jbuf *b, PyObject *o) {
  static const char hex[] = "0123456789abcdef";
  Py_ssize_t n, i;
  const unsigned char *s = (const unsigned char *)PyUnicode_AsUTF8AndSize(o, &n);
  if (!s) { /* lone surrogates: the stdlib's text, then the UTF-8 error, as before */
    PyErr_Clear();
    return 1;
  }
  if (polyipc_python_jreserve(b, (size_t)n * 6 + 2) < 0) return -1;
  {
    char *d = b->p + b->len;
    *d++ = '"';
    for (i = 0; i < n; ++i) {
      unsigned char c = s[i];
      if (c >= 0x20 && c != '"' && c != '\\') {
        *d++ = (char)c;
        continue;
      }
      *d++ = '\\';
      switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\n': *d++ = 'n'; break;
        case '\r': *d++ = 'r'; break;
        case '\t': *d++ = 't'; break;
        case '\b': *d++ = 'b'; break;
        case '\f': *d++ = 'f'; break;
        default:
          *d++ = 'u'; *d++ = '0'; *d++ = '0'; *d++ = hex[c >> 4]; *d++ = hex[c & 15];
      }
    }
    *d++ = '"';
    b->len = (size_t)(d - b->p);
  }
  return 0;
}

/* v in decimal, as "%lld" writes it (no snprintf: a put of a small object is mostly numbers
 * and strings); returns the length, at most 20. */
static size_t polyipc_python_itoa(char *out, long long v) {
  char tmp[24];
  size_t n = 0, k = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    tmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (v < 0) out[k++] = '-';
  while (n) out[k++] = tmp[--n];
  return k;
}

static int polyipc_python_jvalue(polyipc_python_jbuf *b, PyObject *o, int depth) {
  if (o == Py_None) return polyipc_python_jput(b, "null", 4);
  if (o == Py_True) return polyipc_python_jput(b, "true", 4);
  if (o == Py_False) return polyipc_python_jput(b, "false", 5);
  if (PyUnicode_CheckExact(o)) return polyipc_python_jstr(b, o);
  if (PyLong_CheckExact(o)) {
    int overflow = 0;
    char num[32];
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) return 1;
    if (v == -1 && PyErr_Occurred()) return -1;
    return polyipc_python_jput(b, num, polyipc_python_itoa(num, v));
  }
  if (PyFloat_CheckExact(o)) { /* float.__repr__, as json does */
    double v = PyFloat_AS_DOUBLE(o);
    char *r;
    int rc;
    if (!Py_IS_FINITE(v)) return 1;
    r = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!r) return -1;
    rc = polyipc_python_jput(b, r, strlen(r));
    PyMem_Free(r);
    return rc;
  }
  if (depth >= 64) return 1;
  if (PyDict_CheckExact(o)) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    int first = 1, rc;
    if (polyipc_python_jput(b, "{", 1) < 0) return -1;
    while (PyDict_Next(o, &pos, &k, &v)) { /* runs no Python code: the dict cannot change */
      if (!PyUnicode_CheckExact(k)) return 1;
      if (!first && polyipc_python_jput(b, ",", 1) < 0) return -1;
      first = 0;
      if ((rc = polyipc_python_jstr(b, k)) != 0) return rc;
      if (polyipc_python_jput(b, ":", 1) < 0) return -1;
      if ((rc = polyipc_python_jvalue(b, v, depth + 1)) != 0) return rc;
    }
    return polyipc_python_jput(b, "}", 1);
  }
  if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
    Py_ssize_t i, n = PySequence_Fast_GET_SIZE(o);
    PyObject **items = PySequence_Fast_ITEMS(o);
    int rc;
    if (polyipc_python_jput(b, "[", 1) < 0) return -1;
    for (i = 0; i < n; ++i) {
      if (i && polyipc_python_jput(b, ",", 1) < 0) return -1;
      if ((rc = polyipc_python_jvalue(b, items[i], depth + 1)) != 0) return rc;
    }
    return polyipc_python_jput(b, "]", 1);
  }
  return 1;
}

/* put_json(ptr, obj, priority, timeout_ns) -> None, or NotImplemented when obj
 * holds something only the stdlib encoder handles (nothing was put). */
static PyObject *polyipc_python_queue_put_json(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  NativeQueue *q;
  int64_t priority, timeout_ns;
  char stack[1024];
  polyipc_python_jbuf b;
  int rc;
  (void)self;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "polyipc_python_queue_put_json(ptr, obj, priority, timeout_ns)");
    return NULL;
  }
  if (polyipc_python_queue_arg(args[0], &q) < 0 || polyipc_python_int64_arg(args[2], &priority) < 0 ||
      polyipc_python_int64_arg(args[3], &timeout_ns) < 0)
    return NULL;
  b.p = stack;
  b.len = 0;
  b.cap = sizeof stack;
  b.heap = 0;
  rc = polyipc_python_jvalue(&b, args[1], 0);
  if (rc == 0) rc = polyipc_python_put_data(q, b.p, b.len, priority, timeout_ns) != 0 ? -1 : 0;
  if (b.heap) PyMem_Free(b.p);
  if (rc < 0) return NULL;
  if (rc > 0) Py_RETURN_NOTIMPLEMENTED;
  Py_RETURN_NONE;
}

/* ---- JSON text straight into objects ----
 * The common case of get() on a JSON queue: the message's UTF-8 parsed into
 * dict / list / str / int / float / True / False / None, giving what
 * json.loads(text) gives (duplicate keys: the last wins; \uXXXX escapes with
 * surrogate pairs joined and lone surrogates kept; floats by
 * PyOS_string_to_double on the number's own text, as the stdlib's scanner).
 * Anything else returns 1 and the caller hands the text to the stdlib, which
 * gives the value or raises its usual error: integers outside int64, NaN and
 * Infinity, invalid UTF-8, nesting deeper than 64, bad syntax of any kind. The
 * text is never trusted: every read is bounds-checked. */
typedef struct {
  const unsigned char *p, *end;
} polyipc_python_jin;

#define POLYIPC_PYTHON_JSON_MAX_DEPTH 64

static void polyipc_python_jskip(polyipc_python_jin *in) {
  while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r')) ++in->p;
}

static int polyipc_python_jhex4(const unsigned char *s, Py_UCS4 *out) {
  Py_UCS4 v = 0;
  int i;
  for (i = 0; i < 4; ++i) {
    unsigned char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (Py_UCS4)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (Py_UCS4)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (Py_UCS4)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

/* One strict UTF-8 sequence (as bytes.decode: no overlongs, no surrogates, at
 * most U+10FFFF) at *s < end; advances *s. -1 when invalid. */
static int polyipc_python_jutf8(const unsigned char **s, const unsigned char *end, Py_UCS4 *out) {
  const unsigned char *p = *s;
  unsigned char c = *p;
  Py_UCS4 v;
  int n, i;
  if (c < 0x80) { *out = c; *s = p + 1; return 0; }
  if (c >= 0xC2 && c <= 0xDF) { n = 1; v = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 2; v = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 3; v = c & 0x07; }
  else return -1;
  if (end - p <= n) return -1;
  for (i = 1; i <= n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return -1;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if ((n == 2 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) || (n == 3 && (v < 0x10000 || v > 0x10FFFF)))
    return -1;
  *out = v;
  *s = p + n + 1;
  return 0;
}

/* A string; in->p is just past the opening quote. */
static int polyipc_python_jstring(polyipc_python_jin *in, PyObject **out) {
  const unsigned char *s = in->p, *q = s;
  int ascii = 1;
  /* the plain case: no escape up to the closing quote */
  while (q < in->end && *q != '"' && *q != '\\') {
    if (*q < 0x20) return 1; /* control characters: an error for the stdlib (strict) */
    if (*q >= 0x80) ascii = 0;
    ++q;
  }
  if (q >= in->end) return 1;
  if (*q == '"') {
    if (ascii) {
      PyObject *r = PyUnicode_New(q - s, 127);
      if (!r) return -1;
      memcpy(PyUnicode_DATA(r), s, (size_t)(q - s));
      *out = r;
    } else {
      /* strict, as the stdlib path's bytes.decode: invalid UTF-8 goes there to be reported */
      PyObject *r = PyUnicode_DecodeUTF8((const char *)s, q - s, NULL);
      if (!r) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return -1;
        PyErr_Clear();
        return 1;
      }
      *out = r;
    }
    in->p = q + 1;
    return 0;
  }
  {
    /* escapes: code points into a buffer (never more than the bytes left) */
    Py_UCS4 stackbuf[256], *buf = stackbuf, c;
    Py_ssize_t n = 0, cap = (Py_ssize_t)(sizeof stackbuf / sizeof stackbuf[0]);
    int rc = 1;
    if (in->end - s > cap) {
      cap = in->end - s;
      buf = (Py_UCS4 *)PyMem_Malloc(sizeof(Py_UCS4) * (size_t)cap);
      if (!buf) {
        PyErr_NoMemory();
        return -1;
      }
    }
    q = s;
    for (;;) {
      if (q >= in->end) goto out;
      if (*q == '"') break;
      if (*q == '\\') {
        if (in->end - q < 2) goto out;
        switch (q[1]) {
          case '"': c = '"'; q += 2; break;
          case '\\': c = '\\'; q += 2; break;
          case '/': c = '/'; q += 2; break;
          case 'b': c = '\b'; q += 2; break;
          case 'f': c = '\f'; q += 2; break;
          case 'n': c = '\n'; q += 2; break;
          case 'r': c = '\r'; q += 2; break;
          case 't': c = '\t'; q += 2; break;
          case 'u':
            if (in->end - q < 6 || polyipc_python_jhex4(q + 2, &c) < 0) goto out;
            q += 6;
            /* a high surrogate and \uXXXX: one character when that is a low surrogate,
             * else the high one alone (and the next escape read on its own), as json */
            if (c >= 0xD800 && c <= 0xDBFF && in->end - q >= 2 && q[0] == '\\' && q[1] == 'u') {
              Py_UCS4 c2;
              if (in->end - q < 6 || polyipc_python_jhex4(q + 2, &c2) < 0) goto out;
              if (c2 >= 0xDC00 && c2 <= 0xDFFF) {
                c = 0x10000 + (((c - 0xD800) << 10) | (c2 - 0xDC00));
                q += 6;
              }
            }
            break;
          default: goto out;
        }
      } else if (*q < 0x20) {
        goto out;
      } else if (polyipc_python_jutf8(&q, in->end, &c) < 0) {
        goto out;
      }
      if (n >= cap) goto out; /* cannot happen: every character takes at least one byte */
      buf[n++] = c;
    }
    *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n);
    if (!*out) rc = -1;
    else {
      rc = 0;
      in->p = q + 1;
    }
  out:
    if (buf != stackbuf) PyMem_Free(buf);
    return rc;
  }
}

/* Dict keys repeat from message to message: a short plain ASCII key (no escape)
 * comes from a small direct-mapped cache of str objects, their hash already
 * computed, instead of a new str hashed again by the dict (json's own scanner
 * memoizes keys within one document the same way). Equal keys are equal str
 * objects either way. The GIL guards the cache. */
#define POLYIPC_PYTHON_KEY_CACHE 256 /* a power of two */
#define POLYIPC_PYTHON_KEY_MAX 32
static PyObject *polyipc_python_key_cache[POLYIPC_PYTHON_KEY_CACHE];

/* A dict key; in->p is just past the opening quote. As jstring. */
static int polyipc_python_jkey(polyipc_python_jin *in, PyObject **out) {
  const unsigned char *s = in->p, *q = s, *end = in->end;
  uint32_t hash = 2166136261u; /* FNV-1a */
  Py_ssize_t n;
  PyObject **slot, *r;
  if (end - s > POLYIPC_PYTHON_KEY_MAX + 1) end = s + POLYIPC_PYTHON_KEY_MAX + 1;
  while (q < end && *q != '"') {
    unsigned char c = *q;
    if (c == '\\' || c < 0x20 || c >= 0x80) return polyipc_python_jstring(in, out);
    hash = (hash ^ c) * 16777619u;
    ++q;
  }
  if (q >= end) return polyipc_python_jstring(in, out); /* long, or no closing quote */
  n = q - s;
  slot = &polyipc_python_key_cache[hash & (POLYIPC_PYTHON_KEY_CACHE - 1)];
  r = *slot;
  if (r && PyUnicode_GET_LENGTH(r) == n && memcmp(PyUnicode_DATA(r), s, (size_t)n) == 0) {
    Py_INCREF(r);
  } else {
    if (!(r = PyUnicode_New(n, 127))) return -1;
    memcpy(PyUnicode_DATA(r), s, (size_t)n);
    if (PyObject_Hash(r) == -1) { /* cannot fail for str; computed once, kept with it */
      Py_DECREF(r);
      return -1;
    }
    Py_INCREF(r);
    Py_XSETREF(*slot, r);
  }
  *out = r;
  in->p = q + 1;
  return 0;
}

/* A number, as the stdlib's scanner matches it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static int polyipc_python_jnumber(polyipc_python_jin *in, PyObject **out) {
  const unsigned char *s = in->p, *p = s, *end = in->end, *digits;
  int is_float = 0;
  if (p < end && *p == '-') ++p;
  digits = p;
  if (p >= end || *p < '0' || *p > '9') return 1; /* -Infinity, or an error */
  if (*p == '0') ++p;
  else
    while (p < end && *p >= '0' && *p <= '9') ++p;
  if (p < end && *p == '.') {
    if (p + 1 >= end || p[1] < '0' || p[1] > '9') return 1;
    p += 2;
    while (p < end && *p >= '0' && *p <= '9') ++p;
    is_float = 1;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    const unsigned char *e = p + 1;
    if (e < end && (*e == '+' || *e == '-')) ++e;
    if (e >= end || *e < '0' || *e > '9') return 1;
    while (e < end && *e >= '0' && *e <= '9') ++e;
    p = e;
    is_float = 1;
  }
  if (!is_float) {
    /* int64 here; anything longer goes to the stdlib (int of any size) */
    unsigned long long v = 0;
    const unsigned char *d;
    if (p - digits > 19) return 1;
    for (d = digits; d < p; ++d) v = v * 10 + (unsigned)(*d - '0'); /* 19 digits fit in 64 bits */
    if (digits != s) {
      if (v > 9223372036854775808ULL) return 1;
      *out = v == 9223372036854775808ULL ? PyLong_FromLongLong(LLONG_MIN) : PyLong_FromLongLong(-(long long)v);
    } else {
      if (v > 9223372036854775807ULL) return 1;
      *out = PyLong_FromLongLong((long long)v);
    }
  } else {
    char stack[128], *text = stack, *stop = NULL;
    size_t n = (size_t)(p - s);
    double d;
    if (n >= sizeof stack) {
      text = (char *)PyMem_Malloc(n + 1);
      if (!text) {
        PyErr_NoMemory();
        return -1;
      }
    }
    memcpy(text, s, n);
    text[n] = 0;
    d = PyOS_string_to_double(text, &stop, NULL); /* correctly rounded; overflow gives +-inf, as float() */
    if (d == -1.0 && PyErr_Occurred()) {
      if (text != stack) PyMem_Free(text);
      return -1;
    }
    if (stop != text + n) {
      if (text != stack) PyMem_Free(text);
      return 1;
    }
    if (text != stack) PyMem_Free(text);
    *out = PyFloat_FromDouble(d);
  }
  if (!*out) return -1;
  in->p = p;
  return 0;
}

static int polyipc_python_jparse(polyipc_python_jin *in, PyObject **out, int depth) {
  const unsigned char *p = in->p;
  int rc;
  *out = NULL;
  if (p >= in->end) return 1;
  switch (*p) {
    case '"':
      in->p = p + 1;
      return polyipc_python_jstring(in, out);
    case '{': {
      PyObject *d, *k, *v;
      if (depth >= POLYIPC_PYTHON_JSON_MAX_DEPTH) return 1;
      in->p = p + 1;
      polyipc_python_jskip(in);
      if (!(d = PyDict_New())) return -1;
      if (in->p < in->end && *in->p == '}') {
        ++in->p;
        *out = d;
        return 0;
      }
      for (;;) {
        if (in->p >= in->end || *in->p != '"') { rc = 1; break; }
        ++in->p;
        if ((rc = polyipc_python_jkey(in, &k)) != 0) break;
        polyipc_python_jskip(in);
        if (in->p >= in->end || *in->p != ':') { Py_DECREF(k); rc = 1; break; }
        ++in->p;
        polyipc_python_jskip(in);
        if ((rc = polyipc_python_jparse(in, &v, depth + 1)) != 0) { Py_DECREF(k); break; }
        rc = PyDict_SetItem(d, k, v); /* a duplicate key: the last value wins, as json */
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc < 0) break;
        polyipc_python_jskip(in);
        if (in->p < in->end && *in->p == ',') {
          ++in->p;
          polyipc_python_jskip(in);
          continue;
        }
        if (in->p < in->end && *in->p == '}') {
          ++in->p;
          *out = d;
          return 0;
        }
        rc = 1;
        break;
      }
      Py_DECREF(d);
      return rc;
    }
    case '[': {
      PyObject *l, *v;
      if (depth >= POLYIPC_PYTHON_JSON_MAX_DEPTH) return 1;
      in->p = p + 1;
      polyipc_python_jskip(in);
      if (!(l = PyList_New(0))) return -1;
      if (in->p < in->end && *in->p == ']') {
        ++in->p;
        *out = l;
        return 0;
      }
      for (;;) {
        if ((rc = polyipc_python_jparse(in, &v, depth + 1)) != 0) break;
        rc = PyList_Append(l, v);
        Py_DECREF(v);
        if (rc < 0) break;
        polyipc_python_jskip(in);
        if (in->p < in->end && *in->p == ',') {
          ++in->p;
          polyipc_python_jskip(in);
          continue;
        }
        if (in->p < in->end && *in->p == ']') {
          ++in->p;
          *out = l;
          return 0;
        }
        rc = 1;
        break;
      }
      Py_DECREF(l);
      return rc;
    }
    case 'n':
      if (in->end - p >= 4 && memcmp(p, "null", 4) == 0) { in->p = p + 4; Py_INCREF(Py_None); *out = Py_None; return 0; }
      return 1;
    case 't':
      if (in->end - p >= 4 && memcmp(p, "true", 4) == 0) { in->p = p + 4; Py_INCREF(Py_True); *out = Py_True; return 0; }
      return 1;
    case 'f':
      if (in->end - p >= 5 && memcmp(p, "false", 5) == 0) { in->p = p + 5; Py_INCREF(Py_False); *out = Py_False; return 0; }
      return 1;
    default:
      return polyipc_python_jnumber(in, out);
  }
}

/* The whole message: one value with JSON whitespace around it. 0 and *out, 1
 * for the stdlib, -1 with an exception set. */
static int polyipc_python_jdecode(const char *data, size_t len, PyObject **out) {
  polyipc_python_jin in;
  int rc;
  in.p = (const unsigned char *)data;
  in.end = in.p + len;
  polyipc_python_jskip(&in);
  rc = polyipc_python_jparse(&in, out, 0);
  if (rc != 0) return rc;
  polyipc_python_jskip(&in);
  if (in.p != in.end) { /* extra data: the stdlib's error */
    Py_CLEAR(*out);
    return 1;
  }
  return 0;
}

/* The text to the stdlib: fallback(str), or the UnicodeDecodeError bytes.decode gives. */
static PyObject *polyipc_python_jfallback(PyObject *fallback, const char *data, size_t len) {
  PyObject *text = PyUnicode_DecodeUTF8(data, (Py_ssize_t)len, NULL), *r;
  if (!text) return NULL;
  r = PyObject_CallOneArg(fallback, text);
  Py_DECREF(text);
  return r;
}

/* json_loads(data, fallback) -> object: data (bytes-like, UTF-8 JSON) decoded in C,
 * or fallback(data.decode()) when the C decoder leaves it to the stdlib. */
static PyObject *polyipc_python_json_loads(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  Py_buffer view;
  PyObject *r = NULL;
  int rc;
  (void)self;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "polyipc_python_json_loads(data, fallback)");
    return NULL;
  }
  if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
  rc = polyipc_python_jdecode((const char *)view.buf, (size_t)view.len, &r);
  if (rc > 0) r = polyipc_python_jfallback(args[1], (const char *)view.buf, (size_t)view.len);
  PyBuffer_Release(&view);
  return r;
}

/* The stdlib decoder JSON queues fall back to (the package's decode_text), set at import. */
static PyObject *polyipc_python_json_fallback_fn = NULL;

/* set_json_fallback(fn): get_json hands fn(text) what the C decoder leaves. */
static PyObject *polyipc_python_set_json_fallback(PyObject *self, PyObject *fn) {
  (void)self;
  if (!PyCallable_Check(fn)) {
    PyErr_SetString(PyExc_TypeError, "polyipc_python_set_json_fallback: expected a callable");
    return NULL;
  }
  Py_INCREF(fn);
  Py_XSETREF(polyipc_python_json_fallback_fn, fn);
  Py_RETURN_NONE;
}

/* what: 0 bytes, 1 str, 2 the object the JSON text is (get_json) */
static PyObject *polyipc_python_queue_get_impl(PyObject *const *args, Py_ssize_t nargs, int what) {
  NativeQueue *q;
  int64_t timeout_ns;
  char stack[POLYIPC_PYTHON_STACK_MESSAGE];
  size_t len = 0;
  void *heap = NULL;
  int st;
  polyipc_error e;
  PyObject *r;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "polyipc_python_queue_get(ptr, timeout_ns)");
    return NULL;
  }
  if (polyipc_python_queue_arg(args[0], &q) < 0 || polyipc_python_int64_arg(args[1], &timeout_ns) < 0) return NULL;
  if (what == 2 && !polyipc_python_json_fallback_fn) { /* checked before a message is taken */
    PyErr_SetString(PyExc_RuntimeError, "polyipc_python_queue_get_json: no fallback decoder set");
    return NULL;
  }
  e.code = 0;
  e.message[0] = 0;
  st = polyipc_queue_get_into(q, stack, sizeof stack, &len, POLYIPC_PYTHON_QUICK_NS, &e); /* GIL held */
  if ((st == POLYIPC_ERR_TIMEOUT && timeout_ns != POLYIPC_PYTHON_QUICK_NS) || st == POLYIPC_ERR_TOO_LARGE) {
    Py_BEGIN_ALLOW_THREADS
    if (st == POLYIPC_ERR_TIMEOUT) {
      e.code = 0;
      e.message[0] = 0;
      st = polyipc_queue_get_into(q, stack, sizeof stack, &len, timeout_ns, &e);
    }
    if (st == POLYIPC_ERR_TOO_LARGE) { /* left in the queue: take it in a copy of its size */
      e.code = 0;
      e.message[0] = 0;
      len = 0;
      st = polyipc_queue_get(q, &heap, &len, timeout_ns, &e);
    }
    Py_END_ALLOW_THREADS
  }
  if (st != 0) {
    polyipc_free(heap);
    if (e.code == 0) e.code = st;
    polyipc_python_raise(&e);
    return NULL;
  }
  {
    const char *src = heap ? (const char *)heap : stack;
    if (what == 2) {
      int rc = polyipc_python_jdecode(src, len, &r);
      if (rc < 0) r = NULL;
      else if (rc > 0) r = polyipc_python_jfallback(polyipc_python_json_fallback_fn, src, len);
    } else {
      r = what ? PyUnicode_DecodeUTF8(src, (Py_ssize_t)len, NULL) : PyBytes_FromStringAndSize(src, (Py_ssize_t)len);
    }
  }
  polyipc_free(heap);
  return r;
}

/* get_json(ptr, timeout_ns) -> object: the JSON message decoded in C, or by the
 * fallback set with set_json_fallback when only the stdlib handles it */
static PyObject *polyipc_python_queue_get_json(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  return polyipc_python_queue_get_impl(args, nargs, 2);
}

/* get(ptr, timeout_ns) -> bytes */
static PyObject *polyipc_python_queue_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  return polyipc_python_queue_get_impl(args, nargs, 0);
}

/* get_text(ptr, timeout_ns) -> str (the message decoded as UTF-8) */
static PyObject *polyipc_python_queue_get_text(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  return polyipc_python_queue_get_impl(args, nargs, 1);
}

static PyMethodDef polyipc_python_fast_methods[] = {
  {"polyipc_python_queue_put", (PyCFunction)(void (*)(void))polyipc_python_queue_put, METH_FASTCALL,
   "polyipc_python_queue_put(ptr, data, priority, timeout_ns): NativeQueue_put without SWIG's argument handling"},
  {"polyipc_python_queue_put_json", (PyCFunction)(void (*)(void))polyipc_python_queue_put_json, METH_FASTCALL,
   "polyipc_python_queue_put_json(ptr, obj, priority, timeout_ns): obj as compact JSON; NotImplemented: use the stdlib"},
  {"polyipc_python_queue_get", (PyCFunction)(void (*)(void))polyipc_python_queue_get, METH_FASTCALL,
   "polyipc_python_queue_get(ptr, timeout_ns) -> bytes: NativeQueue_get through a stack buffer"},
  {"polyipc_python_queue_get_text", (PyCFunction)(void (*)(void))polyipc_python_queue_get_text, METH_FASTCALL,
   "polyipc_python_queue_get_text(ptr, timeout_ns) -> str: the message decoded as UTF-8"},
  {"polyipc_python_queue_get_json", (PyCFunction)(void (*)(void))polyipc_python_queue_get_json, METH_FASTCALL,
   "polyipc_python_queue_get_json(ptr, timeout_ns) -> object: the JSON message decoded (C, else the fallback)"},
  {"polyipc_python_set_json_fallback", (PyCFunction)polyipc_python_set_json_fallback, METH_O,
   "polyipc_python_set_json_fallback(fn): the decoder get_json calls as fn(text) for what it leaves to the stdlib"},
  {"polyipc_python_json_loads", (PyCFunction)(void (*)(void))polyipc_python_json_loads, METH_FASTCALL,
   "polyipc_python_json_loads(data, fallback) -> object: UTF-8 JSON decoded in C, else fallback(text)"},
  {NULL, NULL, 0, NULL}
};
%}

%init %{
  if (PyModule_AddFunctions(m, polyipc_python_fast_methods) < 0) return NULL;
%}

/* ---- the queue classes' put/get as methods of a C base class ----------------
 * polyipc.Queue (and JoinableQueue, SimpleQueue) derive from QueueBase, so
 * q.put / q.get / q.put_bytes / q.get_bytes are C methods: the common call
 * (put(obj) / get() with the defaults, waiting forever, and the queue's
 * default codec) runs here without a Python frame, with the handle's state
 * (QueueHandle: the pointer, the in-flight count and the closed flag, the C
 * form of _handle.Handle) in C. Any other call (block=False, a timeout, a
 * priority, keywords, a custom dumps/loads, a type the default codec leaves to
 * the stdlib) goes to the package's Python method of the same meaning
 * (_put_slow, _get_slow, _put_bytes_slow, _get_bytes_slow) with the same
 * arguments. A wait is a first attempt with the GIL held
 * (POLYIPC_PYTHON_QUICK_NS), then 50 ms slices with the GIL released; between
 * slices, pending signals run (Ctrl-C raises KeyboardInterrupt) and a close()
 * from another thread ends the call with ValueError, as the package's own
 * loops did. */
%{
#define POLYIPC_PYTHON_SLICE_NS ((int64_t)50000000)

/* QueueHandle(ptr, what, free=None): a native pointer shared by threads,
 * released exactly once (free(ptr)) and never while a call borrows it. Every
 * state change happens with the GIL held, so a counter does what
 * _handle.Handle's token list does. */
struct polyipc_python_Lease; /* a Reservation or a Borrowed message (zero copy, below) */

typedef struct {
  PyObject_HEAD
  NativeQueue *q;      /* NULL for a handle of nothing (ptr None) */
  PyObject *ptr;       /* the SWIG pointer object */
  PyObject *what;      /* "Queue 'jobs'": names the object in errors */
  PyObject *free_fn;   /* the native destructor, called once as free_fn(ptr) */
  Py_ssize_t calls;    /* calls in flight; each live Reservation / Borrowed counts as one */
  int closed;
  int released;
  struct polyipc_python_Lease *leases; /* the live Reservations and Borrowed messages made through it */
} polyipc_python_Handle;

static PyTypeObject polyipc_python_HandleType;
static int polyipc_python_h_end_leases(polyipc_python_Handle *h);

static void polyipc_python_h_closed_error(polyipc_python_Handle *h) {
  PyErr_Format(PyExc_ValueError, "%S is closed", h->what);
}

static int polyipc_python_h_release(polyipc_python_Handle *h) {
  PyObject *r;
  if (h->released) return 0;
  h->released = 1;
  h->q = NULL;
  if (h->ptr == Py_None || h->free_fn == Py_None) return 0;
  r = PyObject_CallOneArg(h->free_fn, h->ptr);
  if (!r) return -1;
  Py_DECREF(r);
  return 0;
}

/* Borrows the pointer for one call: -1 (ValueError set) when the handle is closed. */
static int polyipc_python_h_enter(polyipc_python_Handle *h) {
  if (h->closed) {
    polyipc_python_h_closed_error(h);
    return -1;
  }
  ++h->calls;
  return 0;
}

/* Ends a call; the last call out of a closed handle releases it. */
static int polyipc_python_h_leave(polyipc_python_Handle *h) {
  if (--h->calls <= 0) {
    h->calls = 0;
    if (h->closed) return polyipc_python_h_release(h);
  }
  return 0;
}

/* leave() on the way out of a call that returns r (NULL: an exception is set,
 * which a failing release replaces, as a raising `finally:` would). */
static PyObject *polyipc_python_h_leave_with(polyipc_python_Handle *h, PyObject *r) {
  if (!r) {
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (polyipc_python_h_leave(h) < 0) {
      Py_XDECREF(t);
      Py_XDECREF(v);
      Py_XDECREF(tb);
      return NULL;
    }
    PyErr_Restore(t, v, tb);
    return NULL;
  }
  if (polyipc_python_h_leave(h) < 0) {
    Py_DECREF(r);
    return NULL;
  }
  return r;
}

static PyObject *polyipc_python_h_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  static char *kwlist[] = {"ptr", "what", "free", NULL};
  PyObject *ptr, *what, *free_fn = Py_None;
  NativeQueue *q = NULL;
  polyipc_python_Handle *h;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:QueueHandle", kwlist, &ptr, &what, &free_fn)) return NULL;
  if (ptr != Py_None && polyipc_python_queue_arg(ptr, &q) < 0) return NULL;
  if (free_fn != Py_None && !PyCallable_Check(free_fn)) {
    PyErr_SetString(PyExc_TypeError, "QueueHandle: free must be callable or None");
    return NULL;
  }
  h = (polyipc_python_Handle *)type->tp_alloc(type, 0);
  if (!h) return NULL;
  h->q = q;
  Py_INCREF(ptr);
  h->ptr = ptr;
  Py_INCREF(what);
  h->what = what;
  Py_INCREF(free_fn);
  h->free_fn = free_fn;
  return (PyObject *)h;
}

static void polyipc_python_h_dealloc(polyipc_python_Handle *h) {
  /* not released: the SWIG pointer object, if it owns the queue, closes it when it goes */
  Py_XDECREF(h->ptr);
  Py_XDECREF(h->what);
  Py_XDECREF(h->free_fn);
  Py_TYPE(h)->tp_free((PyObject *)h);
}

static PyObject *polyipc_python_h_enter_m(PyObject *self, PyObject *unused) {
  polyipc_python_Handle *h = (polyipc_python_Handle *)self;
  (void)unused;
  if (polyipc_python_h_enter(h) < 0) return NULL;
  Py_INCREF(h->ptr);
  return h->ptr;
}

static PyObject *polyipc_python_h_leave_m(PyObject *self, PyObject *unused) {
  (void)unused;
  if (polyipc_python_h_leave((polyipc_python_Handle *)self) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *polyipc_python_h_check_m(PyObject *self, PyObject *unused) {
  (void)unused;
  if (((polyipc_python_Handle *)self)->closed) {
    polyipc_python_h_closed_error((polyipc_python_Handle *)self);
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *polyipc_python_h_close_m(PyObject *self, PyObject *unused) {
  polyipc_python_Handle *h = (polyipc_python_Handle *)self;
  (void)unused;
  /* live Reservations are cancelled and Borrowed messages released first, or
   * BufferError (and nothing changes) while a memoryview made from one is alive */
  if (!h->closed && h->leases && polyipc_python_h_end_leases(h) < 0) return NULL;
  h->closed = 1;
  if (h->calls == 0 && polyipc_python_h_release(h) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *polyipc_python_h_closed_error_m(PyObject *self, PyObject *unused) {
  PyObject *msg = PyUnicode_FromFormat("%S is closed", ((polyipc_python_Handle *)self)->what), *r;
  (void)unused;
  if (!msg) return NULL;
  r = PyObject_CallOneArg(PyExc_ValueError, msg);
  Py_DECREF(msg);
  return r;
}

static PyObject *polyipc_python_h_release_m(PyObject *self, PyObject *unused) {
  (void)unused;
  if (polyipc_python_h_release((polyipc_python_Handle *)self) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *polyipc_python_h_get_ptr(PyObject *self, void *c) {
  (void)c;
  Py_INCREF(((polyipc_python_Handle *)self)->ptr);
  return ((polyipc_python_Handle *)self)->ptr;
}

static PyObject *polyipc_python_h_get_what(PyObject *self, void *c) {
  (void)c;
  Py_INCREF(((polyipc_python_Handle *)self)->what);
  return ((polyipc_python_Handle *)self)->what;
}

static PyObject *polyipc_python_h_get_calls(PyObject *self, void *c) {
  (void)c;
  return PyLong_FromSsize_t(((polyipc_python_Handle *)self)->calls);
}

static PyObject *polyipc_python_h_get_closed(PyObject *self, void *c) {
  (void)c;
  return PyBool_FromLong(((polyipc_python_Handle *)self)->closed);
}

static int polyipc_python_h_set_closed(PyObject *self, PyObject *v, void *c) {
  int t;
  (void)c;
  if (!v) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete 'closed'");
    return -1;
  }
  if ((t = PyObject_IsTrue(v)) < 0) return -1;
  ((polyipc_python_Handle *)self)->closed = t;
  return 0;
}

static PyMethodDef polyipc_python_h_methods[] = {
  {"enter", polyipc_python_h_enter_m, METH_NOARGS, "Borrows the pointer for one call (ValueError when closed); pair with leave()."},
  {"leave", polyipc_python_h_leave_m, METH_NOARGS, "Ends a call; the last call out of a closed handle releases it."},
  {"check", polyipc_python_h_check_m, METH_NOARGS, "Between wait slices: ValueError when close() was called meanwhile."},
  {"close", polyipc_python_h_close_m, METH_NOARGS,
   "Closes: ends live Reservations / Borrowed messages (BufferError while views of one are alive), then\n"
   "releases now, or when the last call in flight leaves."},
  {"closed_error", polyipc_python_h_closed_error_m, METH_NOARGS, "The ValueError a closed handle raises."},
  {"_release", polyipc_python_h_release_m, METH_NOARGS, "Releases the native object (once)."},
  {NULL, NULL, 0, NULL}
};

static PyGetSetDef polyipc_python_h_getset[] = {
  {"ptr", polyipc_python_h_get_ptr, NULL, "the SWIG pointer object", NULL},
  {"what", polyipc_python_h_get_what, NULL, "names the object in errors", NULL},
  {"calls", polyipc_python_h_get_calls, NULL, "calls in flight", NULL},
  {"closed", polyipc_python_h_get_closed, polyipc_python_h_set_closed, "True once close() was called", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject polyipc_python_HandleType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "_polyipc_native.QueueHandle",
  .tp_basicsize = sizeof(polyipc_python_Handle),
  .tp_dealloc = (destructor)polyipc_python_h_dealloc,
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "QueueHandle(ptr, what, free=None): a queue pointer shared by threads, released once (free(ptr)), never under a call.",
  .tp_methods = polyipc_python_h_methods,
  .tp_getset = polyipc_python_h_getset,
  .tp_new = polyipc_python_h_new,
};

/* Puts, waiting forever: a first attempt with the GIL held, then slices without it.
 * 0, or -1 with the exception set. */
static int polyipc_python_put_forever(polyipc_python_Handle *h, const void *buf, size_t len, int64_t priority) {
  polyipc_error e;
  int st;
  e.code = 0;
  e.message[0] = 0;
  st = polyipc_queue_put_priority(h->q, buf, len, priority, POLYIPC_PYTHON_QUICK_NS, &e); /* GIL held */
  while (st == POLYIPC_ERR_TIMEOUT) {
    e.code = 0;
    e.message[0] = 0;
    Py_BEGIN_ALLOW_THREADS
    st = polyipc_queue_put_priority(h->q, buf, len, priority, POLYIPC_PYTHON_SLICE_NS, &e);
    Py_END_ALLOW_THREADS
    if (st != POLYIPC_ERR_TIMEOUT) break;
    if (PyErr_CheckSignals() < 0) return -1;
    if (h->closed) {
      polyipc_python_h_closed_error(h);
      return -1;
    }
  }
  if (st != 0) {
    if (e.code == 0) e.code = st;
    polyipc_python_raise(&e);
    return -1;
  }
  return 0;
}

/* Takes one message, waiting forever as put_forever; what: 0 bytes, 2 the JSON value. */
static PyObject *polyipc_python_get_forever(polyipc_python_Handle *h, int what) {
  char stack[POLYIPC_PYTHON_STACK_MESSAGE];
  size_t len = 0;
  void *heap = NULL;
  int st;
  polyipc_error e;
  PyObject *r;
  e.code = 0;
  e.message[0] = 0;
  st = polyipc_queue_get_into(h->q, stack, sizeof stack, &len, POLYIPC_PYTHON_QUICK_NS, &e); /* GIL held */
  while (st == POLYIPC_ERR_TIMEOUT || st == POLYIPC_ERR_TOO_LARGE) {
    e.code = 0;
    e.message[0] = 0;
    Py_BEGIN_ALLOW_THREADS
    if (st == POLYIPC_ERR_TIMEOUT) st = polyipc_queue_get_into(h->q, stack, sizeof stack, &len, POLYIPC_PYTHON_SLICE_NS, &e);
    if (st == POLYIPC_ERR_TOO_LARGE) { /* left in the queue: take it in a copy of its size */
      e.code = 0;
      e.message[0] = 0;
      len = 0;
      st = polyipc_queue_get(h->q, &heap, &len, POLYIPC_PYTHON_SLICE_NS, &e);
    }
    Py_END_ALLOW_THREADS
    if (st != POLYIPC_ERR_TIMEOUT) break;
    if (PyErr_CheckSignals() < 0) return NULL;
    if (h->closed) {
      polyipc_python_h_closed_error(h);
      return NULL;
    }
  }
  if (st != 0) {
    polyipc_free(heap);
    if (e.code == 0) e.code = st;
    polyipc_python_raise(&e);
    return NULL;
  }
  {
    const char *src = heap ? (const char *)heap : stack;
    if (what == 2) {
      int rc = polyipc_python_jdecode(src, len, &r);
      if (rc < 0) r = NULL;
      else if (rc > 0) r = polyipc_python_jfallback(polyipc_python_json_fallback_fn, src, len);
    } else {
      r = PyBytes_FromStringAndSize(src, (Py_ssize_t)len);
    }
  }
  polyipc_free(heap);
  return r;
}

/* QueueBase: the C part of the package's queue classes. put_kind / get_kind
 * (set by _set_fast): 0 the Python method for every call, 1 bytes as they
 * are (a BYTES queue without dumps/loads), 2 the C JSON codec (a JSON queue
 * without dumps / loads). */
typedef struct {
  PyObject_HEAD
  polyipc_python_Handle *handle; /* the _handle attribute */
  int put_kind, get_kind;
} polyipc_python_QueueBase;

static PyObject *polyipc_python_s_put_slow, *polyipc_python_s_get_slow, *polyipc_python_s_put_bytes_slow,
    *polyipc_python_s_get_bytes_slow;

/* The same call, made to the Python method `name` of self. */
static PyObject *polyipc_python_qb_slow(PyObject *self, PyObject *name, PyObject *const *args, Py_ssize_t nargs,
                                        PyObject *kwnames) {
  PyObject *m = PyObject_GetAttr(self, name), *r;
  if (!m) return NULL;
  r = PyObject_Vectorcall(m, args, (size_t)nargs, kwnames);
  Py_DECREF(m);
  return r;
}

/* put(obj, block=True, timeout=None, *, priority=0) */
static PyObject *polyipc_python_qb_put(PyObject *self_, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  polyipc_python_Handle *h = self->handle;
  PyObject *obj;
  int rc;
  if (nargs != 1 || kwnames || !h || self->put_kind == 0) goto slow;
  obj = args[0];
  if (self->put_kind == 1) {
    if (!PyBytes_CheckExact(obj)) goto slow; /* bytearray, memoryview, the TypeError for others ... */
    if (polyipc_python_h_enter(h) < 0) return NULL;
    /* obj is immutable and the caller's reference keeps it alive without the GIL */
    rc = polyipc_python_put_forever(h, PyBytes_AS_STRING(obj), (size_t)PyBytes_GET_SIZE(obj), 0);
  } else {
    char stack[1024];
    polyipc_python_jbuf b;
    if (polyipc_python_h_enter(h) < 0) return NULL;
    b.p = stack;
    b.len = 0;
    b.cap = sizeof stack;
    b.heap = 0;
    rc = polyipc_python_jvalue(&b, obj, 0); /* runs no Python code */
    if (rc == 0) rc = polyipc_python_put_forever(h, b.p, b.len, 0);
    if (b.heap) PyMem_Free(b.p);
    if (rc > 0) { /* only the stdlib encodes it: the Python path, from the start */
      if (polyipc_python_h_leave(h) < 0) return NULL;
      goto slow;
    }
  }
  if (rc < 0) return polyipc_python_h_leave_with(h, NULL);
  Py_INCREF(Py_None);
  return polyipc_python_h_leave_with(h, Py_None);
slow:
  return polyipc_python_qb_slow(self_, polyipc_python_s_put_slow, args, nargs, kwnames);
}

/* get(block=True, timeout=None) */
static PyObject *polyipc_python_qb_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  polyipc_python_Handle *h = self->handle;
  if (nargs != 0 || kwnames || !h || self->get_kind == 0 || (self->get_kind == 2 && !polyipc_python_json_fallback_fn))
    return polyipc_python_qb_slow(self_, polyipc_python_s_get_slow, args, nargs, kwnames);
  if (polyipc_python_h_enter(h) < 0) return NULL;
  return polyipc_python_h_leave_with(h, polyipc_python_get_forever(h, self->get_kind));
}

/* put_bytes(data, block=True, timeout=None, *, priority=0): str (its UTF-8) or any contiguous buffer */
static PyObject *polyipc_python_qb_put_bytes(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
                                             PyObject *kwnames) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  polyipc_python_Handle *h = self->handle;
  PyObject *data;
  Py_buffer view;
  int have_view = 0, rc;
  const void *buf;
  Py_ssize_t len;
  if (nargs != 1 || kwnames || !h)
    return polyipc_python_qb_slow(self_, polyipc_python_s_put_bytes_slow, args, nargs, kwnames);
  if (polyipc_python_h_enter(h) < 0) return NULL;
  data = args[0];
  if (PyBytes_Check(data)) { /* immutable: the caller's reference keeps it alive without the GIL */
    buf = PyBytes_AS_STRING(data);
    len = PyBytes_GET_SIZE(data);
  } else if (PyUnicode_Check(data)) { /* its UTF-8, cached by the str itself */
    buf = PyUnicode_AsUTF8AndSize(data, &len);
    if (!buf) return polyipc_python_h_leave_with(h, NULL);
  } else { /* bytearray, memoryview ...: the export pins the buffer */
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return polyipc_python_h_leave_with(h, NULL);
    have_view = 1;
    buf = view.buf;
    len = view.len;
  }
  rc = polyipc_python_put_forever(h, buf, (size_t)len, 0);
  if (have_view) PyBuffer_Release(&view);
  if (rc < 0) return polyipc_python_h_leave_with(h, NULL);
  Py_INCREF(Py_None);
  return polyipc_python_h_leave_with(h, Py_None);
}

/* get_bytes(block=True, timeout=None) -> bytes */
static PyObject *polyipc_python_qb_get_bytes(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
                                             PyObject *kwnames) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  polyipc_python_Handle *h = self->handle;
  if (nargs != 0 || kwnames || !h)
    return polyipc_python_qb_slow(self_, polyipc_python_s_get_bytes_slow, args, nargs, kwnames);
  if (polyipc_python_h_enter(h) < 0) return NULL;
  return polyipc_python_h_leave_with(h, polyipc_python_get_forever(h, 0));
}

/* _set_fast(put_kind, get_kind) */
static PyObject *polyipc_python_qb_set_fast(PyObject *self_, PyObject *const *args, Py_ssize_t nargs) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  long p, g;
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "_set_fast(put_kind, get_kind)");
    return NULL;
  }
  if ((p = PyLong_AsLong(args[0])) == -1 && PyErr_Occurred()) return NULL;
  if ((g = PyLong_AsLong(args[1])) == -1 && PyErr_Occurred()) return NULL;
  if (p < 0 || p > 2 || g < 0 || g > 2) {
    PyErr_SetString(PyExc_ValueError, "_set_fast: kinds are 0 (Python), 1 (bytes) or 2 (JSON)");
    return NULL;
  }
  self->put_kind = (int)p;
  self->get_kind = (int)g;
  Py_RETURN_NONE;
}

static PyObject *polyipc_python_qb_get_handle(PyObject *self_, void *c) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  (void)c;
  if (!self->handle) {
    PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '_handle'", Py_TYPE(self_)->tp_name);
    return NULL;
  }
  Py_INCREF(self->handle);
  return (PyObject *)self->handle;
}

static int polyipc_python_qb_set_handle(PyObject *self_, PyObject *v, void *c) {
  polyipc_python_QueueBase *self = (polyipc_python_QueueBase *)self_;
  (void)c;
  if (!v || !PyObject_TypeCheck(v, &polyipc_python_HandleType)) {
    PyErr_SetString(PyExc_TypeError, "_handle must be a QueueHandle");
    return -1;
  }
  Py_INCREF(v);
  Py_XSETREF(self->handle, (polyipc_python_Handle *)v);
  return 0;
}

static PyObject *polyipc_python_qb_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  (void)args;
  (void)kwds; /* the subclass's __init__ takes the arguments */
  return type->tp_alloc(type, 0);
}

static void polyipc_python_qb_dealloc(PyObject *self) {
  Py_CLEAR(((polyipc_python_QueueBase *)self)->handle);
  Py_TYPE(self)->tp_free(self);
}

static PyMethodDef polyipc_python_qb_methods[] = {
  {"put", (PyCFunction)(void (*)(void))polyipc_python_qb_put, METH_FASTCALL | METH_KEYWORDS,
   "put(obj, block=True, timeout=None, *, priority=0)\n--\n\n"
   "Puts obj (as JSON on a JSON queue). Raises queue.Full (polyipc.Full) when there is\n"
   "no room in time, polyipc.Closed after close_writes(), ValueError when this handle is\n"
   "closed or obj cannot be encoded. priority: lowest first, on PRIORITY queues."},
  {"get", (PyCFunction)(void (*)(void))polyipc_python_qb_get, METH_FASTCALL | METH_KEYWORDS,
   "get(block=True, timeout=None)\n--\n\n"
   "Takes the next object. Raises queue.Empty (polyipc.Empty) when none comes in time,\n"
   "polyipc.Closed (an EOFError) once the queue is closed for writing and drained."},
  {"put_bytes", (PyCFunction)(void (*)(void))polyipc_python_qb_put_bytes, METH_FASTCALL | METH_KEYWORDS,
   "put_bytes(data, block=True, timeout=None, *, priority=0)\n--\n\n"
   "Puts raw bytes (or str, as UTF-8). A JSON-format queue still checks they are JSON."},
  {"get_bytes", (PyCFunction)(void (*)(void))polyipc_python_qb_get_bytes, METH_FASTCALL | METH_KEYWORDS,
   "get_bytes(block=True, timeout=None)\n--\n\n"
   "Takes the next message as raw bytes, whatever the format."},
  {"_set_fast", (PyCFunction)(void (*)(void))polyipc_python_qb_set_fast, METH_FASTCALL,
   "_set_fast(put_kind, get_kind): 0 the Python methods, 1 bytes, 2 the C JSON codec"},
  {NULL, NULL, 0, NULL}
};

static PyGetSetDef polyipc_python_qb_getset[] = {
  {"_handle", polyipc_python_qb_get_handle, polyipc_python_qb_set_handle, "the QueueHandle", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject polyipc_python_QueueBaseType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "_polyipc_native.QueueBase",
  .tp_basicsize = sizeof(polyipc_python_QueueBase),
  .tp_dealloc = polyipc_python_qb_dealloc,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
  .tp_doc = "The C part of polyipc's queue classes: put/get (and put_bytes/get_bytes) on the hot path.",
  .tp_methods = polyipc_python_qb_methods,
  .tp_getset = polyipc_python_qb_getset,
  .tp_new = polyipc_python_qb_new,
};
%}

%init %{
  if (PyType_Ready(&polyipc_python_HandleType) < 0 || PyType_Ready(&polyipc_python_QueueBaseType) < 0) return NULL;
  if (!(polyipc_python_s_put_slow = PyUnicode_InternFromString("_put_slow")) ||
      !(polyipc_python_s_get_slow = PyUnicode_InternFromString("_get_slow")) ||
      !(polyipc_python_s_put_bytes_slow = PyUnicode_InternFromString("_put_bytes_slow")) ||
      !(polyipc_python_s_get_bytes_slow = PyUnicode_InternFromString("_get_bytes_slow")))
    return NULL;
  Py_INCREF(&polyipc_python_HandleType);
  if (PyModule_AddObject(m, "QueueHandle", (PyObject *)&polyipc_python_HandleType) < 0) return NULL;
  Py_INCREF(&polyipc_python_QueueBaseType);
  if (PyModule_AddObject(m, "QueueBase", (PyObject *)&polyipc_python_QueueBaseType) < 0) return NULL;
%}

/* ---- zero copy: Reservation and Borrowed, the bytes in the ring itself -------
 * polyipc_python_queue_reserve(handle, n, timeout_ns) -> Reservation and
 * polyipc_python_queue_borrow(handle, timeout_ns) -> Borrowed make one attempt
 * (the package's reserve() / borrow() wait in slices, as put / get do). Both
 * objects export their bytes through the buffer protocol (a Borrowed one read
 * only) and count the exports, as bytearray and mmap do, so that the bytes are
 * never given back to the ring, nor the ring unmapped, under a live view:
 *   - .buf is a memoryview of the bytes, the same object while it is alive;
 *   - commit() / cancel() / release() raise BufferError, and change nothing,
 *     while anything made from it (a slice, a cast, memoryview(buf), a numpy
 *     array) or another memoryview of the object is alive; else they release
 *     .buf (later use of it raises ValueError, as any released memoryview) and
 *     end the ticket; a second end is polyipc.InvalidArgument, as in C;
 *   - a live one holds one of its handle's calls, so the queue stays mapped
 *     while it lives whatever happens to the Queue object; QueueHandle.close()
 *     cancels / releases the live ones first, or raises BufferError (closing
 *     nothing) while a view of one is alive, as SharedMemory.close() does;
 *   - one garbage-collected while live (no view of it can be alive then: each
 *     holds a reference) is cancelled / released.
 * Everything happens with the GIL held but the native commit / cancel /
 * release of a method call, during which the object is ENDING: every other
 * use of it (another thread's) is refused. */
%{
#define POLYIPC_PYTHON_LEASE_NEW 0    /* no ticket yet */
#define POLYIPC_PYTHON_LEASE_LIVE 1   /* holds a ticket, linked in its handle's list */
#define POLYIPC_PYTHON_LEASE_ENDING 2 /* its native end runs (GIL released) */
#define POLYIPC_PYTHON_LEASE_ENDED 3

#ifndef Py_TPFLAGS_DISALLOW_INSTANTIATION
#define Py_TPFLAGS_DISALLOW_INSTANTIATION 0 /* before 3.10 a static type never inherits object.__new__ */
#endif

#define POLYIPC_PYTHON_COMMIT 0
#define POLYIPC_PYTHON_CANCEL 1
#define POLYIPC_PYTHON_RELEASE 2

typedef struct polyipc_python_Lease {
  PyObject_HEAD
  polyipc_python_Handle *handle; /* strong; while live, one of its calls */
  struct polyipc_python_Lease *prev, *next; /* the handle's live leases */
  char *data;
  size_t len;
  uint64_t ticket;
  int state;
  const char *ended;  /* how it ended: "committed", "cancelled", ... */
  Py_ssize_t exports; /* buffers exported: one per managed buffer (memoryview and its slices) */
  PyObject *view;     /* weak reference to the memoryview .buf handed out last, or NULL */
} polyipc_python_Lease;

static PyTypeObject polyipc_python_ReservationType, polyipc_python_BorrowedType;

static int polyipc_python_lease_borrowed(polyipc_python_Lease *l) {
  return Py_TYPE(l) == &polyipc_python_BorrowedType;
}

/* how one that is not committed ends: cancelled / released */
static int polyipc_python_lease_drop_op(polyipc_python_Lease *l) {
  return polyipc_python_lease_borrowed(l) ? POLYIPC_PYTHON_RELEASE : POLYIPC_PYTHON_CANCEL;
}

static const char *polyipc_python_lease_kind(polyipc_python_Lease *l) {
  return polyipc_python_lease_borrowed(l) ? "Borrowed message" : "Reservation";
}

/* "Queue 'jobs'" as UTF-8 (never NULL) */
static const char *polyipc_python_lease_what(polyipc_python_Lease *l) {
  const char *s = NULL;
  if (l->handle && PyUnicode_Check(l->handle->what)) s = PyUnicode_AsUTF8(l->handle->what);
  if (!s) {
    PyErr_Clear();
    s = "queue";
  }
  return s;
}

/* polyipc.InvalidArgument (a ValueError) for a use of a lease that is not live */
static void polyipc_python_lease_not_live(polyipc_python_Lease *l, const char *doing) {
  polyipc_error e;
  e.code = POLYIPC_ERR_INVALID_ARG;
  if (l->state == POLYIPC_PYTHON_LEASE_ENDING)
    snprintf(e.message, sizeof e.message, "cannot %s: the %s of %zu bytes in %s is being ended by another thread",
             doing, polyipc_python_lease_kind(l), l->len, polyipc_python_lease_what(l));
  else
    snprintf(e.message, sizeof e.message, "cannot %s: the %s of %zu bytes in %s was %s already", doing,
             polyipc_python_lease_kind(l), l->len, polyipc_python_lease_what(l), l->ended ? l->ended : "ended");
  polyipc_python_raise(&e);
}

/* The memoryview .buf handed out last, if it is alive and not released (a new reference), else NULL. */
static PyObject *polyipc_python_lease_view(polyipc_python_Lease *l) {
  PyObject *mv = NULL;
  if (!l->view) return NULL;
#if PY_VERSION_HEX >= 0x030D0000
  if (PyWeakref_GetRef(l->view, &mv) < 0) {
    PyErr_Clear();
    mv = NULL;
  }
#else
  mv = PyWeakref_GetObject(l->view); /* borrowed */
  if (!mv || mv == Py_None) {
    PyErr_Clear();
    mv = NULL;
  } else {
    Py_INCREF(mv);
  }
#endif
  if (mv && (((PyMemoryViewObject *)mv)->flags & _Py_MEMORYVIEW_RELEASED)) Py_CLEAR(mv);
  if (!mv) Py_CLEAR(l->view);
  return mv;
}

/* 1 when a buffer of the lease is in use: one exported but for .buf's own, or
 * .buf has a view made from it (slice, cast, memoryview(buf): they share its
 * managed buffer) or an export of its own (numpy array, ...); else 0. Reads
 * the two export counts of CPython's memoryview objects (memoryobject.h, not
 * the limited API), so the check comes before anything changes. */
static int polyipc_python_lease_busy(polyipc_python_Lease *l) {
  Py_ssize_t own = 0;
  PyObject *mv = polyipc_python_lease_view(l);
  if (mv) {
    PyMemoryViewObject *m = (PyMemoryViewObject *)mv;
    int busy = m->exports > 0 || (m->mbuf && m->mbuf->exports > 1);
    Py_DECREF(mv);
    if (busy) return 1;
    own = 1;
  }
  return l->exports > own;
}

static void polyipc_python_lease_busy_error(polyipc_python_Lease *l, const char *doing) {
  PyErr_Format(PyExc_BufferError,
               "cannot %s: memoryviews of the %s of %zu bytes in %s are still alive (slices, casts, "
               "memoryview(buf), arrays made from its buf); release or delete them first",
               doing, polyipc_python_lease_kind(l), l->len, polyipc_python_lease_what(l));
}

/* Releases .buf (not busy: it cannot fail) and forgets it. */
static void polyipc_python_lease_drop_view(polyipc_python_Lease *l) {
  PyObject *mv = polyipc_python_lease_view(l), *r;
  if (mv) {
    r = PyObject_CallMethod(mv, "release", NULL);
    if (r) Py_DECREF(r);
    else PyErr_Clear();
    Py_DECREF(mv);
  }
  Py_CLEAR(l->view);
}

static void polyipc_python_lease_link(polyipc_python_Lease *l, polyipc_python_Handle *h) {
  l->prev = NULL;
  l->next = h->leases;
  if (h->leases) h->leases->prev = l;
  h->leases = l;
}

static void polyipc_python_lease_unlink(polyipc_python_Lease *l) {
  polyipc_python_Handle *h = l->handle;
  if (l->prev) l->prev->next = l->next;
  else if (h && h->leases == l) h->leases = l->next;
  if (l->next) l->next->prev = l->prev;
  l->prev = l->next = NULL;
}

/* The native end of a lease marked ENDING (its handle's queue is still mapped:
 * the lease holds one of its calls): commit, cancel or release, with the GIL
 * released unless keep_gil. Then ENDED and unlinked; the caller leaves the
 * handle. Returns the status, e filled when it is not OK. */
static int polyipc_python_lease_finish(polyipc_python_Lease *l, int op, int keep_gil, polyipc_error *e) {
  NativeQueue *q = l->handle->q;
  uint64_t ticket = l->ticket;
  int st;
  e->code = 0;
  e->message[0] = 0;
  if (keep_gil) {
    st = op == POLYIPC_PYTHON_COMMIT   ? polyipc_queue_commit(q, ticket, e)
         : op == POLYIPC_PYTHON_CANCEL ? polyipc_queue_cancel(q, ticket, e)
                                       : polyipc_queue_release(q, ticket, e);
  } else {
    Py_BEGIN_ALLOW_THREADS
    st = op == POLYIPC_PYTHON_COMMIT   ? polyipc_queue_commit(q, ticket, e)
         : op == POLYIPC_PYTHON_CANCEL ? polyipc_queue_cancel(q, ticket, e)
                                       : polyipc_queue_release(q, ticket, e);
    Py_END_ALLOW_THREADS
  }
  if (st != 0 && e->code == 0) e->code = st;
  l->state = POLYIPC_PYTHON_LEASE_ENDED;
  if (op == POLYIPC_PYTHON_COMMIT)
    l->ended = st == 0                           ? "committed"
               : st == POLYIPC_ERR_INVALID_JSON ? "dropped (invalid JSON)"
                                                : "ended (failed commit)";
  else
    l->ended = op == POLYIPC_PYTHON_CANCEL ? "cancelled" : "released";
  polyipc_python_lease_unlink(l);
  return st;
}

/* commit() / cancel() / release(): None, or NULL with the exception set */
static PyObject *polyipc_python_lease_end(polyipc_python_Lease *l, int op) {
  static const char *doing[] = {"commit", "cancel", "release"};
  polyipc_error e;
  int st, left;
  if (l->state != POLYIPC_PYTHON_LEASE_LIVE) {
    polyipc_python_lease_not_live(l, doing[op]);
    return NULL;
  }
  if (polyipc_python_lease_busy(l)) {
    polyipc_python_lease_busy_error(l, doing[op]);
    return NULL;
  }
  polyipc_python_lease_drop_view(l);
  l->state = POLYIPC_PYTHON_LEASE_ENDING;
  Py_INCREF(l);
  st = polyipc_python_lease_finish(l, op, 0, &e);
  left = polyipc_python_h_leave(l->handle); /* the lease's call; the last one out of a closed handle releases it */
  Py_DECREF(l);
  if (st != 0) {
    if (left < 0) PyErr_Clear();
    polyipc_python_raise(&e);
    return NULL;
  }
  if (left < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *polyipc_python_lease_commit_m(PyObject *self, PyObject *unused) {
  (void)unused;
  return polyipc_python_lease_end((polyipc_python_Lease *)self, POLYIPC_PYTHON_COMMIT);
}

static PyObject *polyipc_python_lease_cancel_m(PyObject *self, PyObject *unused) {
  (void)unused;
  return polyipc_python_lease_end((polyipc_python_Lease *)self, POLYIPC_PYTHON_CANCEL);
}

static PyObject *polyipc_python_lease_release_m(PyObject *self, PyObject *unused) {
  (void)unused;
  return polyipc_python_lease_end((polyipc_python_Lease *)self, POLYIPC_PYTHON_RELEASE);
}

static PyObject *polyipc_python_lease_enter_m(PyObject *self, PyObject *unused) {
  (void)unused;
  Py_INCREF(self);
  return self;
}

/* __exit__: a live Reservation is committed when the block ended normally and
 * cancelled when it raised; a live Borrowed message is released. */
static PyObject *polyipc_python_lease_exit_m(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  polyipc_python_Lease *l = (polyipc_python_Lease *)self;
  int op;
  PyObject *r;
  if (nargs != 3) {
    PyErr_SetString(PyExc_TypeError, "__exit__(exc_type, exc_value, traceback)");
    return NULL;
  }
  if (l->state != POLYIPC_PYTHON_LEASE_LIVE) Py_RETURN_FALSE; /* ended in the block (or by another thread) */
  if (polyipc_python_lease_borrowed(l)) op = POLYIPC_PYTHON_RELEASE;
  else op = args[0] == Py_None ? POLYIPC_PYTHON_COMMIT : POLYIPC_PYTHON_CANCEL;
  r = polyipc_python_lease_end(l, op);
  if (!r) return NULL;
  Py_DECREF(r);
  Py_RETURN_FALSE;
}

/* .buf: a memoryview (format 'B') of the bytes; the same object while it is alive */
static PyObject *polyipc_python_lease_get_buf(PyObject *self, void *c) {
  polyipc_python_Lease *l = (polyipc_python_Lease *)self;
  PyObject *mv, *wr;
  (void)c;
  if (l->state != POLYIPC_PYTHON_LEASE_LIVE) {
    polyipc_python_lease_not_live(l, "use buf");
    return NULL;
  }
  if ((mv = polyipc_python_lease_view(l)) != NULL) return mv;
  if (!(mv = PyMemoryView_FromObject(self))) return NULL;
  if (!(wr = PyWeakref_NewRef(mv, NULL))) {
    Py_DECREF(mv);
    return NULL;
  }
  Py_XSETREF(l->view, wr);
  return mv;
}

static PyObject *polyipc_python_lease_get_active(PyObject *self, void *c) {
  (void)c;
  return PyBool_FromLong(((polyipc_python_Lease *)self)->state == POLYIPC_PYTHON_LEASE_LIVE);
}

static Py_ssize_t polyipc_python_lease_length(PyObject *self) {
  return (Py_ssize_t)((polyipc_python_Lease *)self)->len;
}

static int polyipc_python_lease_getbuffer(PyObject *self, Py_buffer *view, int flags) {
  polyipc_python_Lease *l = (polyipc_python_Lease *)self;
  static char empty[1];
  if (l->state != POLYIPC_PYTHON_LEASE_LIVE) {
    view->obj = NULL;
    polyipc_python_lease_not_live(l, "export its bytes");
    return -1;
  }
  /* sets view->obj = self (a reference); BufferError for a writable view of a Borrowed message */
  if (PyBuffer_FillInfo(view, self, l->len ? l->data : empty, (Py_ssize_t)l->len, polyipc_python_lease_borrowed(l),
                        flags) < 0)
    return -1;
  ++l->exports;
  return 0;
}

static void polyipc_python_lease_releasebuffer(PyObject *self, Py_buffer *view) {
  (void)view;
  --((polyipc_python_Lease *)self)->exports;
}

static PyObject *polyipc_python_lease_repr(PyObject *self) {
  polyipc_python_Lease *l = (polyipc_python_Lease *)self;
  const char *state = l->state == POLYIPC_PYTHON_LEASE_LIVE     ? "active"
                      : l->state == POLYIPC_PYTHON_LEASE_ENDING ? "ending"
                      : l->ended                                ? l->ended
                                                                : "ended";
  return PyUnicode_FromFormat("<polyipc.%s of %zu bytes in %s, %s>",
                              polyipc_python_lease_borrowed(l) ? "Borrowed" : "Reservation", l->len,
                              polyipc_python_lease_what(l), state);
}

static void polyipc_python_lease_dealloc(PyObject *self) {
  polyipc_python_Lease *l = (polyipc_python_Lease *)self;
  if (l->state == POLYIPC_PYTHON_LEASE_LIVE) {
    /* no view of it is alive (each would hold a reference): cancel / release it, keeping the GIL */
    PyObject *t, *v, *tb;
    polyipc_error e;
    PyErr_Fetch(&t, &v, &tb);
    Py_CLEAR(l->view);
    l->state = POLYIPC_PYTHON_LEASE_ENDING;
    (void)polyipc_python_lease_finish(l, polyipc_python_lease_drop_op(l), 1, &e);
    if (polyipc_python_h_leave(l->handle) < 0) PyErr_WriteUnraisable(NULL);
    PyErr_Restore(t, v, tb);
  }
  Py_CLEAR(l->view);
  Py_CLEAR(l->handle);
  Py_TYPE(self)->tp_free(self);
}

/* Cancels / releases the handle's live leases (QueueHandle.close(), GIL held):
 * BufferError, and nothing changes, while one is busy. Sets closed before the
 * GIL is released, so no new call starts meanwhile. */
static int polyipc_python_h_end_leases(polyipc_python_Handle *h) {
  polyipc_python_Lease *l;
  PyObject *live, *msg;
  Py_ssize_t i, n;
  int rc = 0;
  for (l = h->leases; l; l = l->next) {
    if (l->state == POLYIPC_PYTHON_LEASE_LIVE && polyipc_python_lease_busy(l)) {
      const char *doing = NULL;
      msg = PyUnicode_FromFormat("close %S", h->what);
      if (msg) doing = PyUnicode_AsUTF8(msg);
      if (!doing) {
        PyErr_Clear();
        doing = "close the queue";
      }
      polyipc_python_lease_busy_error(l, doing);
      Py_XDECREF(msg);
      return -1;
    }
  }
  if (!(live = PyList_New(0))) return -1;
  for (l = h->leases; l; l = l->next) {
    if (l->state == POLYIPC_PYTHON_LEASE_LIVE && PyList_Append(live, (PyObject *)l) < 0) {
      Py_DECREF(live);
      return -1;
    }
  }
  n = PyList_GET_SIZE(live);
  for (i = 0; i < n; ++i) { /* runs no Python code: nothing new can take a buffer in between */
    l = (polyipc_python_Lease *)PyList_GET_ITEM(live, i);
    polyipc_python_lease_drop_view(l);
    l->state = POLYIPC_PYTHON_LEASE_ENDING;
  }
  h->closed = 1;
  for (i = 0; i < n; ++i) {
    polyipc_error e;
    l = (polyipc_python_Lease *)PyList_GET_ITEM(live, i);
    (void)polyipc_python_lease_finish(l, polyipc_python_lease_drop_op(l), 0, &e); /* of no use to close() */
    l->ended = polyipc_python_lease_borrowed(l) ? "released by close()" : "cancelled by close()";
    /* every lease not ended yet holds a call: only the last one out can release the handle */
    if (polyipc_python_h_leave(h) < 0) rc = -1;
  }
  Py_DECREF(live);
  return rc;
}

/* reserve(handle, n, timeout_ns) / borrow(handle, timeout_ns): one attempt */
static PyObject *polyipc_python_queue_zc(PyObject *const *args, Py_ssize_t nargs, int borrow) {
  polyipc_python_Handle *h;
  polyipc_python_Lease *l;
  int64_t timeout_ns;
  size_t n = 0;
  void *data = NULL;
  const void *cdata = NULL;
  uint64_t ticket = 0;
  polyipc_error e;
  int st;
  if (nargs != (borrow ? 2 : 3)) {
    PyErr_SetString(PyExc_TypeError, borrow ? "polyipc_python_queue_borrow(handle, timeout_ns)"
                                            : "polyipc_python_queue_reserve(handle, n, timeout_ns)");
    return NULL;
  }
  if (!PyObject_TypeCheck(args[0], &polyipc_python_HandleType)) {
    PyErr_SetString(PyExc_TypeError, "expected a QueueHandle");
    return NULL;
  }
  h = (polyipc_python_Handle *)args[0];
  if (!borrow) {
    n = PyLong_AsSize_t(args[1]); /* OverflowError when negative */
    if (n == (size_t)-1 && PyErr_Occurred()) return NULL;
  }
  if (polyipc_python_int64_arg(args[nargs - 1], &timeout_ns) < 0) return NULL;
  if (polyipc_python_h_enter(h) < 0) return NULL;
  if (!h->q) {
    polyipc_python_h_closed_error(h);
    return polyipc_python_h_leave_with(h, NULL);
  }
  /* made first: nothing can fail once the ticket is held */
  l = PyObject_New(polyipc_python_Lease, borrow ? &polyipc_python_BorrowedType : &polyipc_python_ReservationType);
  if (!l) return polyipc_python_h_leave_with(h, NULL);
  l->handle = NULL;
  l->prev = l->next = NULL;
  l->data = NULL;
  l->len = 0;
  l->ticket = 0;
  l->state = POLYIPC_PYTHON_LEASE_NEW;
  l->ended = NULL;
  l->exports = 0;
  l->view = NULL;
  e.code = 0;
  e.message[0] = 0;
  if (timeout_ns == 0) {
    st = borrow ? polyipc_queue_borrow(h->q, &cdata, &n, &ticket, 0, &e)
                : polyipc_queue_reserve(h->q, n, &data, &ticket, 0, &e);
  } else {
    Py_BEGIN_ALLOW_THREADS
    st = borrow ? polyipc_queue_borrow(h->q, &cdata, &n, &ticket, timeout_ns, &e)
                : polyipc_queue_reserve(h->q, n, &data, &ticket, timeout_ns, &e);
    Py_END_ALLOW_THREADS
  }
  if (st != 0) {
    Py_DECREF(l);
    if (e.code == 0) e.code = st;
    polyipc_python_raise(&e);
    return polyipc_python_h_leave_with(h, NULL);
  }
  Py_INCREF(h);
  l->handle = h;
  l->data = borrow ? (char *)cdata : (char *)data;
  l->len = n;
  l->ticket = ticket;
  l->state = POLYIPC_PYTHON_LEASE_LIVE;
  polyipc_python_lease_link(l, h);
  ++h->calls; /* the lease's own, until it ends */
  if (h->closed && !borrow) {
    /* close() ran while the GIL was released: nothing is lost by cancelling. (A
     * borrowed message is handed out all the same: it would be lost, and its
     * call keeps the queue mapped until it is released.) */
    Py_DECREF(l); /* cancels it and leaves its call */
    polyipc_python_h_closed_error(h);
    return polyipc_python_h_leave_with(h, NULL);
  }
  return polyipc_python_h_leave_with(h, (PyObject *)l);
}

static PyObject *polyipc_python_queue_reserve(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  return polyipc_python_queue_zc(args, nargs, 0);
}

static PyObject *polyipc_python_queue_borrow(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  return polyipc_python_queue_zc(args, nargs, 1);
}

static PyMethodDef polyipc_python_zc_functions[] = {
  {"polyipc_python_queue_reserve", (PyCFunction)(void (*)(void))polyipc_python_queue_reserve, METH_FASTCALL,
   "polyipc_python_queue_reserve(handle, n, timeout_ns) -> Reservation: one attempt of polyipc_queue_reserve"},
  {"polyipc_python_queue_borrow", (PyCFunction)(void (*)(void))polyipc_python_queue_borrow, METH_FASTCALL,
   "polyipc_python_queue_borrow(handle, timeout_ns) -> Borrowed: one attempt of polyipc_queue_borrow"},
  {NULL, NULL, 0, NULL}
};

static PyMethodDef polyipc_python_reservation_methods[] = {
  {"commit", polyipc_python_lease_commit_m, METH_NOARGS,
   "commit()\n--\n\n"
   "Publishes the bytes as a message. A JSON queue validates them first: polyipc.InvalidJSON\n"
   "(a ValueError) when they are not JSON, and the reservation is dropped. BufferError, and\n"
   "nothing changes, while views made from buf are alive; polyipc.InvalidArgument once ended."},
  {"cancel", polyipc_python_lease_cancel_m, METH_NOARGS,
   "cancel()\n--\n\n"
   "Drops the reservation: nothing is published. BufferError / polyipc.InvalidArgument as commit()."},
  {"__enter__", polyipc_python_lease_enter_m, METH_NOARGS, "Returns self."},
  {"__exit__", (PyCFunction)(void (*)(void))polyipc_python_lease_exit_m, METH_FASTCALL,
   "Commits when the block ended normally, cancels when it raised (unless ended in it)."},
  {NULL, NULL, 0, NULL}
};

static PyMethodDef polyipc_python_borrowed_methods[] = {
  {"release", polyipc_python_lease_release_m, METH_NOARGS,
   "release()\n--\n\n"
   "Gives the message's space back to the ring (the message is consumed). BufferError, and\n"
   "nothing changes, while views made from buf are alive; polyipc.InvalidArgument once released."},
  {"__enter__", polyipc_python_lease_enter_m, METH_NOARGS, "Returns self."},
  {"__exit__", (PyCFunction)(void (*)(void))polyipc_python_lease_exit_m, METH_FASTCALL,
   "Releases the message (unless released in the block)."},
  {NULL, NULL, 0, NULL}
};

static PyGetSetDef polyipc_python_lease_getset[] = {
  {"buf", polyipc_python_lease_get_buf, NULL,
   "A memoryview (format 'B') of the bytes in the ring: writable for a Reservation, read only for a\n"
   "Borrowed message; the same object while it is alive. Released when the object ends.", NULL},
  {"active", polyipc_python_lease_get_active, NULL, "True until committed, cancelled or released.", NULL},
  {NULL, NULL, NULL, NULL, NULL}
};

static PySequenceMethods polyipc_python_lease_as_sequence = {
  .sq_length = polyipc_python_lease_length,
};

static PyBufferProcs polyipc_python_lease_as_buffer = {
  .bf_getbuffer = polyipc_python_lease_getbuffer,
  .bf_releasebuffer = polyipc_python_lease_releasebuffer,
};

static PyTypeObject polyipc_python_ReservationType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "polyipc.Reservation",
  .tp_basicsize = sizeof(polyipc_python_Lease),
  .tp_dealloc = polyipc_python_lease_dealloc,
  .tp_repr = polyipc_python_lease_repr,
  .tp_as_sequence = &polyipc_python_lease_as_sequence,
  .tp_as_buffer = &polyipc_python_lease_as_buffer,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
  .tp_doc = "Room for one message in a queue's ring (Queue.reserve(n)): write the n bytes through .buf,\n"
            "then commit() or cancel(). As a context manager: committed when the block ends normally,\n"
            "cancelled when it raises. Cancelled if garbage-collected or its queue closed while active.",
  .tp_methods = polyipc_python_reservation_methods,
  .tp_getset = polyipc_python_lease_getset,
};

static PyTypeObject polyipc_python_BorrowedType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "polyipc.Borrowed",
  .tp_basicsize = sizeof(polyipc_python_Lease),
  .tp_dealloc = polyipc_python_lease_dealloc,
  .tp_repr = polyipc_python_lease_repr,
  .tp_as_sequence = &polyipc_python_lease_as_sequence,
  .tp_as_buffer = &polyipc_python_lease_as_buffer,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
  .tp_doc = "A message taken from a queue but read in its ring (Queue.borrow()): read .buf (or the object\n"
            "itself, a bytes-like object), then release(). As a context manager: released when the block\n"
            "ends. Released if garbage-collected or its queue closed while active.",
  .tp_methods = polyipc_python_borrowed_methods,
  .tp_getset = polyipc_python_lease_getset,
};
%}

%init %{
  if (PyType_Ready(&polyipc_python_ReservationType) < 0 || PyType_Ready(&polyipc_python_BorrowedType) < 0) return NULL;
  Py_INCREF(&polyipc_python_ReservationType);
  if (PyModule_AddObject(m, "Reservation", (PyObject *)&polyipc_python_ReservationType) < 0) return NULL;
  Py_INCREF(&polyipc_python_BorrowedType);
  if (PyModule_AddObject(m, "Borrowed", (PyObject *)&polyipc_python_BorrowedType) < 0) return NULL;
  if (PyModule_AddFunctions(m, polyipc_python_zc_functions) < 0) return NULL;
%}
