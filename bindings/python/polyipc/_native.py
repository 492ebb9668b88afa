"""Loads the SWIG extension and checks it against the loaded libpolyipc.

The binding was generated from polyipc.h with POLYIPC_VERSION_NUMBER =
POLYIPC_BINDING_VERSION_NUMBER; the libpolyipc.so.0 the dynamic loader found
must report the same polyipc_version_number(), or importing polyipc fails.
"""

from . import polyipc_native as _wrapper
from ._errors import BY_STATUS

lib = _wrapper._polyipc_native  # the flat C functions: no proxy layer on the hot path


def check_version(native):
    """Raises ImportError unless the loaded library is the one the binding was generated for."""
    binding, library = native.POLYIPC_BINDING_VERSION_NUMBER, native.polyipc_version_number()
    if library != binding:
        raise ImportError(
            f"polyipc: the loaded libpolyipc reports version number {library} ({native.polyipc_version()}) "
            f"but this Python binding was generated for {binding}; rebuild the binding, or put the matching "
            f"libpolyipc.so.0 first on the library path")
    return library


BINDING_VERSION_NUMBER = lib.POLYIPC_BINDING_VERSION_NUMBER
LIBRARY_VERSION_NUMBER = check_version(lib)

lib.polyipc_python_register_errors(dict(BY_STATUS))
