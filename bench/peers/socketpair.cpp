// bench/peers/socketpair.cpp: AF_UNIX socketpairs. SOCK_STREAM carries
// length-prefixed frames (one sendmsg per message, buffered reads);
// SOCK_SEQPACKET keeps message boundaries, so several producers and consumers
// may share it. Socket buffers are sized like the other peers' capacity.
#include <sys/socket.h>
#include <sys/uio.h>

#include "peers.hpp"

namespace bench {
namespace {

class SockBase {
 public:
  SockBase(const Spec& s, int type) {
    if (socketpair(AF_UNIX, type, 0, sv_) != 0) throw NotAvailable(std::string("socketpair: ") + strerror(errno));
    int sz = int(std::min<uint64_t>(s.capacity_bytes, 1u << 30));
    for (int fd : sv_)
      for (int opt : {SO_SNDBUF, SO_RCVBUF}) {
        int force = opt == SO_SNDBUF ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
        if (setsockopt(fd, SOL_SOCKET, force, &sz, sizeof sz) != 0) setsockopt(fd, SOL_SOCKET, opt, &sz, sizeof sz);
      }
  }
  ~SockBase() {
    close(sv_[0]);
    close(sv_[1]);
  }
  void attach(Role r) { fd_ = r == Role::Producer ? sv_[0] : sv_[1]; }

 protected:
  int sv_[2];
  int fd_ = -1;
};

class SockStream : public SockBase {
 public:
  static constexpr bool kMulti = false;  // frames of concurrent writers/readers would interleave
  explicit SockStream(const Spec& s) : SockBase(s, SOCK_STREAM), rbuf_(64 << 10) {}
  void send(const void* p, size_t n) {
    uint32_t len = uint32_t(n);
    iovec iov[2] = {{&len, 4}, {const_cast<void*>(p), n}};
    size_t left = 4 + n;
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    while (left) {
      ssize_t w = sendmsg(fd_, &mh, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("sendmsg: ") + strerror(errno));
      }
      left -= size_t(w);
      while (w > 0) {  // advance the iovecs past what was written
        size_t k = std::min<size_t>(size_t(w), mh.msg_iov->iov_len);
        mh.msg_iov->iov_base = static_cast<char*>(mh.msg_iov->iov_base) + k;
        mh.msg_iov->iov_len -= k;
        w -= ssize_t(k);
        if (mh.msg_iov->iov_len == 0) ++mh.msg_iov, --mh.msg_iovlen;
      }
    }
  }
  size_t recv(void* buf, size_t cap) {
    uint32_t len;
    fill(&len, 4);
    if (len > cap) throw std::runtime_error("stream: frame larger than the buffer");
    fill(buf, len);
    return len;
  }

 private:
  void fill(void* dst, size_t n) {
    char* d = static_cast<char*>(dst);
    for (;;) {
      size_t k = std::min(n, rlen_ - rpos_);
      memcpy(d, rbuf_.data() + rpos_, k);
      rpos_ += k, d += k, n -= k;
      if (n == 0) return;
      // large remainder: read straight into the caller's buffer
      bool direct = n >= rbuf_.size() / 2;
      ssize_t r = direct ? read(fd_, d, n) : read(fd_, rbuf_.data(), rbuf_.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw std::runtime_error("stream: read failed or EOF");
      if (direct) {
        d += r, n -= size_t(r);
        if (n == 0) return;
      } else {
        rpos_ = 0, rlen_ = size_t(r);
      }
    }
  }
  std::vector<char> rbuf_;
  size_t rpos_ = 0, rlen_ = 0;
};

class SockSeqpacket : public SockBase {
 public:
  static constexpr bool kMulti = true;
  explicit SockSeqpacket(const Spec& s) : SockBase(s, SOCK_SEQPACKET) {}
  void send(const void* p, size_t n) {
    while (::send(fd_, p, n, MSG_NOSIGNAL) < 0)
      if (errno != EINTR) throw std::runtime_error(std::string("seqpacket send: ") + strerror(errno));
  }
  size_t recv(void* buf, size_t cap) {
    for (;;) {
      ssize_t r = ::recv(fd_, buf, cap, 0);
      if (r > 0) return size_t(r);
      if (r < 0 && errno == EINTR) continue;
      throw std::runtime_error(std::string("seqpacket recv: ") + (r == 0 ? "EOF" : strerror(errno)));
    }
  }
};

}  // namespace
PeerOps peer_sock_stream() { return make_ops<SockStream>(); }
PeerOps peer_sock_seqpacket() { return make_ops<SockSeqpacket>(); }
}  // namespace bench
