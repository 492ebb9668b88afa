// bench/peers/boost_mq.cpp: boost::interprocess::message_queue (a mutex and two
// condition variables in shared memory, fixed-size slots).
#include <boost/interprocess/ipc/message_queue.hpp>

#include "peers.hpp"

namespace bench {
namespace {
namespace bip = boost::interprocess;

class BoostMq {
 public:
  static constexpr bool kMulti = true;
  explicit BoostMq(const Spec& s) : name_("polyipc-bench-" + std::to_string(getpid()) + "-" + s.name) {
    bip::message_queue::remove(name_.c_str());
    try {
      q_ = std::make_unique<bip::message_queue>(bip::create_only, name_.c_str(), slots_for(s, 16, 65536),
                                                s.max_msg);
    } catch (const std::exception& e) {
      throw NotAvailable(std::string("boost message_queue: ") + e.what());
    }
  }
  ~BoostMq() {
    q_.reset();
    bip::message_queue::remove(name_.c_str());
  }
  void attach(Role) {
    (void)q_.release();  // the parent's mapping, inherited: leave it, open our own
    q_ = std::make_unique<bip::message_queue>(bip::open_only, name_.c_str());
  }
  void send(const void* p, size_t n) { q_->send(p, n, 0); }
  size_t recv(void* buf, size_t cap) {
    bip::message_queue::size_type got;
    unsigned prio;
    q_->receive(buf, cap, got, prio);
    return size_t(got);
  }

 private:
  std::string name_;
  std::unique_ptr<bip::message_queue> q_;
};

}  // namespace
PeerOps peer_boost_mq() { return make_ops<BoostMq>(); }
}  // namespace bench
