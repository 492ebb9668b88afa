// Worker pools through the C API, in one process: submit, take, finish,
// results by id and out of order, failures, timeouts, giving a task back,
// closing, joining, several waiting threads, and bad input.
#include <sys/stat.h>

#include <atomic>
#include <random>
#include <thread>

#include "common.hpp"
#include "sync_handles.hpp"

namespace capitest {
namespace {

// Owns a task; freeing an unfinished one gives it back.
using Task = std::unique_ptr<polyipc_pool_task, void (*)(polyipc_pool_task*)>;
Task NoTask() { return Task(nullptr, polyipc_pool_task_free); }

int Submit(polyipc_pool* p, const std::string& fn, const std::string& args, uint64_t* id, polyipc_error* err = nullptr,
           int64_t timeout_ns = 0) {
  return polyipc_pool_submit(p, fn.c_str(), args.data(), args.size(), timeout_ns, id, err);
}

int Take(polyipc_pool* p, Task* task, int64_t timeout_ns = 0, polyipc_error* err = nullptr) {
  polyipc_pool_task* t = nullptr;
  const int rc = polyipc_pool_take(p, timeout_ns, &t, err);
  if (rc == POLYIPC_OK) task->reset(t);
  return rc;
}

int Finish(polyipc_pool_task* t, bool failed, const std::string& data, polyipc_error* err = nullptr) {
  return polyipc_pool_finish(t, failed ? 1 : 0, data.data(), data.size(), err);
}

int Result(polyipc_pool* p, uint64_t id, json* out, int64_t timeout_ns = 0, polyipc_error* err = nullptr) {
  char* text = nullptr;
  size_t len = 0;
  const int rc = polyipc_pool_result(p, id, timeout_ns, &text, &len, err);
  if (rc == POLYIPC_OK) {
    EXPECT_EQ(std::strlen(text), len);
    *out = TakeJson(text);
  }
  return rc;
}

std::string Args(const polyipc_pool_task* t) {
  size_t len = 0;
  const char* a = polyipc_pool_task_args(t, &len);
  return std::string(a, len);
}

class PoolTest : public CapiTest {
 protected:
  void OpenPool(Pool* p, const std::string& tag, const polyipc_pool_options* opts = nullptr) {
    name_ = Name(tag);
    Err e;
    ASSERT_ST(POLYIPC_OK, polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_OR_CREATE, opts, p->out(), &e)) << e.Msg();
  }
  // Submits fn(args) to p and takes it back as a worker.
  void SubmitAndTake(polyipc_pool* p, const std::string& fn, const std::string& args, uint64_t* id, Task* t) {
    Err e;
    ASSERT_ST(POLYIPC_OK, Submit(p, fn, args, id, &e)) << e.Msg();
    ASSERT_ST(POLYIPC_OK, Take(p, t, 0, &e)) << e.Msg();
    ASSERT_EQ(*id, polyipc_pool_task_id(t->get()));
  }
  std::string name_;
};

TEST_F(PoolTest, ATaskGoesToAWorkerAndItsResultBackToTheSubmitter) {
  Pool submitter, worker;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&submitter, "p"));
  CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, worker.out(), &e));
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(submitter, "square", "[3]", &id, &e));
  EXPECT_NE(0u, id);
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(worker, &t, 0, &e));
  EXPECT_EQ(id, polyipc_pool_task_id(t.get()));
  EXPECT_STREQ("square", polyipc_pool_task_function(t.get()));
  EXPECT_EQ("[3]", Args(t.get()));
  CAPI_ASSERT_OK(Finish(t.get(), false, "9", &e));
  json r;
  CAPI_ASSERT_OK(Result(submitter, id, &r, 0, &e));
  EXPECT_EQ(json({{"id", id}, {"ok", true}, {"result", 9}}), r);
  // Its result was returned once: the id is no longer expected.
  Err e;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Result(submitter, id, &r, 0, &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "pool '" + name_ + "'")) << e.Msg();
  EXPECT_TRUE(ContainsI(e.Msg(), "task " + std::to_string(id))) << e.Msg();
}

TEST_F(PoolTest, ArgumentsArriveByteForByteAndFunctionNamesAnyText) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  const std::string args = " {\"a\" : [1.50, -0e3, \"\\u00e9\\n\", null],\"b\":{}} ";
  const std::string fn = "r\xc3\xa9size \"big\" ,\"args\":";  // quotes and the field name itself
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(p, fn, args, &id, &e));
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(p, &t, 0, &e));
  EXPECT_EQ(fn, polyipc_pool_task_function(t.get()));
  EXPECT_EQ(args, Args(t.get()));
  CAPI_ASSERT_OK(Finish(t.get(), false, args, &e));
  json r;
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(json::parse(args), r["result"]);
}

TEST_F(PoolTest, AFailedTaskReturnsItsErrorText) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  Task t = NoTask();
  ASSERT_NO_FATAL_FAILURE(SubmitAndTake(p, "divide", "[1,0]", &id, &t));
  const std::string text = "ZeroDivisionError: \"1/0\"\n\tat line 2 \xff";  // any bytes; bad UTF-8 replaced
  CAPI_ASSERT_OK(Finish(t.get(), true, text, &e));
  json r;
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(false, r["ok"]);
  EXPECT_EQ("ZeroDivisionError: \"1/0\"\n\tat line 2 \xef\xbf\xbd", r["error"].get<std::string>());
  EXPECT_FALSE(r.contains("result"));
}

TEST_F(PoolTest, ResultsComeBackByIdWhateverTheOrderTheyFinishIn) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  std::vector<uint64_t> ids(5);
  std::vector<Task> tasks;
  for (int i = 0; i < 5; ++i) CAPI_ASSERT_OK(Submit(p, "id", std::to_string(i), &ids[i], &e));
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(NoTask());
    CAPI_ASSERT_OK(Take(p, &tasks.back(), 0, &e));
    EXPECT_EQ(ids[i], polyipc_pool_task_id(tasks.back().get()));  // FIFO
  }
  for (int i = 4; i >= 0; --i) CAPI_ASSERT_OK(Finish(tasks[i].get(), false, Args(tasks[i].get()), &e));
  json r;
  CAPI_ASSERT_OK(Result(p, ids[2], &r, 0, &e));  // behind two others in the result queue
  EXPECT_EQ(2, r["result"]);
  std::set<int> rest;
  for (int i = 0; i < 4; ++i) {
    CAPI_ASSERT_OK(Result(p, 0, &r, 0, &e));
    rest.insert(r["result"].get<int>());
    EXPECT_EQ(ids[r["result"].get<int>()], r["id"].get<uint64_t>());
  }
  EXPECT_EQ((std::set<int>{0, 1, 3, 4}), rest);
  Err e;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Result(p, 0, &r, 0, &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "no task whose result is still to come")) << e.Msg();
}

TEST_F(PoolTest, AResultNotThereYetTimesOutAndTheTaskGoesOn) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(p, "slow", "null", &id, &e));
  json r;
  Err e;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, Result(p, id, &r, 0, &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "pool '" + name_ + "'")) << e.Msg();
  const auto t0 = Clock::now();
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, Result(p, id, &r, 50 * kMs));
  EXPECT_GE(SecondsSince(t0), 0.045);
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(p, &t, 0, &e));
  CAPI_ASSERT_OK(Finish(t.get(), false, "true", &e));
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(true, r["result"]);
}

TEST_F(PoolTest, ATaskFreedUnfinishedGoesBackToThePool) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &id, &e));
  {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(p, &t, 0, &e));
    Task none = NoTask();
    EXPECT_ST(POLYIPC_ERR_EMPTY, Take(p, &none));
  }  // freed unfinished
  Task again = NoTask();
  CAPI_ASSERT_OK(Take(p, &again, 0, &e));
  EXPECT_EQ(id, polyipc_pool_task_id(again.get()));
  CAPI_ASSERT_OK(Finish(again.get(), false, "2", &e));
  json r;
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(2, r["result"]);
}

TEST_F(PoolTest, AResultThatIsNotJsonLeavesTheTaskUnfinished) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  Task t = NoTask();
  ASSERT_NO_FATAL_FAILURE(SubmitAndTake(p, "f", "1", &id, &t));
  Err e;
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON, Finish(t.get(), false, "{\"a\":", &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "pool '" + name_ + "'")) << e.Msg();
  EXPECT_TRUE(ContainsI(e.Msg(), "task " + std::to_string(id))) << e.Msg();
  EXPECT_TRUE(ContainsI(e.Msg(), "byte 5")) << e.Msg();
  json r;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, Result(p, id, &r));
  CAPI_ASSERT_OK(Finish(t.get(), false, "[]", &e));
  e.Reset();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Finish(t.get(), false, "[]", &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "finished already")) << e.Msg();
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(json::array(), r["result"]);
  CAPI_ASSERT_OK(polyipc_pool_join(p, 0, &e));  // ended exactly once
}

TEST_F(PoolTest, AResultTooLargeForTheResultQueueArrivesAsAnError) {
  polyipc_pool_options o;
  polyipc_pool_options_init(&o);
  o.result_capacity_bytes = 4096;
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p", &o));
  uint64_t id = 0;
  Task t = NoTask();
  ASSERT_NO_FATAL_FAILURE(SubmitAndTake(p, "big", "0", &id, &t));
  CAPI_ASSERT_OK(Finish(t.get(), false, "\"" + std::string(10000, 'x') + "\"", &e));
  json r;
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(false, r["ok"]);
  EXPECT_TRUE(ContainsI(r["error"].get<std::string>(), "exceeds")) << r;
}

TEST_F(PoolTest, CloseTasksLetsWorkersDrainThenEnd) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &id, &e));
  CAPI_ASSERT_OK(polyipc_pool_close_tasks(p, &e));
  Err e;
  EXPECT_ST(POLYIPC_ERR_CLOSED, Submit(p, "f", "2", &id, &e));
  EXPECT_TRUE(ContainsI(e.Msg(), "pool '" + name_ + "'")) << e.Msg();
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(p, &t, 0, &e));  // what was submitted before still comes
  Task none = NoTask();
  // The taken task may still come back (its worker may die), so a take waits for it ...
  EXPECT_ST(POLYIPC_ERR_EMPTY, Take(p, &none, 0));
  CAPI_ASSERT_OK(Finish(t.get(), false, "1", &e));
  // ... and once it is finished, every take ends.
  EXPECT_ST(POLYIPC_ERR_CLOSED, Take(p, &none, POLYIPC_FOREVER));
}

TEST_F(PoolTest, JoinWaitsForEveryTask) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t a = 0, b = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &a, &e));
  CAPI_ASSERT_OK(Submit(p, "f", "2", &b, &e));
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_pool_join(p, 0, nullptr));
  for (int i = 0; i < 2; ++i) {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(p, &t, 0, &e));
    EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_pool_join(p, 0, nullptr));
    CAPI_ASSERT_OK(Finish(t.get(), i == 1, "1", &e));
  }
  CAPI_ASSERT_OK(polyipc_pool_join(p, 0, &e));
}

TEST_F(PoolTest, ATaskNoWorkerTookYetIsCancelledNeverRunsAndJoinDoesNotWaitForIt) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t a = 0, b = 0, c = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &a, &e));
  CAPI_ASSERT_OK(Submit(p, "f", "2", &b, &e));
  CAPI_ASSERT_OK(Submit(p, "f", "3", &c, &e));
  int cancelled = -1;
  CAPI_ASSERT_OK(polyipc_pool_cancel(p, b, &cancelled, &e));  // the middle one
  EXPECT_EQ(1, cancelled);
  json r;
  CAPI_ASSERT_OK(Result(p, b, &r, 0, &e));
  EXPECT_EQ(json::parse(R"({"id":)" + std::to_string(b) + R"(,"ok":false,"cancelled":true,"error":"cancelled"})"), r);
  Err gone;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_cancel(p, b, &cancelled, &gone));  // cancelled already, and said so
  EXPECT_NE(std::string::npos, std::string(gone.Msg()).find("task " + std::to_string(b))) << gone.Msg();
  for (uint64_t want : {a, c}) {  // the others run, in order
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(p, &t, 0, &e));
    EXPECT_EQ(want, polyipc_pool_task_id(t.get()));
    CAPI_ASSERT_OK(Finish(t.get(), false, Args(t.get()), &e));
  }
  Task none = NoTask();
  EXPECT_ST(POLYIPC_ERR_EMPTY, Take(p, &none));
  CAPI_ASSERT_OK(polyipc_pool_join(p, 0, &e));  // the cancelled task is not waited for
  CAPI_ASSERT_OK(Result(p, c, &r, 0, &e));
  EXPECT_EQ(3, r["result"]);
  char* stat = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &stat, &e));
  const json st = TakeJson(stat);
  EXPECT_EQ(0, st["depth"]) << st.dump();
  EXPECT_EQ(1, st["results_pending"]) << st.dump();  // a's result, not asked for
}

TEST_F(PoolTest, ATaskAWorkerHoldsIsNotCancelledAndItsResultComes) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  Task t = NoTask();
  ASSERT_NO_FATAL_FAILURE(SubmitAndTake(p, "f", "7", &id, &t));
  int cancelled = -1;
  CAPI_ASSERT_OK(polyipc_pool_cancel(p, id, &cancelled, &e));
  EXPECT_EQ(0, cancelled);
  CAPI_ASSERT_OK(Finish(t.get(), false, "49", &e));
  json r;
  CAPI_ASSERT_OK(Result(p, id, &r, 0, &e));
  EXPECT_EQ(49, r["result"]);
  EXPECT_FALSE(r.contains("cancelled"));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_cancel(p, id, &cancelled, nullptr));  // its result came
}

TEST_F(PoolTest, ATaskGivenBackByItsWorkerCanBeCancelled) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  Task t = NoTask();
  ASSERT_NO_FATAL_FAILURE(SubmitAndTake(p, "f", "7", &id, &t));
  t.reset();  // unfinished: back in the pool, as when a worker dies
  int cancelled = -1;
  CAPI_ASSERT_OK(polyipc_pool_cancel(p, id, &cancelled, &e));
  EXPECT_EQ(1, cancelled);
  Task none = NoTask();
  EXPECT_ST(POLYIPC_ERR_EMPTY, Take(p, &none));
  CAPI_ASSERT_OK(polyipc_pool_join(p, 0, &e));
}

TEST_F(PoolTest, CancelAnswersAThreadAlreadyWaitingForTheResult) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &id, &e));
  std::atomic<int> rc{-1};
  json r;
  std::thread waiter([&] { rc = Result(p, id, &r, 30 * kSec); });
  // Whether the waiter is already blocked or not, it gets the cancelled result.
  int cancelled = -1;
  CAPI_ASSERT_OK(polyipc_pool_cancel(p, id, &cancelled, &e));
  EXPECT_EQ(1, cancelled);
  waiter.join();
  ASSERT_EQ(POLYIPC_OK, rc.load());
  EXPECT_EQ(true, r["cancelled"]);
  EXPECT_EQ(id, r["id"]);
}

TEST_F(PoolTest, EachSubmittingHandleHasItsOwnPrivateResultQueueRemovedWithIt) {
  Pool a, b;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&a, "p"));
  CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, b.out(), &e));
  uint64_t ida = 0, idb = 0;
  CAPI_ASSERT_OK(Submit(a, "f", "\"a\"", &ida, &e));
  CAPI_ASSERT_OK(Submit(b, "f", "\"b\"", &idb, &e));
  EXPECT_EQ(ida, idb);  // ids are per handle
  for (int i = 0; i < 2; ++i) {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(a, &t, 0, &e));
    CAPI_ASSERT_OK(Finish(t.get(), false, Args(t.get()), &e));
  }
  json r;
  CAPI_ASSERT_OK(Result(b, idb, &r, 0, &e));
  EXPECT_EQ("b", r["result"]);
  CAPI_ASSERT_OK(Result(a, ida, &r, 0, &e));
  EXPECT_EQ("a", r["result"]);

  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(a, &text, &e));
  const json st = TakeJson(text);
  EXPECT_EQ("pool", st["kind"]);
  EXPECT_EQ(0, st["results_pending"]);
  const std::string results = st["result_queue"];
  EXPECT_EQ(name_ + ".results.", results.substr(0, name_.size() + 9));
  struct stat sb;
  ASSERT_EQ(0, ::stat(ShmPath(results).c_str(), &sb));
  EXPECT_EQ(0600u, sb.st_mode & 0777);
  text = nullptr;
  CAPI_ASSERT_OK(polyipc_stat_json(name_.c_str(), &text, &e));
  EXPECT_EQ("pool", TakeJson(text)["kind"]);
  a.Reset();
  Err e;
  EXPECT_ST(POLYIPC_ERR_NOT_FOUND, polyipc_stat_json(results.c_str(), &text, &e)) << e.Msg();
}

TEST_F(PoolTest, AWorkerFinishingForASubmitterThatIsGoneDropsTheResult) {
  Pool submitter, worker;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&submitter, "p"));
  CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, worker.out(), &e));
  uint64_t id = 0;
  CAPI_ASSERT_OK(Submit(submitter, "f", "1", &id, &e));
  submitter.Reset();
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(worker, &t, 0, &e));
  CAPI_ASSERT_OK(Finish(t.get(), false, "1", &e));
  CAPI_ASSERT_OK(polyipc_pool_join(worker, 0, &e));
}

TEST_F(PoolTest, ADuplicateResultIsDropped) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t one = 0, two = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &one, &e));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  Queue results;
  CAPI_ASSERT_OK(OpenQ(TakeJson(text)["result_queue"], POLYIPC_OPEN_ONLY, nullptr, &results, &e));
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(p, &t, 0, &e));
  CAPI_ASSERT_OK(Finish(t.get(), false, "1", &e));
  json r;
  CAPI_ASSERT_OK(Result(p, one, &r, 0, &e));
  // A worker that died after sending but before ending its task runs it again.
  const std::string again = json({{"id", one}, {"ok", true}, {"result", 1}}).dump();
  CAPI_ASSERT_OK(Put(results, again, 0, &e));
  CAPI_ASSERT_OK(Submit(p, "f", "2", &two, &e));
  CAPI_ASSERT_OK(Take(p, &t, 0, &e));
  CAPI_ASSERT_OK(Finish(t.get(), false, "2", &e));
  CAPI_ASSERT_OK(Result(p, 0, &r, 0, &e));
  EXPECT_EQ(two, r["id"].get<uint64_t>());
  EXPECT_EQ(0u, Size(results));
}

TEST_F(PoolTest, TwoThreadsWaitingForOneResultOneGetsItTheOtherIsToldAtOnce) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  Task t = NoTask();
  ASSERT_NO_FATAL_FAILURE(SubmitAndTake(p, "f", "1", &id, &t));
  std::atomic<int> ok{0}, gone{0}, other{0};
  auto wait = [&] {
    json r;
    Err err;
    const int rc = Result(p, id, &r, 60 * kSec, &err);  // a timeout would fail the test below
    if (rc == POLYIPC_OK) ++ok;
    else if (rc == POLYIPC_ERR_INVALID_ARG) ++gone;  // (had it gone before it asked, it is told so too)
    else ++other;
  };
  std::thread a(wait), b(wait);
  for (int i = 0; i < 60000; ++i) {  // until both wait for it (bounded: 60 s)
    char* stat = nullptr;
    CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &stat, &e));
    if (TakeJson(stat)["results_awaited_by_id"] == 2) break;
    std::this_thread::yield();
  }
  CAPI_ASSERT_OK(Finish(t.get(), false, "2", &e));
  a.join();
  b.join();
  EXPECT_EQ(1, ok.load());
  EXPECT_EQ(1, gone.load());
  EXPECT_EQ(0, other.load());
}

TEST_F(PoolTest, ThreadsWaitingForTheirOwnResultsEachGetTheirs) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  constexpr int kThreads = 4, kEach = 100;
  std::atomic<int> wrong{0}, done{0};
  std::thread worker([&] {  // takes what is there, then finishes it in a shuffled order
    std::mt19937 rng(5);
    std::vector<Task> held;
    for (int n = 0; n < kThreads * kEach;) {
      Task t = NoTask();
      if (Take(p, &t, held.empty() ? 1 * kSec : 0) == POLYIPC_OK) {
        held.push_back(std::move(t));
        continue;
      }
      std::shuffle(held.begin(), held.end(), rng);
      for (Task& h : held) Finish(h.get(), false, Args(h.get()));
      n += held.size();
      held.clear();
    }
  });
  std::vector<std::thread> submitters;
  for (int k = 0; k < kThreads; ++k)
    submitters.emplace_back([&, k] {
      for (int i = 0; i < kEach; ++i) {
        const int v = k * 1000 + i;
        uint64_t id = 0;
        if (Submit(p, "id", std::to_string(v), &id, nullptr, 10 * kSec) != POLYIPC_OK) {
          ++wrong;
          continue;
        }
        json r;
        if (Result(p, id, &r, 10 * kSec) != POLYIPC_OK || r["result"] != v || r["id"] != id) ++wrong;
        ++done;
      }
    });
  for (auto& s : submitters) s.join();
  worker.join();
  EXPECT_EQ(0, wrong.load());
  EXPECT_EQ(kThreads * kEach, done.load());
}

TEST_F(PoolTest, AWaitForAnyTaskLeavesAloneTheResultAnotherThreadWaitsForById) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t first = 0, second = 0;
  CAPI_ASSERT_OK(Submit(p, "f", "1", &first, &e));
  CAPI_ASSERT_OK(Submit(p, "f", "2", &second, &e));
  json any, by_id;
  int any_rc = -1, by_id_rc = -1;
  std::thread any_waiter([&] { any_rc = Result(p, 0, &any, 10 * kSec); });
  std::thread id_waiter([&] { by_id_rc = Result(p, first, &by_id, 10 * kSec); });
  const auto t0 = Clock::now();  // the by-id wait has begun (else the first result is anyone's)
  for (;;) {
    char* text = nullptr;
    CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
    if (TakeJson(text)["results_awaited_by_id"] == 1) break;
    ASSERT_LT(SecondsSince(t0), 10.0);
    std::this_thread::yield();
  }
  for (int i = 0; i < 2; ++i) {  // the first task's result comes first
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(p, &t, 0, &e));
    CAPI_ASSERT_OK(Finish(t.get(), false, Args(t.get()), &e));
  }
  any_waiter.join();
  id_waiter.join();
  EXPECT_ST(POLYIPC_OK, by_id_rc);
  EXPECT_ST(POLYIPC_OK, any_rc);
  EXPECT_EQ(first, by_id["id"].get<uint64_t>());
  EXPECT_EQ(second, any["id"].get<uint64_t>());
}

// submit_many of count texts, chunk to a message; returns the first id.
uint64_t SubmitMany(polyipc_pool* p, const std::string& fn, const std::vector<std::string>& args, size_t chunk,
                    size_t* submitted = nullptr, int rc_wanted = POLYIPC_OK) {
  std::vector<const void*> data;
  std::vector<size_t> lens;
  for (const std::string& a : args) data.push_back(a.data()), lens.push_back(a.size());
  uint64_t first = 0;
  size_t done = 0;
  Err e;
  EXPECT_ST(rc_wanted, polyipc_pool_submit_many(p, fn.c_str(), data.data(), lens.data(), args.size(), chunk, 0,
                                                &first, &done, &e))
      << e.Msg();
  if (submitted) *submitted = done;
  return first;
}

TEST_F(PoolTest, SubmitManyInChunksHandsOutPlainTasksAndResultsComeOnePerTask) {
  Pool submitter, worker;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&submitter, "p"));
  CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, worker.out(), &e));
  // 7 tasks, 3 to a message: chunks of 3, 3 and 1; arguments byte for byte, any JSON
  const std::vector<std::string> args = {"[0]", " {\"a\": [1, 2]} ", "\"x,]\"", "3.50", "[[]]", "null", "\"\\u00e9\""};
  size_t submitted = 0;
  const uint64_t first = SubmitMany(submitter, "echo", args, 3, &submitted);
  ASSERT_EQ(args.size(), submitted);
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(submitter, &text, &e));
  EXPECT_EQ(3, TakeJson(text)["depth"]) << "three messages in the pool";
  for (size_t i = 0; i < args.size(); ++i) {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(worker, &t, 0, &e));
    EXPECT_EQ(first + i, polyipc_pool_task_id(t.get()));
    EXPECT_STREQ("echo", polyipc_pool_task_function(t.get()));
    EXPECT_EQ(args[i], Args(t.get()));
    CAPI_ASSERT_OK(Finish(t.get(), i == 4, Args(t.get()), &e));
  }
  Task none = NoTask();
  EXPECT_ST(POLYIPC_ERR_EMPTY, Take(worker, &none));
  CAPI_ASSERT_OK(polyipc_pool_join(submitter, 0, &e));  // every chunk's lease ended
  for (size_t i = args.size(); i-- > 0;) {  // by id, in any order
    json r;
    CAPI_ASSERT_OK(Result(submitter, first + i, &r, 0, &e));
    EXPECT_EQ(first + i, r["id"]);
    if (i == 4) {
      EXPECT_EQ(false, r["ok"]);
      EXPECT_EQ(args[i], r["error"]);
    } else {
      EXPECT_EQ(json::parse(args[i]), r["result"]) << r;
    }
  }
  // a chunk of 1 is a plain task, which can be cancelled; a task of a chunk runs
  const uint64_t plain = SubmitMany(submitter, "f", {"1"}, 1);
  EXPECT_EQ(first + args.size(), plain);
  int cancelled = 0;
  CAPI_EXPECT_OK(polyipc_pool_cancel(submitter, plain, &cancelled, &e));
  EXPECT_EQ(1, cancelled);
  const uint64_t pair = SubmitMany(submitter, "f", {"2", "3"}, 2);
  CAPI_EXPECT_OK(polyipc_pool_cancel(submitter, pair + 1, &cancelled, &e));
  EXPECT_EQ(0, cancelled) << "a task of a chunk is not cancelled alone";
  for (int i = 0; i < 2; ++i) {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(worker, &t, 0, &e));
    CAPI_ASSERT_OK(Finish(t.get(), false, Args(t.get()), &e));
  }
  json r;
  CAPI_ASSERT_OK(Result(submitter, plain, &r, 0, &e));
  EXPECT_EQ(true, r["cancelled"]) << r;
  CAPI_ASSERT_OK(Result(submitter, pair + 1, &r, 0, &e));
  EXPECT_EQ(3, r["result"]) << r;
  CAPI_ASSERT_OK(Result(submitter, pair, &r, 0, &e));
  EXPECT_EQ(2, r["result"]) << r;
  // count 0 submits nothing
  SubmitMany(submitter, "f", {}, 4, &submitted);
  EXPECT_EQ(0u, submitted);
}

TEST_F(PoolTest, AChunkGoesBackWholeWhenATaskOfItIsGivenBack) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  const uint64_t first = SubmitMany(p, "f", {"0", "1", "2", "3"}, 4);
  {
    Task a = NoTask(), b = NoTask();
    CAPI_ASSERT_OK(Take(p, &a, 0, &e));
    CAPI_ASSERT_OK(Take(p, &b, 0, &e));
    EXPECT_EQ(first + 1, polyipc_pool_task_id(b.get()));
    CAPI_ASSERT_OK(Finish(a.get(), false, "10", &e));  // its result goes out now
    // b is freed unfinished: the chunk goes back, tasks 2 and 3 are no longer handed out here
  }
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  EXPECT_EQ(1, TakeJson(text)["depth"]) << "the chunk is back in the pool";
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_pool_join(p, 0, nullptr));
  for (int i = 0; i < 4; ++i) {  // all four again, task 0 too
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(p, &t, 0, &e));
    EXPECT_EQ(first + i, polyipc_pool_task_id(t.get()));
    CAPI_ASSERT_OK(Finish(t.get(), false, std::to_string(20 + i), &e));
  }
  CAPI_ASSERT_OK(polyipc_pool_join(p, 0, &e));
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) {
    json r;
    CAPI_ASSERT_OK(Result(p, first + i, &r, 0, &e));
    got.push_back(r["result"].get<int>());
  }
  EXPECT_EQ((std::vector<int>{10, 21, 22, 23}), got) << "task 0's first result, the rerun's dropped";
  json none;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Result(p, 0, &none, 0, nullptr)) << "no duplicate is left to come";
}

// A worker loop that stops taking (serve's stop) gives back the chunk tasks it
// has not run; so does closing the handle. Either way another worker runs them.
TEST_F(PoolTest, TheUntakenTasksOfAChunkGoBackWhenTheLoopEndsOrTheHandleCloses) {
  Pool submitter;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&submitter, "p"));
  const uint64_t first = SubmitMany(submitter, "f", {"0", "1", "2"}, 3);
  Pool stopping;
  CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, stopping.out(), &e));
  {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(stopping, &t, 0, &e));
    CAPI_ASSERT_OK(Finish(t.get(), false, "10", &e));
  }
  CAPI_ASSERT_OK(polyipc_pool_give_back_held(stopping, &e));  // the loop ends: tasks 1 and 2 were never run
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(submitter, &text, &e));
  EXPECT_EQ(1, TakeJson(text)["depth"]) << "the chunk is back";
  CAPI_ASSERT_OK(polyipc_pool_give_back_held(stopping, &e));  // nothing held now: nothing to do
  CAPI_ASSERT_OK(polyipc_pool_stat_json(submitter, &text, &e));
  EXPECT_EQ(1, TakeJson(text)["depth"]);
  {
    Pool closing;  // takes the chunk again, runs one task, and is closed
    CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, closing.out(), &e));
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(closing, &t, 0, &e));
    EXPECT_EQ(first, polyipc_pool_task_id(t.get()));
    CAPI_ASSERT_OK(Finish(t.get(), false, "20", &e));
  }
  for (int i = 0; i < 3; ++i) {  // all three again, in another worker
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(stopping, &t, 0, &e));
    EXPECT_EQ(first + i, polyipc_pool_task_id(t.get()));
    CAPI_ASSERT_OK(Finish(t.get(), false, std::to_string(30 + i), &e));
  }
  CAPI_ASSERT_OK(polyipc_pool_join(submitter, 0, &e));
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) {
    json r;
    CAPI_ASSERT_OK(Result(submitter, first + i, &r, 0, &e));
    got.push_back(r["result"].get<int>());
  }
  EXPECT_EQ((std::vector<int>{10, 31, 32}), got);
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_give_back_held(nullptr, nullptr));
}

TEST_F(PoolTest, SubmitManyChecksEveryArgumentFirstAndReportsWhatItPut) {
  polyipc_pool_options o;
  polyipc_pool_options_init(&o);
  o.capacity_bytes = 4096;
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p", &o));
  Err e1;
  const std::vector<std::string> bad = {"1", "2", "{oops", "4"};
  std::vector<const void*> data;
  std::vector<size_t> lens;
  for (const std::string& a : bad) data.push_back(a.data()), lens.push_back(a.size());
  uint64_t first = 0;
  size_t submitted = 9;
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON,
            polyipc_pool_submit_many(p, "f", data.data(), lens.data(), 4, 2, 0, &first, &submitted, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "arguments 2 of the batch")) << e1.Msg();
  EXPECT_EQ(0u, submitted);
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG,
            polyipc_pool_submit_many(p, "f", data.data(), lens.data(), 2, 0, 0, &first, &submitted, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "chunk of 0")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG,
            polyipc_pool_submit_many(p, "f", nullptr, lens.data(), 2, 1, 0, &first, &submitted, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG,
            polyipc_pool_submit_many(p, "f", data.data(), lens.data(), 2, 1, 0, &first, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG,
            polyipc_pool_submit_many(nullptr, "f", data.data(), lens.data(), 2, 1, 0, &first, &submitted, &e1));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  EXPECT_EQ(0, TakeJson(text)["depth"]) << "nothing was put";
  // A pool of 4 KiB: chunks of 200 tasks of 30 bytes never fit (TOO_LARGE); of 10, the pool fills (FULL)
  const std::vector<std::string> many(200, "\"" + std::string(28, 'x') + "\"");
  size_t done = 9;
  SubmitMany(p, "f", many, 200, &done, POLYIPC_ERR_TOO_LARGE);
  EXPECT_EQ(0u, done);
  first = SubmitMany(p, "f", many, 10, &done, POLYIPC_ERR_FULL);
  EXPECT_GT(done, 0u);
  EXPECT_LT(done, many.size());
  EXPECT_EQ(0u, done % 10) << "whole chunks";
  for (size_t i = 0; i < done; ++i) {
    Task t = NoTask();
    CAPI_ASSERT_OK(Take(p, &t, 0, &e));
    EXPECT_EQ(first + i, polyipc_pool_task_id(t.get()));
    CAPI_ASSERT_OK(Finish(t.get(), false, "0", &e));
  }
  json r;
  CAPI_EXPECT_OK(Result(p, first + done - 1, &r, 0, &e));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Result(p, first + done, &r, 0, nullptr)) << "ids past *submitted are no tasks";
}

// ---- batches: a JSON array of arguments in, a JSON array of results out ----

using Batch = std::unique_ptr<polyipc_pool_batch, void (*)(polyipc_pool_batch*)>;
Batch NoBatch() { return Batch(nullptr, polyipc_pool_batch_free); }

uint64_t SubmitArray(polyipc_pool* p, const std::string& fn, const std::string& array, size_t chunk,
                     size_t* submitted = nullptr) {
  uint64_t first = 0;
  size_t done = 0;
  Err e;
  EXPECT_ST(POLYIPC_OK,
            polyipc_pool_submit_array(p, fn.c_str(), array.data(), array.size(), chunk, 0, &first, &done, &e))
      << e.Msg();
  if (submitted) *submitted = done;
  return first;
}

int TakeBatch(polyipc_pool* p, size_t max_tasks, Batch* batch, polyipc_error* err = nullptr) {
  polyipc_pool_batch* b = nullptr;
  const int rc = polyipc_pool_take_batch(p, max_tasks, 0, &b, err);
  if (rc == POLYIPC_OK) batch->reset(b);
  return rc;
}

std::string BatchArgs(const polyipc_pool_batch* b) {
  size_t len = 0;
  const char* a = polyipc_pool_batch_args(b, &len);
  EXPECT_EQ(std::strlen(a), len);
  return std::string(a, len);
}

int FinishBatch(polyipc_pool_batch* b, const std::string& results, const std::string& errors = "",
                polyipc_error* err = nullptr) {
  return polyipc_pool_batch_finish(b, results.data(), results.size(), errors.empty() ? nullptr : errors.data(),
                                   errors.size(), err);
}

// *out = {"values": [...], "failures": {...}}
int Results(polyipc_pool* p, uint64_t first, size_t count, json* out, int64_t timeout_ns = 0,
            polyipc_error* err = nullptr) {
  char *values = nullptr, *failures = nullptr;
  size_t values_len = 0, failures_len = 0;
  const int rc = polyipc_pool_results(p, first, count, timeout_ns, &values, &values_len, &failures, &failures_len, err);
  if (rc == POLYIPC_OK) {
    EXPECT_EQ(std::strlen(values), values_len);
    EXPECT_EQ(std::strlen(failures), failures_len);
    *out = json{{"values", TakeJson(values)}, {"failures", TakeJson(failures)}};
  } else {
    EXPECT_EQ(nullptr, values);
  }
  return rc;
}

TEST_F(PoolTest, BatchesTakeAChunksTasksTogetherAndFinishThemWithOneArrayOfResults) {
  Pool submitter, worker;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&submitter, "p"));
  CAPI_ASSERT_OK(polyipc_pool_open(name_.c_str(), POLYIPC_OPEN_ONLY, nullptr, worker.out(), &e));
  // 7 tasks from one array, 3 to a message: chunks of 3, 3 and 1; elements byte for byte (trimmed)
  size_t submitted = 0;
  const uint64_t first = SubmitArray(
      submitter, "echo", " [[0], {\"a\": [1, 2]} ,\"x,]\", 3.50,[[]],null,\"\\u00e9\"] ", 3, &submitted);
  ASSERT_EQ(7u, submitted);
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(submitter, &text, &e));
  EXPECT_EQ(3, TakeJson(text)["depth"]) << "three messages in the pool";

  Batch b = NoBatch();
  CAPI_ASSERT_OK(TakeBatch(worker, 0, &b, &e));  // the first chunk, whole
  EXPECT_EQ(first, polyipc_pool_batch_first_id(b.get()));
  EXPECT_EQ(3u, polyipc_pool_batch_count(b.get()));
  EXPECT_STREQ("echo", polyipc_pool_batch_function(b.get()));
  EXPECT_EQ("[[0],{\"a\": [1, 2]},\"x,]\"]", BatchArgs(b.get()));
  const std::vector<std::string> each = {"[0]", "{\"a\": [1, 2]}", "\"x,]\""};
  for (size_t i = 0; i < each.size(); ++i) {  // each task's alone
    size_t len = 0;
    const char* a = polyipc_pool_batch_task_args(b.get(), i, &len);
    ASSERT_NE(nullptr, a);
    EXPECT_EQ(each[i], std::string(a, len));
  }
  EXPECT_EQ(nullptr, polyipc_pool_batch_task_args(b.get(), 3, nullptr)) << "past count";
  EXPECT_EQ(nullptr, polyipc_pool_batch_task_args(nullptr, 0, nullptr));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[\"r0\", null, {\"r\": 2}]", "{\"1\": \"ValueError: no\"}", &e));
  EXPECT_EQ(3u, polyipc_pool_batch_finished(b.get()));

  CAPI_ASSERT_OK(TakeBatch(worker, 2, &b, &e));  // at most 2 of the second chunk
  EXPECT_EQ(first + 3, polyipc_pool_batch_first_id(b.get()));
  EXPECT_EQ("[3.50,[[]]]", BatchArgs(b.get()));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[3]", "", &e));  // part of it, then the rest
  EXPECT_EQ(1u, polyipc_pool_batch_finished(b.get()));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[4]", "", &e));
  Task t = NoTask();  // a plain take gets the chunk's last task, held by this handle
  CAPI_ASSERT_OK(Take(worker, &t, 0, &e));
  EXPECT_EQ(first + 5, polyipc_pool_task_id(t.get()));
  CAPI_ASSERT_OK(Finish(t.get(), false, "5", &e));
  CAPI_ASSERT_OK(TakeBatch(worker, 0, &b, &e));  // a plain task is a batch of one
  EXPECT_EQ(first + 6, polyipc_pool_batch_first_id(b.get()));
  EXPECT_EQ(1u, polyipc_pool_batch_count(b.get()));
  EXPECT_EQ("[\"\\u00e9\"]", BatchArgs(b.get()));
  size_t len = 0;
  const char* alone = polyipc_pool_batch_task_args(b.get(), 0, &len);
  EXPECT_EQ("\"\\u00e9\"", std::string(alone, len));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[6]", "", &e));
  Batch none = NoBatch();
  EXPECT_ST(POLYIPC_ERR_EMPTY, TakeBatch(worker, 0, &none));
  CAPI_ASSERT_OK(polyipc_pool_join(submitter, 0, &e));

  json r;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Result(submitter, 0, &r)) << "an array's results are not for any taker";
  CAPI_ASSERT_OK(Results(submitter, first + 1, 6, &r, 0, &e));
  EXPECT_EQ(json::parse(R"([null, {"r": 2}, 3, 4, 5, 6])"), r["values"]) << r;
  EXPECT_EQ(json::parse(R"({"0": {"id": )" + std::to_string(first + 1) + R"(, "ok": false, "error": "ValueError: no"}})"),
            r["failures"])
      << r;
  CAPI_ASSERT_OK(Result(submitter, first, &r, 0, &e));  // and by id
  EXPECT_EQ("r0", r["result"]);
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Results(submitter, first, 1, &r)) << "each result is returned once";
}

TEST_F(PoolTest, AResultOfABatchTooLargeForTheResultQueueFailsAloneAndTheOthersArrive) {
  polyipc_pool_options o;
  polyipc_pool_options_init(&o);
  o.result_capacity_bytes = 4096;
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p", &o));
  const uint64_t first = SubmitArray(p, "f", "[0,1,2]", 3);
  Batch b = NoBatch();
  CAPI_ASSERT_OK(TakeBatch(p, 0, &b, &e));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[10,\"" + std::string(10000, 'x') + "\",12]", "", &e));
  json r;
  CAPI_ASSERT_OK(Results(p, first, 3, &r, 0, &e));
  EXPECT_EQ(json::parse("[10,null,12]"), r["values"]) << r;
  EXPECT_TRUE(ContainsI(r["failures"]["1"]["error"].get<std::string>(), "exceeds")) << r;
}

TEST_F(PoolTest, ABatchFreedPartlyFinishedGivesItsChunkBackWhole) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  const uint64_t first = SubmitArray(p, "f", "[0,1,2,3]", 4);
  {
    Batch b = NoBatch();
    CAPI_ASSERT_OK(TakeBatch(p, 0, &b, &e));
    CAPI_ASSERT_OK(FinishBatch(b.get(), "[10]", "", &e));  // its result goes out now; the batch is freed then
  }
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  EXPECT_EQ(1, TakeJson(text)["depth"]) << "the chunk is back in the pool";
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, polyipc_pool_join(p, 0, nullptr));
  Batch b = NoBatch();
  CAPI_ASSERT_OK(TakeBatch(p, 0, &b, &e));
  EXPECT_EQ(first, polyipc_pool_batch_first_id(b.get())) << "all four again, task 0 too";
  EXPECT_EQ(4u, polyipc_pool_batch_count(b.get()));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[20,21,22,23]", "", &e));
  CAPI_ASSERT_OK(polyipc_pool_join(p, 0, &e));
  json r;
  CAPI_ASSERT_OK(Results(p, first, 4, &r, 0, &e));
  EXPECT_EQ(json::parse("[10,21,22,23]"), r["values"]) << "task 0's first result, the rerun's dropped";
  EXPECT_EQ(json::object(), r["failures"]);
}

TEST_F(PoolTest, ResultsTakeNoneUntilAllCame) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  const uint64_t first = SubmitArray(p, "f", "[0,1,2]", 3);
  uint64_t other = 0;  // a task outside the range: its result, read on the way, waits for its own caller
  CAPI_ASSERT_OK(Submit(p, "g", "7", &other, &e));
  Batch b = NoBatch();
  CAPI_ASSERT_OK(TakeBatch(p, 0, &b, &e));
  Task t = NoTask();
  CAPI_ASSERT_OK(Take(p, &t, 0, &e));
  CAPI_ASSERT_OK(Finish(t.get(), false, "70", &e));
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[0,1]", "", &e));
  json r;
  Err timeout;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, Results(p, first, 3, &r, 1'000'000, &timeout));
  EXPECT_TRUE(ContainsI(timeout.Msg(), "2 of the 3 results")) << timeout.Msg();
  EXPECT_TRUE(ContainsI(timeout.Msg(), name_)) << timeout.Msg();
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[2]", "", &e));
  CAPI_ASSERT_OK(Results(p, first, 3, &r, 0, &e));
  EXPECT_EQ(json::parse("[0,1,2]"), r["values"]);
  CAPI_ASSERT_OK(Result(p, 0, &r, 0, &e));
  EXPECT_EQ(other, r["id"]);
  EXPECT_EQ(70, r["result"]);
}

TEST_F(PoolTest, BadBatchInputGetsAClearErrorAndFinishesNothing) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t first = 0;
  size_t done = 9;
  const std::string object = "{\"a\":1}";
  Err e1;
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON,
            polyipc_pool_submit_array(p, "f", object.data(), object.size(), 2, 0, &first, &done, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "not a JSON array")) << e1.Msg();
  EXPECT_TRUE(ContainsI(e1.Msg(), name_)) << e1.Msg();
  const std::string broken = "[1,{oops]";
  EXPECT_ST(POLYIPC_ERR_INVALID_JSON,
            polyipc_pool_submit_array(p, "f", broken.data(), broken.size(), 2, 0, &first, &done, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "byte 4")) << e1.Msg();
  EXPECT_EQ(0u, done);
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_submit_array(p, "f", "[1]", 3, 0, 0, &first, &done, &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "chunk of 0")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_submit_array(p, nullptr, "[1]", 3, 1, 0, &first, &done, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_submit_array(nullptr, "f", "[1]", 3, 1, 0, &first, &done, &e1));
  char* text = nullptr;
  CAPI_ASSERT_OK(polyipc_pool_stat_json(p, &text, &e));
  EXPECT_EQ(0, TakeJson(text)["depth"]) << "nothing was put";

  first = SubmitArray(p, "f", "[0,1]", 2);
  Batch b = NoBatch();
  CAPI_ASSERT_OK(TakeBatch(p, 0, &b, &e));
  struct Case {
    std::string results, errors;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"{\"r\":1}", "", POLYIPC_ERR_INVALID_JSON, "not a JSON array"},
      {"[1,", "", POLYIPC_ERR_INVALID_JSON, "unexpected end"},
      {"[]", "", POLYIPC_ERR_INVALID_ARG, "0 results for 2 unfinished tasks"},
      {"[1,2,3]", "", POLYIPC_ERR_INVALID_ARG, "3 results for 2"},
      {"[1,2]", "[\"x\"]", POLYIPC_ERR_INVALID_JSON, "errors must be a JSON object"},
      {"[1,2]", "{\"2\":\"x\"}", POLYIPC_ERR_INVALID_JSON, "\"0\" .. \"1\""},
      {"[1,2]", "{\"-0\":\"x\"}", POLYIPC_ERR_INVALID_JSON, "errors must"},
      {"[1,2]", "{\"0\":7}", POLYIPC_ERR_INVALID_JSON, "errors must"},
      {"[1,2]", "{\"0\":", POLYIPC_ERR_INVALID_JSON, "errors must"},
  };
  for (const Case& c : cases) {
    Err e2;
    EXPECT_ST(c.status, FinishBatch(b.get(), c.results, c.errors, &e2)) << c.results << " " << c.errors;
    EXPECT_TRUE(ContainsI(e2.Msg(), c.says)) << e2.Msg();
    EXPECT_TRUE(ContainsI(e2.Msg(), name_)) << e2.Msg();
    EXPECT_EQ(0u, polyipc_pool_batch_finished(b.get()));
  }
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_batch_finish(nullptr, "[1]", 3, nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_batch_finish(b.get(), nullptr, 3, nullptr, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_take_batch(p, 0, 0, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_take_batch(nullptr, 0, 0, nullptr, &e1));
  EXPECT_EQ(0u, polyipc_pool_batch_count(nullptr));
  EXPECT_EQ(nullptr, polyipc_pool_batch_args(nullptr, nullptr));
  polyipc_pool_batch_free(nullptr);
  json r;
  EXPECT_ST(POLYIPC_ERR_TIMEOUT, Results(p, first, 2, &r)) << "nothing was finished by the bad calls";
  CAPI_ASSERT_OK(FinishBatch(b.get(), "[1,2]", "", &e));  // the batch still finishes
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, FinishBatch(b.get(), "[3]", "", &e1));
  EXPECT_TRUE(ContainsI(e1.Msg(), "finished already")) << e1.Msg();
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Results(p, first, 0, &r, 0, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, Results(p, first, 3, &r, 0, &e1)) << "task first+2 is no task";
  EXPECT_TRUE(ContainsI(e1.Msg(), "task " + std::to_string(first + 2))) << e1.Msg();
  char* values = nullptr;
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_results(p, first, 2, 0, &values, nullptr, nullptr, nullptr, &e1));
  EXPECT_ST(POLYIPC_ERR_INVALID_ARG, polyipc_pool_results(nullptr, first, 2, 0, &values, nullptr, &values, nullptr, &e1));
  CAPI_ASSERT_OK(Results(p, first, 2, &r, 0, &e));
  EXPECT_EQ(json::parse("[1,2]"), r["values"]);
}

TEST_F(PoolTest, BadInputGetsAClearErrorAndChangesNothing) {
  Pool p;
  ASSERT_NO_FATAL_FAILURE(OpenPool(&p, "p"));
  uint64_t id = 0;
  polyipc_pool_task* t = nullptr;
  char* text = nullptr;
  size_t len = 0;
  struct Case {
    const char* what;
    std::function<int(polyipc_error*)> call;
    int status;
    std::string says;
  };
  const std::string long_name(161, 'p');
  Queue q;
  const std::string qname = Name("q");
  CAPI_ASSERT_OK(OpenQ(qname, POLYIPC_OPEN_OR_CREATE, nullptr, &q, &e));
  const std::vector<Case> cases = {
      {"NULL name", [&](polyipc_error* e) { Pool x; return polyipc_pool_open(nullptr, POLYIPC_OPEN_OR_CREATE, nullptr, x.out(), e); },
       POLYIPC_ERR_INVALID_ARG, "name is NULL"},
      {"path name", [&](polyipc_error* e) { Pool x; return polyipc_pool_open("../x", POLYIPC_OPEN_OR_CREATE, nullptr, x.out(), e); },
       POLYIPC_ERR_INVALID_ARG, "pool '../x'"},
      {"161 chars", [&](polyipc_error* e) { Pool x; return polyipc_pool_open(long_name.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, x.out(), e); },
       POLYIPC_ERR_INVALID_ARG, "at most 160"},
      {"a queue's name", [&](polyipc_error* e) { Pool x; return polyipc_pool_open(qname.c_str(), POLYIPC_OPEN_OR_CREATE, nullptr, x.out(), e); },
       POLYIPC_ERR_INCOMPATIBLE, "holds a queue, not a pool"},
      {"a pool opened as a queue", [&](polyipc_error* e) { Queue x; return OpenQ(name_, POLYIPC_OPEN_OR_CREATE, nullptr, &x, e); },
       POLYIPC_ERR_INCOMPATIBLE, "holds a pool, not a queue"},
      {"no such pool", [&](polyipc_error* e) { Pool x; return polyipc_pool_open(Name("none").c_str(), POLYIPC_OPEN_ONLY, nullptr, x.out(), e); },
       POLYIPC_ERR_NOT_FOUND, "pool '"},
      {"NULL pool", [&](polyipc_error* e) { return polyipc_pool_submit(nullptr, "f", "1", 1, 0, &id, e); },
       POLYIPC_ERR_INVALID_ARG, "pool handle is NULL"},
      {"NULL function", [&](polyipc_error* e) { return polyipc_pool_submit(p, nullptr, "1", 1, 0, &id, e); },
       POLYIPC_ERR_INVALID_ARG, "function name is NULL"},
      {"empty function", [&](polyipc_error* e) { return Submit(p, "", "1", &id, e); },
       POLYIPC_ERR_INVALID_ARG, "function name is empty"},
      {"NULL task id", [&](polyipc_error* e) { return polyipc_pool_submit(p, "f", "1", 1, 0, nullptr, e); },
       POLYIPC_ERR_INVALID_ARG, "task_id"},
      {"malformed args", [&](polyipc_error* e) { return Submit(p, "f", "[1,]", &id, e); },
       POLYIPC_ERR_INVALID_JSON, "at byte 3"},
      {"empty args", [&](polyipc_error* e) { return Submit(p, "f", "", &id, e); },
       POLYIPC_ERR_INVALID_JSON, "arguments of 'f'"},
      {"NULL args", [&](polyipc_error* e) { return polyipc_pool_submit(p, "f", nullptr, 4, 0, &id, e); },
       POLYIPC_ERR_INVALID_ARG, "NULL arguments"},
      {"args too large", [&](polyipc_error* e) { return Submit(p, "f", "\"" + std::string(2 << 20, 'x') + "\"", &id, e); },
       POLYIPC_ERR_TOO_LARGE, "pool '"},
      {"result of no task", [&](polyipc_error* e) { return polyipc_pool_result(p, 42, 0, &text, &len, e); },
       POLYIPC_ERR_INVALID_ARG, "task 42"},
      {"NULL result out", [&](polyipc_error* e) { return polyipc_pool_result(p, 0, 0, nullptr, &len, e); },
       POLYIPC_ERR_INVALID_ARG, "json must not be NULL"},
      {"NULL task out", [&](polyipc_error* e) { return polyipc_pool_take(p, 0, nullptr, e); },
       POLYIPC_ERR_INVALID_ARG, "task must not be NULL"},
      {"NULL task", [&](polyipc_error* e) { return polyipc_pool_finish(nullptr, 0, "1", 1, e); },
       POLYIPC_ERR_INVALID_ARG, "task is NULL"},
      {"NULL stat out", [&](polyipc_error* e) { return polyipc_pool_stat_json(p, nullptr, e); },
       POLYIPC_ERR_INVALID_ARG, "json must not be NULL"},
      {"NULL join", [&](polyipc_error* e) { return polyipc_pool_join(nullptr, 0, e); },
       POLYIPC_ERR_INVALID_ARG, "pool handle is NULL"},
      {"cancel of no task", [&](polyipc_error* e) { int c = 0; return polyipc_pool_cancel(p, 42, &c, e); },
       POLYIPC_ERR_INVALID_ARG, "cancel: task 42"},
      {"NULL cancel pool", [&](polyipc_error* e) { int c = 0; return polyipc_pool_cancel(nullptr, 1, &c, e); },
       POLYIPC_ERR_INVALID_ARG, "pool handle is NULL"},
      {"NULL cancelled out", [&](polyipc_error* e) { return polyipc_pool_cancel(p, 1, nullptr, e); },
       POLYIPC_ERR_INVALID_ARG, "cancelled must not be NULL"},
  };
  for (const Case& c : cases) {
    Err e;
    EXPECT_ST(c.status, c.call(&e)) << c.what;
    EXPECT_EQ(c.status, e.code) << c.what;
    EXPECT_TRUE(ContainsI(e.Msg(), c.says)) << c.what << ": " << e.Msg();
  }
  // Nothing was submitted or taken meanwhile.
  Err e;
  EXPECT_ST(POLYIPC_ERR_EMPTY, polyipc_pool_take(p, 0, &t, &e));
  EXPECT_EQ(nullptr, t);
  EXPECT_EQ(0u, polyipc_pool_task_id(nullptr));
  EXPECT_EQ(nullptr, polyipc_pool_task_function(nullptr));
  EXPECT_EQ(nullptr, polyipc_pool_task_args(nullptr, &len));
  polyipc_pool_task_free(nullptr);
  polyipc_pool_close(nullptr);
}

}  // namespace
}  // namespace capitest
