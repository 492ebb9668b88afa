// A process killed while asleep in a wait leaves the object's sleeper count
// right, for every kind that sleeps: the next wake-up that finds nobody
// takes the dead off (core/segment/sleeper_tally.hpp), so wakers stop paying
// a system call for them, and the stat stops showing them. A live sleeper
// after that is still woken: nothing was taken off that should not be.
#include <signal.h>

#include <functional>

#include "common.hpp"

using namespace capitest;
using namespace std::chrono_literals;

namespace {

class KilledSleepers : public CapiTest {
 protected:
  // One kind's way to sleep and to be woken.
  struct Scenario {
    std::vector<std::string> count;  // the stat path of the sleeper count
    std::function<void()> prepare;   // parent: make the next sleeper block
    std::function<int()> sleep;      // child: open its own handle, block; 0 when woken as expected
    std::function<void()> wake;      // parent: one call that wakes the sleepers
  };

  void Run(const std::string& name, const Scenario& sc) {
    Children kids;
    sc.prepare();
    std::vector<pid_t> victims;
    for (int i = 0; i < 2; ++i) victims.push_back(kids.Add(Spawn(sc.sleep)));
    ASSERT_TRUE(WaitForStat(name, sc.count, 2, 10s)) << "two asleep";
    for (pid_t v : victims) ASSERT_TRUE(WaitUntilSleeping(v, 10s));
    for (pid_t v : victims) {
      kill(v, SIGKILL);
      ASSERT_EQ(128 + SIGKILL, kids.Wait(v, 10s));
    }
    ASSERT_TRUE(WaitForStat(name, sc.count, 2, 1s)) << "the dead are still counted before a wake-up";
    sc.wake();
    EXPECT_TRUE(WaitForStat(name, sc.count, 0, 1s)) << "the wake-up that woke nobody took the dead off";
    EXPECT_TRUE(WaitForStat(name, {"dead_sleepers_healed"}, 2, 1s));

    sc.prepare();
    pid_t live = kids.Add(Spawn(sc.sleep));
    ASSERT_TRUE(WaitForStat(name, sc.count, 1, 10s));
    ASSERT_TRUE(WaitUntilSleeping(live, 10s));
    sc.wake();
    EXPECT_EQ(0, kids.Wait(live, 10s)) << "a live sleeper after the heal is woken";
    EXPECT_TRUE(WaitForStat(name, sc.count, 0, 10s));
  }

  polyipc_error e{};
};

TEST_F(KilledSleepers, QueueGetters) {
  const std::string name = Name("q");
  auto o = Opts();
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Run(name, {{"sleeping", "getters"},
             [&] {
               std::string m;
               while (Get(q, &m, 0) == POLYIPC_OK) {
               }
             },
             [&] {
               q.Forget();
               Queue h;
               CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &h) == POLYIPC_OK);
               std::string m;
               return Get(h, &m, POLYIPC_FOREVER) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, Put(q, "1")); }});
}

TEST_F(KilledSleepers, QueuePutters) {
  const std::string name = Name("q");
  auto o = Opts();
  o.max_items = 1;
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Run(name, {{"sleeping", "putters"},
             [&] { Put(q, "0"); },  // full (or already full)
             [&] {
               q.Forget();
               Queue h;
               CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &h) == POLYIPC_OK);
               return Put(h, "2", POLYIPC_FOREVER) == POLYIPC_OK ? 0 : 1;
             },
             [&] {
               std::string m;
               ASSERT_EQ(POLYIPC_OK, Get(q, &m));
             }});
}

TEST_F(KilledSleepers, QueueJoiners) {
  const std::string name = Name("q");
  auto o = Opts(POLYIPC_FIFO, POLYIPC_FORMAT_JSON, 1);
  Queue q;
  CAPI_ASSERT_OK(OpenQ(name, POLYIPC_CREATE_ONLY, &o, &q, &e));
  Run(name, {{"sleeping", "joiners"},
             [&] {
               std::string m;
               ASSERT_EQ(POLYIPC_OK, Put(q, "1"));
               ASSERT_EQ(POLYIPC_OK, Get(q, &m));  // leased to this process until task_done
             },
             [&] {
               q.Forget();
               Queue h;
               CHILD_REQUIRE(OpenQ(name, POLYIPC_OPEN_ONLY, &o, &h) == POLYIPC_OK);
               return polyipc_queue_join(h, POLYIPC_FOREVER, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_queue_task_done(q, nullptr)); }});
}

TEST_F(KilledSleepers, EventWaiters) {
  const std::string name = Name("ev");
  polyipc_event* ev = nullptr;
  CAPI_ASSERT_OK(polyipc_event_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &ev, &e));
  Run(name, {{"sleeping", "waiters"},
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_event_clear(ev, nullptr)); },
             [&] {
               polyipc_event* h = nullptr;
               CHILD_REQUIRE(polyipc_event_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == 0);
               return polyipc_event_wait(h, POLYIPC_FOREVER, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_event_set(ev, nullptr)); }});
  polyipc_event_close(ev);
}

TEST_F(KilledSleepers, SemaphoreAcquirers) {
  const std::string name = Name("sem");
  polyipc_semaphore* sem = nullptr;
  CAPI_ASSERT_OK(polyipc_semaphore_open(name.c_str(), POLYIPC_CREATE_ONLY, 0, 100, nullptr, &sem, &e));
  Run(name, {{"sleeping", "acquirers"},
             [&] {
               uint64_t taken = 0;
               ASSERT_EQ(POLYIPC_OK, polyipc_semaphore_drain(sem, &taken, nullptr));
             },
             [&] {
               polyipc_semaphore* h = nullptr;
               CHILD_REQUIRE(polyipc_semaphore_open(name.c_str(), POLYIPC_OPEN_ONLY, 0, 100, nullptr, &h, nullptr) == 0);
               return polyipc_semaphore_acquire(h, POLYIPC_FOREVER, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_semaphore_release(sem, 1, nullptr)); }});
  polyipc_semaphore_close(sem);
}

TEST_F(KilledSleepers, ConditionWaiters) {
  const std::string name = Name("cv"), lock = Name("cvlock");
  polyipc_condition* cv = nullptr;
  CAPI_ASSERT_OK(polyipc_condition_open(name.c_str(), POLYIPC_CREATE_ONLY, lock.c_str(), nullptr, &cv, &e));
  Run(name, {{"sleeping", "waiters"},
             [] {},
             [&] {
               polyipc_condition* h = nullptr;
               CHILD_REQUIRE(polyipc_condition_open(name.c_str(), POLYIPC_OPEN_ONLY, lock.c_str(), nullptr, &h,
                                                    nullptr) == 0);
               CHILD_REQUIRE(polyipc_condition_acquire(h, 10 * kSec, nullptr) == POLYIPC_OK);
               return polyipc_condition_wait(h, POLYIPC_FOREVER, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] {
               ASSERT_EQ(POLYIPC_OK, polyipc_condition_acquire(cv, 10 * kSec, nullptr));
               ASSERT_EQ(POLYIPC_OK, polyipc_condition_notify_all(cv, nullptr));
               ASSERT_EQ(POLYIPC_OK, polyipc_condition_release(cv, nullptr));
             }});
  polyipc_condition_close(cv);
}

TEST_F(KilledSleepers, BarrierWaiters) {
  const std::string name = Name("bar");
  polyipc_barrier* b = nullptr;
  CAPI_ASSERT_OK(polyipc_barrier_open(name.c_str(), POLYIPC_CREATE_ONLY, 3, nullptr, &b, &e));
  Run(name, {{"sleeping", "waiters"},
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_barrier_reset(b, nullptr)); },
             [&] {
               polyipc_barrier* h = nullptr;
               CHILD_REQUIRE(polyipc_barrier_open(name.c_str(), POLYIPC_OPEN_ONLY, 3, nullptr, &h, nullptr) == 0);
               uint64_t index = 0;
               return polyipc_barrier_wait(h, POLYIPC_FOREVER, &index, nullptr) == POLYIPC_ERR_BROKEN ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_barrier_abort(b, nullptr)); }});
  polyipc_barrier_close(b);
}

TEST_F(KilledSleepers, DictWatchers) {
  const std::string name = Name("d");
  polyipc_dict* d = nullptr;
  CAPI_ASSERT_OK(polyipc_dict_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &d, &e));
  int n = 0;
  Run(name, {{"sleeping_watchers"},
             [] {},
             [&] {
               polyipc_dict* h = nullptr;
               CHILD_REQUIRE(polyipc_dict_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == 0);
               uint64_t seen = 0, now = 0;
               CHILD_REQUIRE(polyipc_dict_version(h, &seen, nullptr) == POLYIPC_OK);
               return polyipc_dict_wait_change(h, seen, POLYIPC_FOREVER, &now, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_dict_set(d, "k", std::to_string(++n).c_str(), nullptr)); }});
  polyipc_dict_close(d);
}

TEST_F(KilledSleepers, ListWatchers) {
  const std::string name = Name("l");
  polyipc_list* l = nullptr;
  CAPI_ASSERT_OK(polyipc_list_open(name.c_str(), POLYIPC_CREATE_ONLY, nullptr, &l, &e));
  Run(name, {{"sleeping_watchers"},
             [] {},
             [&] {
               polyipc_list* h = nullptr;
               CHILD_REQUIRE(polyipc_list_open(name.c_str(), POLYIPC_OPEN_ONLY, nullptr, &h, nullptr) == 0);
               uint64_t seen = 0, now = 0;
               CHILD_REQUIRE(polyipc_list_version(h, &seen, nullptr) == POLYIPC_OK);
               return polyipc_list_wait_change(h, seen, POLYIPC_FOREVER, &now, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_list_append(l, "1", nullptr)); }});
  polyipc_list_close(l);
}

TEST_F(KilledSleepers, PipeReceivers) {
  const std::string name = Name("p");
  polyipc_pipe *a = nullptr, *b = nullptr;
  CAPI_ASSERT_OK(polyipc_pipe_open(name.c_str(), POLYIPC_CREATE_ONLY, POLYIPC_END_A, nullptr, &a, &e));
  // This process holds end B too, so the pipe stays open when the killed receivers go.
  CAPI_ASSERT_OK(polyipc_pipe_open(name.c_str(), POLYIPC_OPEN_ONLY, POLYIPC_END_B, nullptr, &b, &e));
  Run(name, {{"sleeping", "receivers_at_b"},
             [&] {
               void* data = nullptr;
               size_t len = 0;
               while (polyipc_pipe_recv(b, &data, &len, 0, nullptr) == POLYIPC_OK) polyipc_free(data);
             },
             [&] {
               polyipc_pipe* h = nullptr;
               CHILD_REQUIRE(polyipc_pipe_open(name.c_str(), POLYIPC_OPEN_ONLY, POLYIPC_END_B, nullptr, &h,
                                               nullptr) == 0);
               void* data = nullptr;
               size_t len = 0;
               return polyipc_pipe_recv(h, &data, &len, POLYIPC_FOREVER, nullptr) == POLYIPC_OK ? 0 : 1;
             },
             [&] { ASSERT_EQ(POLYIPC_OK, polyipc_pipe_send(a, "1", 1, 0, nullptr)); }});
  polyipc_pipe_close(b);
  polyipc_pipe_close(a);
}

}  // namespace
