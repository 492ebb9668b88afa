// Pipe: a named connection with two ends, A and B (multiprocessing.Pipe,
// shared by name). Each direction is a ring of length-prefixed records that
// one sender fills and one receiver drains, without a shared lock: the
// sender publishes its tail after the copy, the receiver its head after
// reading, so a process killed mid-send leaves no torn record. Several
// handles (in several processes) may hold the same end; a robust mutex per
// side of each direction keeps them one at a time.
//
// recv returns Closed once the other end is closed, or every process that
// held it died (noticed within 100 ms by a waiting receiver), and everything
// it sent has been received.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/json/shape.hpp"
#include "core/queue/queue.hpp"
#include "core/segment/segment.hpp"
#include "core/status.hpp"
#include "core/sync/robust_mutex.hpp"
#include "core/sync/waiting.hpp"

namespace polyipc {

enum class PipeEnd : uint32_t { A = 0, B = 1 };

struct PipeOptions {
  bool duplex = true;  // false: only end A sends, only end B receives
  Format format = Format::Json;
  uint64_t capacity_bytes = 4 << 20;  // per direction (see kRestartWindow in pipe.cpp: light use touches 1 MiB)
  uint32_t mode = kDefaultMode;
  bool ephemeral = false;
  bool check_existing = true;  // false: take an existing pipe whatever its options
};

struct PipeShared {
  static constexpr uint32_t kMaxHolders = 64;
  // Fixed at creation.
  uint32_t duplex, format;
  uint64_t capacity;          // bytes per direction, a multiple of 8
  uint64_t ring_offset[2];    // from this struct; ring d carries what end d sends

  struct End {
    std::atomic<uint64_t> holders[kMaxHolders];  // ProcessToken per open handle, 0 = free
    std::atomic<uint32_t> opened;                // ever opened: until then a receiver waits, EOF is not yet
    std::atomic<uint32_t> handles;               // non-zero slots: the hot paths read this, not the table
  } ends[2];

  struct Direction {
    alignas(64) RobustMutex send_mutex;
    alignas(64) std::atomic<uint64_t> tail;  // published by the sender after the copy
    alignas(64) WakeWord data;               // receivers sleep here
    alignas(64) RobustMutex recv_mutex;
    alignas(64) std::atomic<uint64_t> head;  // published by the receiver after reading
    alignas(64) WakeWord space;              // senders sleep here
    alignas(64) std::atomic<uint64_t> messages, bytes;
    // Ring bytes from its start that have pages (Pipe::back_ring), written
    // by senders under send_mutex. Pipes before 0.9.2 hold 0 here and back
    // again what they used, harmlessly.
    std::atomic<uint64_t> backed;
  } dir[2];

  char* ring(uint32_t d) { return reinterpret_cast<char*>(this) + ring_offset[d]; }
};

class Pipe {
 public:
  // Opens one end. Throws Error.
  static std::unique_ptr<Pipe> open(const std::string& name, OpenMode mode, PipeEnd end, const PipeOptions& options);
  ~Pipe();  // closes this handle's hold on its end

  const std::string& name() const noexcept { return segment_->name(); }
  PipeEnd end() const noexcept { return static_cast<PipeEnd>(end_); }

  // Ok; Full (timeout 0) or Timeout without room; Closed when the other end
  // is gone; InvalidJson / TooLarge / InvalidArg (this end cannot send).
  Status send(const void* data, size_t len, const Deadline& deadline, ErrorText& error);
  // Ok; Empty (timeout 0) or Timeout; Closed (other end gone, all received);
  // TooLarge with *len = size when dest refuses (the message stays).
  Status recv(Queue::Destination dest, void* context, size_t* len, const Deadline& deadline, ErrorText& error);
  // Ok when a message waits, Closed at end of stream, else Timeout.
  Status poll(const Deadline& deadline, ErrorText& error);

  // For wait_any: readable now (a message, or end of stream), and the word
  // to sleep on otherwise (see Queue::watch).
  bool readable();
  std::atomic<uint32_t>* watch(uint32_t* seen);
  void unwatch() noexcept;

  std::string stat_json() const { return describe(name(), segment_->header(), s_).dump(); }
  static nlohmann::json describe(const std::string& name, const SegmentHeader* header, const void* body);

 private:
  Pipe() = default;
  uint32_t peer() const noexcept { return end_ ^ 1; }
  bool can_send() const noexcept { return s_->duplex || end_ == 0; }
  bool can_recv() const noexcept { return s_->duplex || end_ == 1; }
  // The other end has been opened and no live process holds it now.
  // check_liveness: also look for holders that died (a /proc read each).
  bool peer_gone(bool check_liveness);
  Status lock(RobustMutex& m, const Deadline& deadline);
  // With the receive lock: the position of the next message (pads skipped), or false.
  bool next_message(PipeShared::Direction& d, char* ring, uint64_t* pos);
  bool skip_pads_for_receiver(PipeShared::Direction& d, char* ring, uint64_t tail);
  bool restart_empty_ring(PipeShared::Direction& d, char* ring, uint64_t tail);
  bool back_ring(PipeShared::Direction& d, char* ring, uint64_t end, ErrorText& error);
  const char* pname() const noexcept { return segment_->name().c_str(); }
  const char* end_name() const noexcept { return end_ == 0 ? "A" : "B"; }

  std::unique_ptr<Segment> segment_;
  PipeShared* s_ = nullptr;
  SleeperTally tally_;  // data and space sleepers of both directions
  SpinBudget recv_spin_, send_spin_;  // before sleeping on data, space
  RoomLinger send_linger_;             // a sender that found the ring full (see RoomLinger)
  json::ShapeCache shapes_;  // of the JSON messages this end sent
  uint32_t end_ = 0;
  int slot_ = -1;
  int64_t next_liveness_check_ = 0;
  uint64_t backed_ = 0;  // what this handle last saw of its sending ring's `backed`
  // The tail of the ring it receives from, as last read: records below it are
  // published, so it reads the sender's line again only when its head gets
  // there (stale is safe: tails only grow, and one at or below the head is
  // read anew).
  uint64_t seen_tail_ = 0;
};

}  // namespace polyipc
