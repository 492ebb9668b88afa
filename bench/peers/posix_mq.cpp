// bench/peers/posix_mq.cpp: POSIX message queues (kernel objects; every send and
// receive is a syscall). Bounded by /proc/sys/fs/mqueue/{msg_max,msgsize_max}
// (the driver raises them when it may) and by RLIMIT_MSGQUEUE (bytes per user,
// needs CAP_SYS_RESOURCE to raise): a cell that does not fit is N/A.
#include <fcntl.h>
#include <mqueue.h>

#include "peers.hpp"

namespace bench {
namespace {

class PosixMq {
 public:
  static constexpr bool kMulti = true;
  explicit PosixMq(const Spec& s) : name_("/polyipc-bench-" + std::to_string(getpid()) + "-" + s.name) {
    rlimit rl;
    getrlimit(RLIMIT_MSGQUEUE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_MSGQUEUE, &rl);
    }
    // kernel accounting per queue: maxmsg * (msgsize + msg_msg header + tree node)
    const uint64_t budget = rl.rlim_cur == RLIM_INFINITY ? ~uint64_t(0) : uint64_t(rl.rlim_cur);
    const uint64_t per_queue = budget / uint64_t(s.queues_in_cell) - 4096;
    const uint64_t per_msg = s.max_msg + 112;
    long want = long(slots_for(s, 8, 4096));
    long fit = long(per_queue / per_msg);
    long maxmsg = std::min(want, fit);
    if (maxmsg < 4) {
      char m[200];
      snprintf(m, sizeof m, "RLIMIT_MSGQUEUE is %llu bytes: not even 4 messages of %zu bytes fit",
               (unsigned long long)budget, s.max_msg);
      throw NotAvailable(m);
    }
    mq_attr a{};
    a.mq_maxmsg = maxmsg;
    a.mq_msgsize = long(s.max_msg);
    mq_unlink(name_.c_str());
    q_ = mq_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q_ == mqd_t(-1)) {
      char m[200];
      snprintf(m, sizeof m, "mq_open(maxmsg=%ld, msgsize=%zu): %s (see /proc/sys/fs/mqueue)", maxmsg, s.max_msg,
               strerror(errno));
      throw NotAvailable(m);
    }
  }
  ~PosixMq() {
    mq_close(q_);
    mq_unlink(name_.c_str());
  }
  void attach(Role) {}  // the descriptor is inherited across fork
  void send(const void* p, size_t n) {
    while (mq_send(q_, static_cast<const char*>(p), n, 0) != 0)
      if (errno != EINTR) throw std::runtime_error(std::string("mq_send: ") + strerror(errno));
  }
  size_t recv(void* buf, size_t cap) {
    for (;;) {
      ssize_t r = mq_receive(q_, static_cast<char*>(buf), cap, nullptr);
      if (r >= 0) return size_t(r);
      if (errno != EINTR) throw std::runtime_error(std::string("mq_receive: ") + strerror(errno));
    }
  }

 private:
  std::string name_;
  mqd_t q_;
};

}  // namespace
PeerOps peer_posix_mq() { return make_ops<PosixMq>(); }
}  // namespace bench
