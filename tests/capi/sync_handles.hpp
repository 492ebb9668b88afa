// RAII owners of the synchronisation and pool handles, for the C API tests.
#pragma once
#include <polyipc.h>

namespace capitest {

template <class T, void (*Close)(T*)>
class Handle {
 public:
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { Close(p_); }
  operator T*() const { return p_; }
  T** out() {
    Reset();
    return &p_;
  }
  void Reset() {
    Close(p_);
    p_ = nullptr;
  }
  void Forget() { p_ = nullptr; }  // a forked child's copy of the parent's handle

 private:
  T* p_ = nullptr;
};

using Lock = Handle<polyipc_lock, polyipc_lock_close>;
using Semaphore = Handle<polyipc_semaphore, polyipc_semaphore_close>;
using Event = Handle<polyipc_event, polyipc_event_close>;
using Condition = Handle<polyipc_condition, polyipc_condition_close>;
using Barrier = Handle<polyipc_barrier, polyipc_barrier_close>;
using Pool = Handle<polyipc_pool, polyipc_pool_close>;

}  // namespace capitest
