# Debian packages: `cpack` (or `cmake --build <build> --target package`).
# Included by the root CMakeLists after bindings/, so that it knows what was
# built. Packages under /usr, as Debian splits a library:
#   libpolyipc0      the shared library alone (Runtime), so that a later
#                    libpolyipc1 can be installed beside it;
#   libpolyipc-dev   what building against it needs (Development);
#   polyipc          the CLI (Tools);
#   python3-polyipc  the Python binding in /usr/lib/python3/dist-packages
#                    (Python), for the python3 it was built with.
# Depends come from dpkg-shlibdeps, plus the exact libpolyipc0 for the
# others; libpolyipc0 carries a shlibs file and the ldconfig trigger.
set(CPACK_PACKAGE_NAME polyipc)
set(CPACK_PACKAGE_VENDOR polyipc)
set(CPACK_PACKAGE_CONTACT "polyipc developers <polyipc-dev@lists.polyipc.invalid>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Named queues, pipes, locks, events and shared memory shared by processes in any language")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL Runtime Development)
if(TARGET polyipc_cli)
  list(APPEND CPACK_COMPONENTS_ALL Tools)
endif()
get_property(_polyipc_python_version GLOBAL PROPERTY POLYIPC_PYTHON_PACKAGE_VERSION)
if(_polyipc_python_version)
  list(APPEND CPACK_COMPONENTS_ALL Python)
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # for the package holding the library
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# The CLI links libpolyipc.so.0 of this build: dpkg-shlibdeps finds it here
# and leaves the dependency to CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS.
get_target_property(_polyipc_lib_dir polyipc LIBRARY_OUTPUT_DIRECTORY)
if(NOT _polyipc_lib_dir)
  get_target_property(_polyipc_lib_dir polyipc BINARY_DIR)
endif()
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${_polyipc_lib_dir}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "libpolyipc${PROJECT_VERSION_MAJOR}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libpolyipc-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "libpolyipc${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME polyipc)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libpolyipc${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION})")
# The extension module is built for one CPython ABI (cpython-3XY): that
# python3 and no other.
if(_polyipc_python_version MATCHES "^([0-9]+)\\.([0-9]+)")
  set(_polyipc_py_major ${CMAKE_MATCH_1})
  set(_polyipc_py_minor ${CMAKE_MATCH_2})
  math(EXPR _polyipc_py_next "${_polyipc_py_minor} + 1")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-polyipc)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "libpolyipc${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION}), \
python3 (>= ${_polyipc_py_major}.${_polyipc_py_minor}), python3 (<< ${_polyipc_py_major}.${_polyipc_py_next})")
endif()
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "The shared library: the C ABI behind every polyipc binding (Java, Go, C#, Python, Rust).")
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION
  "Development files: polyipc.h, the pkg-config file and the CMake package (find_package(polyipc)).")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "The polyipc command: ls, stat, rm, gc, put, get, peek.")
set(CPACK_COMPONENT_PYTHON_DESCRIPTION
  "The Python binding: multiprocessing's names (Queue, Lock, Event, Pool ...) over objects any language opens.")
include(CPack)
