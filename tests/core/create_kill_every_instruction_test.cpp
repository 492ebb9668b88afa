// A process killed at any instruction of creating an object leaves the name
// as if the creation happened whole or not at all: OPEN_ONLY then finds a
// working object or none, OPEN_OR_CREATE gets a working object at once, and
// gc removes what the dead creator was building. (Until 0.9.2 a creator
// killed mid-way left the name INCOMPATIBLE for every later open: a service
// killed while starting up could not start again.) A child is
// single-stepped (ptrace) through Queue::open and SIGKILLed after k
// instructions, for every k until it completes (sparser as k grows).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/names.hpp"
#include "core/objects.hpp"
#include "core/queue/queue.hpp"
#include "core/segment/segment.hpp"
#include "kill_after.hpp"

namespace polyipc {
namespace {

void PutGet(Queue& q, const std::string& m) {
  ErrorText e;
  ASSERT_EQ(q.put(m.data(), m.size(), 0, Deadline::after(0), e), Status::Ok) << e.text;
  char buf[64];
  size_t len = 0;
  auto into = [](void* ctx, size_t n) -> void* { return n <= 64 ? ctx : nullptr; };
  ASSERT_EQ(q.get(into, buf, &len, Deadline::after(0), e), Status::Ok) << e.text;
  EXPECT_EQ(m, std::string(buf, len));
}

TEST(CreateKillEveryInstruction, OpenOrCreateOfAQueue) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  QueueOptions opts;
  opts.format = Format::Bytes;
  opts.capacity_bytes = 16 << 10;
  const std::string name = "createkill";
  long kills = 0, found_whole = 0, abandoned = 0;
  for (long k = 0;; k += 1 + k / 100) {
    SCOPED_TRACE("creator killed after " + std::to_string(k) + " instructions");
    const bool killed = KillAfter(k, [&]() -> std::function<void()> {
      return [&] { Queue::open(name, OpenMode::OpenOrCreate, opts); };
    });
    // Whole or not at all.
    struct stat st {};
    if (::stat(shm_path(name).c_str(), &st) == 0) {
      auto q = Queue::open(name, OpenMode::OpenOnly, opts);
      PutGet(*q, "whole");
      ++found_whole;
    } else {
      EXPECT_THROW(
          try { Queue::open(name, OpenMode::OpenOnly, opts); } catch (const Error& e) {
            EXPECT_EQ(e.status(), Status::NotFound) << e.what();
            throw;
          },
          Error);
    }
    // The next creator is not held up by the dead one.
    auto q = Queue::open(name, OpenMode::OpenOrCreate, opts);
    PutGet(*q, "next");
    q.reset();
    // What the dead creator was building goes with gc.
    const auto gc = nlohmann::json::parse(collect_garbage_json());
    abandoned += static_cast<long>(gc["abandoned"].size());
    EXPECT_TRUE(list_unfinished_creations().empty()) << gc.dump();
    unlink_object(name);
    if (!killed) break;
    ++kills;
  }
  std::printf("%ld kills: the name held a whole queue after %ld, gc removed %ld unfinished ones\n", kills,
              found_whole, abandoned);
  EXPECT_GT(kills, 100);
  EXPECT_GT(found_whole, 0);
  EXPECT_GT(abandoned, 0);
}

}  // namespace
}  // namespace polyipc
