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

/* NativeQueue is opaque (typedef struct {} on the SWIG side): only open()
 * makes one, so no default constructor (it would calloc an incomplete type). */
%nodefaultctor NativeQueue;

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
