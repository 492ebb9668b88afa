// A wait over several pipes and queues at once
// (multiprocessing.connection.wait): returns when at least one of them is
// readable, i.e. a recv/get would not wait (a message, or the end of the
// stream). Sleeps on all their futex words at once with futex_waitv (Linux
// 5.16+), or in short slices where that is missing.
#pragma once
#include <cstddef>

#include "core/clock.hpp"
#include "core/status.hpp"

namespace polyipc {

class Pipe;
class Queue;

struct Waitable {
  Pipe* pipe = nullptr;    // exactly one of pipe / queue
  Queue* queue = nullptr;
  bool ready = false;      // out
};

// Ok (at least one ready; every ready one marked) or Timeout.
Status wait_any(Waitable* items, size_t count, const Deadline& deadline, ErrorText& error);

}  // namespace polyipc
