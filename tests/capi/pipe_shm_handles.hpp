// RAII owners of pipe, shared memory and array handles, for the C API tests.
#pragma once
#include <polyipc.h>

#include "sync_handles.hpp"

namespace capitest {

using PipeEnd = Handle<polyipc_pipe, polyipc_pipe_close>;  // (Pipe is the OS pipe helper)
using Shm = Handle<polyipc_shm, polyipc_shm_close>;
using Array = Handle<polyipc_array, polyipc_array_close>;

}  // namespace capitest
