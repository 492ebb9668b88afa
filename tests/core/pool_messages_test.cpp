// What a worker makes of the messages in a pool's task queue (core/pool,
// Pool::receive): a chunk as the library writes it, its "lens" read by hand;
// the same fields in another order; and messages that are not pool tasks,
// which are dropped with INCOMPATIBLE while the tasks around them still go.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "core/pool/pool.hpp"
#include "core/queue/queue.hpp"
#include "core/status.hpp"

namespace polyipc {
namespace {

class PoolMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("POLYIPC_NAMESPACE", ("coretest-poolmsg-" + std::to_string(getpid())).c_str(), 1);
    name_ = "pm-" + std::to_string(getpid());
    pool_ = Pool::open(name_, OpenMode::CreateOnly, PoolOptions{});
    QueueOptions q;
    q.check_existing = false;
    raw_ = Queue::open(name_, OpenMode::OpenOnly, q, Kind::Pool);  // a writer of our own
  }
  void TearDown() override {
    raw_.reset();
    pool_.reset();
    try {
      unlink_object(name_);
    } catch (const Error&) {
    }
  }
  void Put(const std::string& message) {
    ErrorText error;
    ASSERT_EQ(raw_->put(message.data(), message.size(), 0, Deadline::forever(), error), Status::Ok) << error.text;
  }
  // The next batch, or nullptr with the status and error text of a message that is not a task.
  std::unique_ptr<PoolBatch> Take(Status want = Status::Ok) {
    std::unique_ptr<PoolBatch> b;
    ErrorText error;
    EXPECT_EQ(pool_->take_batch(0, Deadline::after(5'000'000'000), &b, error), want) << error.text;
    if (want != Status::Ok) EXPECT_NE(std::string(error.text).find("not a pool task (dropped)"), std::string::npos);
    return b;
  }
  // The arguments of each task of b, by its (offset, length) pairs.
  static std::vector<std::string> Each(const PoolBatch& b) {
    std::vector<std::string> out;
    for (const auto& [at, len] : b.each) out.push_back(b.args.substr(at, len));
    return out;
  }

  std::string name_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<Queue> raw_;
};

TEST_F(PoolMessagesTest, AChunkSplitsByItsLensWhereverTheFieldIs) {
  // As chunk_message writes it: "lens" last before "args".
  Put(R"({"id":5,"n":3,"each":"f","reply":"r","lens":[3,7,11],"args":[[1],["a,]"],{"k":[2,3]}]})");
  // The same fields in another order (another writer): read through the JSON parser.
  Put(R"({"lens":[3,3],"id":9,"n":2,"each":"g","reply":"r","args":[[1],[2]]})");
  // A function name whose text holds ,"lens":[ escaped: the real field is still found.
  Put(R"({"id":20,"n":2,"each":"h\",\"lens\":[9","reply":"r","lens":[2,2],"args":[[],[]]})");
  auto a = Take();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first_id, 5u);
  EXPECT_EQ(a->function, "f");
  EXPECT_EQ(Each(*a), (std::vector<std::string>{"[1]", R"(["a,]"])", R"({"k":[2,3]})"}));
  auto b = Take();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first_id, 9u);
  EXPECT_EQ(b->function, "g");
  EXPECT_EQ(Each(*b), (std::vector<std::string>{"[1]", "[2]"}));
  auto c = Take();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->function, R"(h","lens":[9)");
  EXPECT_EQ(Each(*c), (std::vector<std::string>{"[]", "[]"}));
}

TEST_F(PoolMessagesTest, AChunkWhoseLensDoNotFitItsArgsIsDroppedAndTheNextStillGoes) {
  const char* bad[] = {
      R"({"id":5,"n":2,"each":"f","reply":"r","lens":[3,4],"args":[[1],[2]]})",      // a length too long
      R"({"id":5,"n":3,"each":"f","reply":"r","lens":[3,3],"args":[[1],[2]]})",      // n says 3
      R"({"id":5,"n":2,"each":"f","reply":"r","lens":[3,"3"],"args":[[1],[2]]})",    // not a list of numbers
      R"({"id":5,"n":2,"each":"f","reply":"r","lens":[3,-3],"args":[[1],[2]]})",     // a negative length
      R"({"id":5,"n":2,"each":"f","reply":"r","lens":[99999999999999999999999,3],"args":[[1],[2]]})",
      R"({"id":5,"n":2,"each":"f","reply":"r","args":[[1],[2]]})",                   // no lens at all
  };
  for (const char* m : bad) {
    SCOPED_TRACE(m);
    Put(m);
    Put(R"({"id":30,"n":2,"each":"ok","reply":"r","lens":[3,3],"args":[[7],[8]]})");
    EXPECT_FALSE(Take(Status::Incompatible));
    auto good = Take();
    ASSERT_TRUE(good);
    EXPECT_EQ(good->function, "ok");
    EXPECT_EQ(Each(*good), (std::vector<std::string>{"[7]", "[8]"}));
    ErrorText error;  // finished: its results go to no submitter ("r" is none) and are dropped
    ASSERT_EQ(pool_->finish_batch(*good, "[0,0]", 5, nullptr, 0, error), Status::Ok) << error.text;
  }
}

}  // namespace
}  // namespace polyipc
