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
 * (polyipc.i has no batch methods yet; these call the C API's put_many and
 * get_many directly.) Both return the status instead of raising, because a
 * batch can succeed in part; the package raises from it. */
%nothread polyipc_python_put_many;
%nothread polyipc_python_get_many;
%inline %{
/* Puts items[start:] (a tuple of bytes or str) in order.
 * Returns (done, status, message): items[start:start+done] were put. */
PyObject *polyipc_python_put_many(NativeQueue *q, PyObject *items, size_t start, int64_t timeout_ns) {
  polyipc_error e;
  Py_ssize_t count, i;
  const void **data;
  size_t *lens, done = 0;
  int st;
  e.code = 0;
  e.message[0] = 0;
  if (!PyTuple_Check(items)) {
    PyErr_SetString(PyExc_TypeError, "put_many: items must be a tuple of bytes or str");
    return NULL;
  }
  count = PyTuple_GET_SIZE(items) - (Py_ssize_t)start;
  if (count < 0) count = 0;
  data = (const void **)PyMem_Malloc(sizeof(*data) * (size_t)(count + 1));
  lens = (size_t *)PyMem_Malloc(sizeof(*lens) * (size_t)(count + 1));
  if (!data || !lens) {
    PyMem_Free(data);
    PyMem_Free(lens);
    return PyErr_NoMemory();
  }
  for (i = 0; i < count; ++i) {
    PyObject *it = PyTuple_GET_ITEM(items, (Py_ssize_t)start + i);
    Py_ssize_t n;
    if (PyBytes_Check(it)) {
      data[i] = PyBytes_AS_STRING(it);
      lens[i] = (size_t)PyBytes_GET_SIZE(it);
    } else if (PyUnicode_Check(it) && (data[i] = PyUnicode_AsUTF8AndSize(it, &n)) != NULL) {
      lens[i] = (size_t)n;
    } else {
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "put_many: item %zd is %.100s, not bytes or str", (Py_ssize_t)start + i,
                     Py_TYPE(it)->tp_name);
      PyMem_Free(data);
      PyMem_Free(lens);
      return NULL;
    }
  }
  /* the tuple (held by the caller) keeps every buffer alive while the GIL is released */
  Py_BEGIN_ALLOW_THREADS
  st = polyipc_queue_put_many(q, data, lens, (size_t)count, &done, timeout_ns, &e);
  Py_END_ALLOW_THREADS
  PyMem_Free(data);
  PyMem_Free(lens);
  return Py_BuildValue("(nis)", (Py_ssize_t)done, st, e.message);
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
