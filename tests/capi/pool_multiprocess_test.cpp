// Worker pools across real processes (fork), with kill -9: every task served
// once by workers in other processes, a worker killed mid-task whose task
// another finishes, submitters that only ever see their own results, and a
// submitter killed with tasks under way. Waits are bounded; no sleep
// synchronises.
#include <unistd.h>

#include <map>
#include <set>

#include "common.hpp"
#include "sync_handles.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class PoolMp : public CapiTest {};

// A worker: "add" [a, b] -> a + b, "tag" x -> [x, its pid], until CLOSED.
// Returns 0, or the line of the check that failed.
int Work(const std::string& pool) {
  Pool p;
  CHILD_REQUIRE(polyipc_pool_open(pool.c_str(), POLYIPC_OPEN_ONLY, nullptr, p.out(), nullptr) == POLYIPC_OK);
  for (;;) {
    polyipc_pool_task* t = nullptr;
    const int rc = polyipc_pool_take(p, 30 * kSec, &t, nullptr);
    if (rc == POLYIPC_ERR_CLOSED) return 0;
    CHILD_REQUIRE(rc == POLYIPC_OK);
    const json args = json::parse(polyipc_pool_task_args(t, nullptr));
    const std::string fn = polyipc_pool_task_function(t);
    const std::string result =
        fn == "add" ? json(args[0].get<int64_t>() + args[1].get<int64_t>()).dump() : json({args, getpid()}).dump();
    CHILD_REQUIRE(polyipc_pool_finish(t, 0, result.data(), result.size(), nullptr) == POLYIPC_OK);
    polyipc_pool_task_free(t);
  }
}

uint64_t SubmitJson(polyipc_pool* p, const std::string& fn, const json& args) {
  const std::string text = args.dump();
  uint64_t id = 0;
  Err e;
  EXPECT_ST(POLYIPC_OK, polyipc_pool_submit(p, fn.c_str(), text.data(), text.size(), 10 * kSec, &id, &e)) << e.Msg();
  return id;
}

json NextResult(polyipc_pool* p, uint64_t id = 0) {
  char* text = nullptr;
  Err e;
  const int rc = polyipc_pool_result(p, id, 30 * kSec, &text, nullptr, &e);
  EXPECT_ST(POLYIPC_OK, rc) << e.Msg();
  return rc == POLYIPC_OK ? TakeJson(text) : json();
}

int CountResultQueues(const std::string& pool) {
  char* text = nullptr;
  Err e;
  EXPECT_ST(POLYIPC_OK, polyipc_list_json(&text, &e)) << e.Msg();
  int n = 0;
  for (const json& obj : TakeJson(text)) n += obj["name"].get<std::string>().rfind(pool + ".results.", 0) == 0;
  return n;
}

TEST_F(PoolMp, WorkersInOtherProcessesServeEveryTaskOnce) {
  const std::string name = Name("p");
  Pool p;
  CAPI_ASSERT_OK(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, p.out(), &e));
  Children kids;
  std::vector<pid_t> workers;
  for (int w = 0; w < 3; ++w) workers.push_back(kids.Add(Spawn([&] { return Work(name); })));
  constexpr int64_t kTasks = 3000;
  std::map<uint64_t, int64_t> sent;  // id -> i
  int64_t next = 0, got = 0;
  while (got < kTasks) {
    while (next < kTasks && sent.size() < 200) {
      sent[SubmitJson(p, "add", {next, 1000000 * next})] = next;
      ++next;
    }
    const json r = NextResult(p);
    ASSERT_TRUE(r.is_object());
    const auto it = sent.find(r["id"].get<uint64_t>());
    ASSERT_NE(sent.end(), it) << "a result twice, or for no task: " << r;
    EXPECT_EQ(1000001 * it->second, r["result"].get<int64_t>()) << r;
    sent.erase(it);
    ++got;
  }
  CAPI_ASSERT_OK(polyipc_pool_close_tasks(p, &e));
  for (pid_t w : workers) EXPECT_EQ(0, kids.Wait(w, 30s));
  CAPI_EXPECT_OK(polyipc_pool_join(p, 0, &e));
}

TEST_F(PoolMp, AWorkerKilledMidTaskHasItsTaskFinishedByAnother) {
  const std::string name = Name("p");
  Pool p;
  CAPI_ASSERT_OK(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, p.out(), &e));
  const uint64_t id = SubmitJson(p, "add", {20, 22});
  Children kids;
  Pipe took;
  const pid_t victim = kids.Add(Spawn([&] {
    Pool mine;
    CHILD_REQUIRE(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == POLYIPC_OK);
    polyipc_pool_task* t = nullptr;
    CHILD_REQUIRE(polyipc_pool_take(mine, 10 * kSec, &t, nullptr) == POLYIPC_OK);
    took.WriteByte();
    for (;;) pause();  // dies holding the task
  }));
  char c;
  ASSERT_TRUE(took.ReadByte(&c, 10000));
  json r;
  char* text = nullptr;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_pool_result(p, id, 0, &text, nullptr, nullptr));
  kill(victim, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));
  const pid_t rescuer = kids.Add(Spawn([&] { return Work(name); }));
  r = NextResult(p, id);
  EXPECT_EQ(42, r["result"]) << r;
  CAPI_ASSERT_OK(polyipc_pool_join(p, 10 * kSec, &e));
  CAPI_ASSERT_OK(polyipc_pool_close_tasks(p, &e));
  EXPECT_EQ(0, kids.Wait(rescuer, 30s));
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  const json st = TakeJson(text);
  EXPECT_EQ(1, st["counters"]["redeliveries"]) << st;
  EXPECT_EQ(0, st["results_pending"]) << st;
}

// After a chunk's worker was killed and others ran the chunk again: every
// lease ended (the victim's too), the workers end once the pool is closed,
// the chunk came back once, and the rerun's results for the tasks finished
// before the kill were dropped as duplicates.
void ExpectChunkRedeliveredOnce(polyipc_pool* p, Children& kids, const std::vector<pid_t>& workers) {
  Err e;
  CAPI_ASSERT_OK(polyipc_pool_join(p, 10 * kSec, &e));
  CAPI_ASSERT_OK(polyipc_pool_close_tasks(p, &e));
  for (pid_t w : workers) EXPECT_EQ(0, kids.Wait(w, 30s));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  const json st = TakeJson(text);
  EXPECT_EQ(1, st["counters"]["redeliveries"]) << st;
  EXPECT_EQ(0, st["results_pending"]) << "the rerun's duplicates were dropped: " << st;
}

TEST_F(PoolMp, AWorkerKilledMidChunkHasTheChunkFinishedByAnotherAndEachResultComesOnce) {
  const std::string name = Name("p");
  Pool p;
  CAPI_ASSERT_OK(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, p.out(), &e));
  constexpr int kTasks = 40, kChunk = 8;
  std::vector<std::string> args;
  for (int i = 0; i < kTasks; ++i) args.push_back(json({i, 1000 * i}).dump());
  std::vector<const void*> data;
  std::vector<size_t> lens;
  for (const std::string& a : args) data.push_back(a.data()), lens.push_back(a.size());
  uint64_t first = 0;
  size_t submitted = 0;
  CAPI_ASSERT_OK(polyipc_pool_submit_many(p, "add", data.data(), lens.data(), kTasks, kChunk, 10 * kSec, &first,
                                          &submitted, &e));
  ASSERT_EQ(size_t{kTasks}, submitted);
  Children kids;
  Pipe took;
  const pid_t victim = kids.Add(Spawn([&] {  // finishes 3 tasks of its chunk, takes a 4th, dies
    Pool mine;
    CHILD_REQUIRE(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == POLYIPC_OK);
    for (int i = 0; i < 4; ++i) {
      polyipc_pool_task* t = nullptr;
      CHILD_REQUIRE(polyipc_pool_take(mine, 10 * kSec, &t, nullptr) == POLYIPC_OK);
      if (i == 3) break;
      const std::string r = std::to_string(-1 - i);  // not add's answer: which run's result came shows
      CHILD_REQUIRE(polyipc_pool_finish(t, 0, r.data(), r.size(), nullptr) == POLYIPC_OK);
      polyipc_pool_task_free(t);
    }
    took.WriteByte();
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(took.ReadByte(&c, 10000));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(-1 - i, NextResult(p, first + i)["result"]) << "sent before the kill";
  kill(victim, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));
  std::vector<pid_t> workers;
  for (int w = 0; w < 2; ++w) workers.push_back(kids.Add(Spawn([&] { return Work(name); })));
  for (int i = 3; i < kTasks; ++i) EXPECT_EQ(1001 * i, NextResult(p, first + i)["result"]) << i;
  ExpectChunkRedeliveredOnce(p, kids, workers);
  char* text = nullptr;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_result(p, 0, 0, &text, nullptr, nullptr));
}

// The same with batches: a worker takes a chunk as one batch, finishes part
// of it in one call, and is killed; a batch worker elsewhere runs the chunk
// again, and the map's results() sees each task once, the first run's part.
TEST_F(PoolMp, AWorkerKilledMidBatchHasItsChunkRunByAnotherAndResultsComeTogetherOnce) {
  const std::string name = Name("p");
  Pool p;
  CAPI_ASSERT_OK(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, p.out(), &e));
  constexpr int kTasks = 40, kChunk = 8;
  json array = json::array();
  for (int i = 0; i < kTasks; ++i) array.push_back({i, 1000 * i});
  const std::string calls = array.dump();
  uint64_t first = 0;
  size_t submitted = 0;
  CAPI_ASSERT_OK(polyipc_pool_submit_array(p, "add", calls.data(), calls.size(), kChunk, 10 * kSec, &first,
                                           &submitted, &e));
  ASSERT_EQ(size_t{kTasks}, submitted);
  // Runs the batches it takes until CLOSED: "add" [a, b] -> a + b.
  auto batch_worker = [&] {
    Pool mine;
    CHILD_REQUIRE(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == POLYIPC_OK);
    for (;;) {
      polyipc_pool_batch* b = nullptr;
      const int rc = polyipc_pool_take_batch(mine, 0, 30 * kSec, &b, nullptr);
      if (rc == POLYIPC_ERR_CLOSED) return 0;
      CHILD_REQUIRE(rc == POLYIPC_OK);
      const json calls = json::parse(polyipc_pool_batch_args(b, nullptr));
      CHILD_REQUIRE(calls.size() == polyipc_pool_batch_count(b));
      json results = json::array();
      for (const json& call : calls) results.push_back(call[0].get<int64_t>() + call[1].get<int64_t>());
      const std::string r = results.dump();
      CHILD_REQUIRE(polyipc_pool_batch_finish(b, r.data(), r.size(), nullptr, 0, nullptr) == POLYIPC_OK);
      polyipc_pool_batch_free(b);
    }
  };
  Children kids;
  Pipe finished;
  const pid_t victim = kids.Add(Spawn([&] {
    Pool mine;
    CHILD_REQUIRE(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == POLYIPC_OK);
    polyipc_pool_batch* b = nullptr;
    CHILD_REQUIRE(polyipc_pool_take_batch(mine, 0, 10 * kSec, &b, nullptr) == POLYIPC_OK);
    CHILD_REQUIRE(polyipc_pool_batch_count(b) == kChunk);
    CHILD_REQUIRE(polyipc_pool_batch_finish(b, "[-1,-2,-3]", 10, nullptr, 0, nullptr) == POLYIPC_OK);
    finished.WriteByte();
    for (;;) pause();  // killed holding the rest of the batch
  }));
  char c;
  ASSERT_TRUE(finished.ReadByte(&c, 10000));
  kill(victim, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(victim, 10s));
  std::vector<pid_t> workers;
  for (int w = 0; w < 2; ++w) workers.push_back(kids.Add(Spawn(batch_worker)));
  char *values = nullptr, *failures = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_results(p, first, kTasks, 30 * kSec, &values, nullptr, &failures, nullptr, &e));
  const json got = TakeJson(values);
  EXPECT_EQ(json::object(), TakeJson(failures));
  ASSERT_EQ(size_t{kTasks}, got.size());
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(i < 3 ? -1 - i : 1001 * i, got[i]) << i;
  ExpectChunkRedeliveredOnce(p, kids, workers);
}

TEST_F(PoolMp, SubmittersInTwoProcessesEachGetOnlyTheirOwnResults) {
  const std::string name = Name("p");
  Pool p;
  CAPI_ASSERT_OK(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, p.out(), &e));
  Children kids;
  std::vector<pid_t> workers, submitters;
  for (int w = 0; w < 2; ++w) workers.push_back(kids.Add(Spawn([&] { return Work(name); })));
  for (int s = 0; s < 2; ++s)
    submitters.push_back(kids.Add(Spawn([&] {
      Pool mine;
      CHILD_REQUIRE(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == POLYIPC_OK);
      std::set<uint64_t> ids;
      for (int i = 0; i < 500; ++i) {
        const std::string args = json(std::to_string(getpid()) + "/" + std::to_string(i)).dump();
        uint64_t id = 0;
        CHILD_REQUIRE(polyipc_pool_submit(mine, "tag", args.data(), args.size(), 10 * kSec, &id, nullptr) ==
                      POLYIPC_OK);
        ids.insert(id);
      }
      for (int i = 0; i < 500; ++i) {
        char* text = nullptr;
        CHILD_REQUIRE(polyipc_pool_result(mine, 0, 30 * kSec, &text, nullptr, nullptr) == POLYIPC_OK);
        const json r = json::parse(text);
        polyipc_free(text);
        CHILD_REQUIRE(ids.erase(r["id"].get<uint64_t>()) == 1);
        const std::string tag = r["result"][0];
        CHILD_REQUIRE(tag.substr(0, tag.find('/')) == std::to_string(getpid()));
      }
      return 0;
    })));
  for (pid_t s : submitters) EXPECT_EQ(0, kids.Wait(s, 60s));
  CAPI_ASSERT_OK(polyipc_pool_close_tasks(p, &e));
  for (pid_t w : workers) EXPECT_EQ(0, kids.Wait(w, 30s));
}

TEST_F(PoolMp, TasksOfASubmitterKilledMidWayAreStillServedAndItsResultQueueGoes) {
  const std::string name = Name("p");
  Pool p;
  CAPI_ASSERT_OK(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, p.out(), &e));
  Children kids;
  Pipe submitted;
  const pid_t submitter = kids.Add(Spawn([&] {
    Pool mine;
    CHILD_REQUIRE(polyipc_pool_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, mine.out(), nullptr) == POLYIPC_OK);
    for (int i = 0; i < 20; ++i) {
      uint64_t id = 0;
      CHILD_REQUIRE(polyipc_pool_submit(mine, "add", "[1,2]", 5, 10 * kSec, &id, nullptr) == POLYIPC_OK);
    }
    submitted.WriteByte();
    for (;;) pause();
  }));
  char c;
  ASSERT_TRUE(submitted.ReadByte(&c, 10000));
  kill(submitter, SIGKILL);
  EXPECT_EQ(128 + SIGKILL, kids.Wait(submitter, 10s));
  EXPECT_EQ(1, CountResultQueues(name));  // left behind by the dead submitter
  const pid_t worker = kids.Add(Spawn([&] { return Work(name); }));
  CAPI_ASSERT_OK(polyipc_pool_join(p, 30 * kSec, &e));  // every task finished, results dropped or not
  CAPI_ASSERT_OK(polyipc_pool_close_tasks(p, &e));
  EXPECT_EQ(0, kids.Wait(worker, 30s));
  // Nobody is attached to the dead submitter's result queue any more: it is gone.
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_gc_json(&text, &e));
  TakeJson(text);
  EXPECT_EQ(0, CountResultQueues(name));
}

}  // namespace
