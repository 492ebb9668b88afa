// An undo journal for state guarded by a robust mutex. Every change to shared
// metadata goes through Transaction::set, which logs the old value first; a
// process killed mid-transaction leaves a journal that the next lock holder
// rolls back (on OWNER_DEAD), so readers only ever see committed states.
// Payload bytes are written into free space before the commit and need no log.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/status.hpp"

namespace polyipc {

struct Journal {
  static constexpr uint32_t kCapacity = 256;
  uint64_t count;  // valid entries; 0 = nothing to undo
  struct Entry {
    uint64_t offset;  // of the word, from the journal's base
    uint64_t old;
  } entries[kCapacity];
};

inline void store_word(uint64_t* word, uint64_t value) noexcept { __atomic_store_n(word, value, __ATOMIC_RELAXED); }
inline uint64_t load_word(const uint64_t* word) noexcept { return __atomic_load_n(word, __ATOMIC_RELAXED); }

// Undoes an interrupted transaction; returns the number of words restored.
inline uint64_t roll_back(Journal& j, void* base) noexcept {
  uint64_t n = j.count;
  if (n > Journal::kCapacity) n = Journal::kCapacity;
  for (uint64_t i = n; i-- > 0;)
    store_word(reinterpret_cast<uint64_t*>(static_cast<char*>(base) + j.entries[i].offset), j.entries[i].old);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  store_word(&j.count, 0);
  return n;
}

// Commits when it goes out of scope. Only set() may throw inside one (a full
// journal, an internal bug), and it undoes the transaction first; whatever
// runs between sets must be noexcept. (Asking std::uncaught_exceptions() on
// entry and exit instead cost two TLS look-ups through libstdc++ per
// transaction, several per message.)
class Transaction {
 public:
  // base: the start of the region every journaled word lives in.
  Transaction(Journal& journal, void* base) noexcept : j_(journal), base_(static_cast<char*>(base)) {}
  Transaction(const Transaction&) = delete;
  ~Transaction() { commit(); }

  void set(uint64_t& word, uint64_t value) {
    uint64_t n = j_.count;
    if (n == Journal::kCapacity) {
      roll_back(j_, base_);
      throw Error(Status::System, "journal overflow (internal bug)");
    }
    j_.entries[n] = {static_cast<uint64_t>(reinterpret_cast<char*>(&word) - base_), word};
    // The compiler must not move the change above its log entry: a kill can
    // land between any two instructions. (Store order across CPUs is not at
    // stake: only the dead process wrote these words.)
    std::atomic_signal_fence(std::memory_order_seq_cst);
    store_word(&j_.count, n + 1);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    store_word(&word, value);
  }
  void set(int64_t& word, int64_t value) { set(reinterpret_cast<uint64_t&>(word), static_cast<uint64_t>(value)); }

  void commit() noexcept {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    store_word(&j_.count, 0);
  }

 private:
  Journal& j_;
  char* base_;
};

}  // namespace polyipc
