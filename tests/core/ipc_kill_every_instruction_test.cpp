// A process killed at any instruction of a pipe send or receive, or of a
// semaphore acquire, leaves an object that the next caller uses as if the
// operation either happened whole or not at all: a child is single-stepped
// (ptrace) through the operation and SIGKILLed after k instructions, for
// every k until the operation completes (sparser after the first 400).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/pipe/pipe.hpp"
#include "core/segment/segment.hpp"
#include "core/sync/semaphore.hpp"
#include "kill_after.hpp"

namespace polyipc {
namespace {

std::string Msg(int i) { return "message-" + std::to_string(i) + std::string(static_cast<size_t>(i * 13 % 90), '.'); }

void Send(Pipe& p, const std::string& m) {
  ErrorText e;
  ASSERT_EQ(p.send(m.data(), m.size(), Deadline::after(0), e), Status::Ok) << e.text;
}

std::vector<std::string> Drain(Pipe& p) {
  std::vector<std::string> out;
  char buf[4096];
  auto into = [](void* ctx, size_t n) -> void* { return n <= 4096 ? ctx : nullptr; };
  for (;;) {
    ErrorText e;
    size_t len = 0;
    Status st = p.recv(into, buf, &len, Deadline::after(0), e);
    if (st == Status::Empty) return out;
    EXPECT_EQ(st, Status::Ok) << e.text;
    if (st != Status::Ok) return out;
    out.emplace_back(buf, len);
  }
}

// The child's operation runs on its own handle of the end (as another
// process would); the parent holds both ends throughout, so no EOF.
// preload: messages waiting when the child acts; with none, the ring is
// empty and its tail past the restart window (a quarter of 512 bytes), so the
// child's send restarts it at its start.
void RunPipeCase(const char* what, bool child_sends, int preload = 3) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  PipeOptions opts;
  opts.format = Format::Bytes;
  opts.capacity_bytes = 512;  // small: records wrap and pads appear
  long kills = 0;
  for (long k = 0;; k += 1 + k / 400) {
    SCOPED_TRACE(std::string(what) + ", killed after " + std::to_string(k) + " instructions");
    const std::string name = "pipekill-" + std::to_string(getpid());
    auto a = Pipe::open(name, OpenMode::CreateOnly, PipeEnd::A, opts);
    auto b = Pipe::open(name, OpenMode::OpenOnly, PipeEnd::B, opts);
    // Move the ring's positions to an odd place, then preload 3 messages.
    for (int i = 0; i < static_cast<int>(k % 5); ++i) {
      Send(*a, Msg(100 + i));
      Drain(*b);
    }
    if (preload == 0) {  // 208 bytes of record: the tail ends >= 208 into a lap
      Send(*a, std::string(200, 'r'));
      Drain(*b);
    }
    for (int i = 0; i < preload; ++i) Send(*a, Msg(i));
    bool killed = KillAfter(k, [&]() -> std::function<void()> {
      std::shared_ptr<Pipe> mine = Pipe::open(name, OpenMode::OpenOnly, child_sends ? PipeEnd::A : PipeEnd::B, opts);
      return [mine, child_sends] {
        ErrorText e;
        if (child_sends) {
          const std::string m = "child";
          mine->send(m.data(), m.size(), Deadline::after(0), e);
        } else {
          char buf[512];
          size_t len;
          mine->recv([](void* ctx, size_t) -> void* { return ctx; }, buf, &len, Deadline::after(0), e);
        }
      };
    });
    Send(*a, "after");
    std::vector<std::string> got = Drain(*b);
    std::vector<std::string> all, other;
    for (int i = 0; i < preload; ++i) all.push_back(Msg(i));
    other = all;
    if (child_sends) other.push_back("child");
    else other.erase(other.begin());
    all.push_back("after");
    other.push_back("after");
    EXPECT_TRUE(got == all || got == other) << "received " << nlohmann::json(got).dump();
    auto stat = nlohmann::json::parse(a->stat_json());
    EXPECT_EQ(stat["a"]["pending_bytes"], 0) << stat.dump();
    a.reset();
    b.reset();
    unlink_object(name);
    if (::testing::Test::HasFailure() || !killed) break;
    ++kills;
  }
  std::printf("%s: %ld kills\n", what, kills);
}

TEST(IpcKillEveryInstruction, PipeSend) { RunPipeCase("pipe send", true); }

TEST(IpcKillEveryInstruction, PipeReceive) { RunPipeCase("pipe receive", false); }

TEST(IpcKillEveryInstruction, PipeSendRestartingAnEmptyRing) {
  RunPipeCase("pipe send restarting an empty ring", true, 0);
}

// An acquire killed anywhere: afterwards all the slots can be taken again
// (the dead holder's come back), and never more than there are.
TEST(IpcKillEveryInstruction, SemaphoreAcquire) {
  setenv("POLYIPC_NAMESPACE", ("coretest-" + std::to_string(getpid())).c_str(), 1);
  SemaphoreOptions opts;
  opts.initial = 2;
  long kills = 0;
  for (long k = 0;; k += 1 + k / 100) {  // a longer operation: sparser sooner, to stay within ~20 s
    SCOPED_TRACE("semaphore acquire, killed after " + std::to_string(k) + " instructions");
    const std::string name = "semkill-" + std::to_string(getpid());
    auto s = Semaphore::open(name, OpenMode::CreateOnly, opts);
    bool killed = KillAfter(k, [&]() -> std::function<void()> {
      std::shared_ptr<Semaphore> mine = Semaphore::open(name, OpenMode::OpenOnly, opts);
      return [mine] {
        ErrorText e;
        mine->acquire(1, Deadline::after(0), e);
      };
    });
    ErrorText e;
    EXPECT_EQ(s->acquire(2, Deadline::after(5'000'000'000), e), Status::Ok) << e.text;
    EXPECT_EQ(s->value(), 0u);
    EXPECT_EQ(s->acquire(1, Deadline::after(0), e), Status::Timeout);
    EXPECT_EQ(s->release(2, e), Status::Ok) << e.text;
    EXPECT_EQ(s->value(), 2u);
    s.reset();
    unlink_object(name);
    if (::testing::Test::HasFailure() || !killed) break;
    ++kills;
  }
  std::printf("semaphore acquire: %ld kills\n", kills);
}

}  // namespace
}  // namespace polyipc
