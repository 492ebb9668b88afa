// A worker pool shared by name: Python's Pool.apply_async across processes
// and languages. Submitters name a function and give JSON arguments; worker
// processes take tasks, run what they registered under that name, and send
// back a JSON result or an error text, which reaches the submitter alone.
//
// Built from two queues:
//  - the pool itself: a joinable JSON FIFO of tasks under the pool's name
//    (kind "pool"). A take is a lease, so a worker killed mid-task has its
//    task handed to another worker: a task runs at least once.
//  - one result queue per submitting handle, "<pool>.results.<pid>.<n>",
//    ephemeral (gone with its handle or process). Results carry the task id,
//    and a handle returns each id's result once: a duplicate (a worker that
//    died after sending) is dropped.
// Wire format (JSON, one message each; see docs/design-notes.md "Pools"):
//   task:   {"id":7,"fn":"resize","reply":"jobs.results.4242.1","args":<args>}
//   chunk:  {"id":7,"n":3,"each":"resize","reply":"...","lens":[5,5,5],"args":[<a0>,<a1>,<a2>]}
//           (tasks 7, 8 and 9; lens[i] is the byte length of <ai> as sent)
//   result: {"id":7,"ok":true,"result":<json>} or {"id":7,"ok":false,"error":"text"}
//           or, cancelled: {"id":7,"ok":false,"cancelled":true,"error":"cancelled"}
#pragma once
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "core/json/shape.hpp"
#include "core/queue/queue.hpp"
#include "core/status.hpp"

namespace polyipc {

struct PoolOptions {
  uint64_t capacity_bytes = 1 << 20;         // the task queue's ring
  uint64_t max_tasks = 0;                    // 0: bounded by capacity_bytes only
  uint64_t result_capacity_bytes = 1 << 20;  // each submitter's result queue
  uint32_t mode = kDefaultMode;
};

// Longest pool name: a result queue's name adds ".results.<pid>.<n>".
constexpr size_t kMaxPoolName = 160;

// A chunk a worker took (submit_many): one lease for several tasks, which
// take() hands out one at a time. Pool-private; shared by its tasks.
struct PoolChunk;

// A task taken by a worker: what to run, and where its result goes.
struct PoolTask {
  uint64_t id = 0;
  std::string function;
  std::string args;     // JSON text, as submitted
  std::string reply;    // the submitter's result queue
  std::string message;  // the task as taken: names its lease (empty for a task of a chunk)
  std::shared_ptr<PoolChunk> chunk;  // the chunk it came in, if it did
};

// Tasks a worker took together (take_batch): tasks first_id .. first_id+count-1
// of one function, finished in order by finish_batch.
struct PoolBatch {
  uint64_t first_id = 0;
  size_t count = 0;
  size_t finished = 0;  // tasks finish_batch ended, from the first on
  std::string function;
  std::string args;     // a JSON array of each task's arguments, as sent
  std::vector<std::pair<size_t, size_t>> each;  // (offset, length) in args of each task's arguments
  std::string reply;
  std::string message;  // a plain task's lease (empty for the tasks of a chunk)
  std::shared_ptr<PoolChunk> chunk;
};

class Pool {
 public:
  // Throws Error (bad name, NotFound, Exists, Incompatible, Permission ...).
  static std::unique_ptr<Pool> open(const std::string& name, OpenMode mode, const PoolOptions& options);
  ~Pool();

  const std::string& name() const noexcept { return tasks_->name(); }

  // Submitter. *id names the task in result(); args must be JSON.
  Status submit(const std::string& function, const void* args, size_t len, const Deadline& deadline, uint64_t* id,
                ErrorText& error);
  // Submits function(args[i]) for i < count as tasks *first_id + i, `chunk`
  // of them to a pool message: a worker takes a message's tasks one after
  // another (Pool.map's chunksize; 1: ordinary tasks). Every args[i] is
  // checked before anything is put. *submitted counts the tasks put: a
  // failure (FULL, TIMEOUT, TOO_LARGE) leaves the earlier messages in the
  // pool, and ids from *first_id + *submitted on are no tasks. A task of a
  // chunk cannot be cancelled on its own (cancel() answers false).
  Status submit_many(const std::string& function, const void* const* args, const size_t* lens, size_t count,
                     size_t chunk, const Deadline& deadline, uint64_t* first_id, size_t* submitted, ErrorText& error);
  // submit_many() of the elements of a JSON array (args, len bytes), each
  // element a task's arguments. Results of these tasks are returned by id
  // (result(id), results()) only, never to result(0): they belong to the
  // caller that asks for them together (Pool.map).
  Status submit_array(const std::string& function, const void* args, size_t len, size_t chunk,
                      const Deadline& deadline, uint64_t* first_id, size_t* submitted, ErrorText& error);
  // The result of task `id` (0: of any task of this handle that no other
  // thread waits for by id), as its result message (see above). INVALID_ARG
  // for an id this handle has no result to come for.
  Status result(uint64_t id, const Deadline& deadline, std::string* out, ErrorText& error);
  // The results of tasks first .. first+count-1 together, once all of them
  // came: *values is a JSON array of each task's result in id order (null
  // for one that failed), *failures a JSON object mapping the index of each
  // failed (or cancelled) one to its result message. TIMEOUT takes none of
  // them (they wait for the next call); INVALID_ARG as for result().
  Status results(uint64_t first, size_t count, const Deadline& deadline, std::string* values, std::string* failures,
                 ErrorText& error);
  // Takes task `id` back out of the pool if no worker has taken it yet
  // (*cancelled true): it never runs, join() does not wait for it, and its
  // result is a cancelled one. *cancelled false: a worker has it (or had it),
  // and its result comes as usual. INVALID_ARG as for result().
  Status cancel(uint64_t id, bool* cancelled, ErrorText& error);

  // Worker. CLOSED once close_tasks() was called and every task was taken.
  // The tasks of a chunk this handle took come first, one per call.
  Status take(const Deadline& deadline, std::unique_ptr<PoolTask>* task, ErrorText& error);
  // Takes tasks to run together: up to max_tasks (0: no limit) of a chunk
  // this handle holds or takes next, or a plain task alone.
  Status take_batch(size_t max_tasks, const Deadline& deadline, std::unique_ptr<PoolBatch>* batch,
                    ErrorText& error);
  // Finishes the next tasks of the batch, one per element of `results` (a
  // JSON array): a task's result is its element, unless `errors` (a JSON
  // object, or empty) maps the element's index ("0", "1", ...) to an error
  // text, which fails the task instead. INVALID_JSON / INVALID_ARG finish
  // none of them.
  Status finish_batch(PoolBatch& batch, const void* results, size_t len, const void* errors, size_t errors_len,
                      ErrorText& error);
  // Gives the batch's unfinished tasks back, as give_back() each. Once.
  Status give_back_batch(const PoolBatch& batch, ErrorText& error);
  // Sends the result (JSON) or, failed, the error text (UTF-8), then ends the
  // task. If its submitter is gone the result is dropped and the task still
  // ends. INVALID_JSON leaves the task taken, to be finished again.
  Status finish(const PoolTask& task, bool failed, const void* data, size_t len, ErrorText& error);
  // Hands an unfinished task back to the pool for another worker, as when
  // its worker dies. A task of a chunk gives back the whole chunk once its
  // tasks out in this process are settled (those finished run again: their
  // submitter drops the second result).
  Status give_back(const PoolTask& task, ErrorText& error);
  // Gives back the tasks of chunks this handle took but has not handed out
  // yet: each such chunk goes back whole once its tasks out are settled. A
  // worker loop that stops taking calls it (else those tasks wait for this
  // handle's next take); closing the handle does it too.
  Status give_back_held(ErrorText& error);

  // No more tasks (Pool.close()): workers drain the pool, then get CLOSED.
  void close_tasks() { tasks_->close_writes(); }
  // Until every task submitted by anyone has finished (Pool.join()).
  Status join(const Deadline& deadline, ErrorText& error);
  // The task queue's stat (kind "pool"), plus this handle's outstanding tasks.
  std::string stat_json() const;

 private:
  Pool() = default;
  // submit_many(), or (from_array) submit_array() of an array's elements: JSON already, and by id only.
  Status submit_tasks(const std::string& function, const void* const* args, const size_t* lens, size_t count,
                      size_t chunk, bool from_array, const Deadline& deadline, uint64_t* first_id, size_t* submitted,
                      ErrorText& error);
  Status check_args(const std::string& function, const void* args, size_t len, size_t index, bool many,
                    ErrorText& error) const;
  // Tasks handed out of a chunk this handle holds: chunk->args[first .. first+count).
  struct Handout {
    std::shared_ptr<PoolChunk> chunk;
    size_t first = 0, count = 0;
  };
  Handout next_of_chunk(size_t max_tasks);  // count 0: none held
  // The next pool message: a plain task in *plain, or a chunk, which joins
  // the held ones with up to max_tasks of its tasks handed out in *handout.
  Status receive(size_t max_tasks, const Deadline& deadline, std::unique_ptr<PoolTask>* plain, Handout* handout,
                 ErrorText& error);
  // n tasks of chunk c are done with: finished, or given back.
  Status settle(const std::shared_ptr<PoolChunk>& c, size_t n, bool finished, ErrorText& error);
  // Puts result messages in the submitter's queue `reply`, in order, waiting
  // while it is full; dropped when the submitter is gone. One that can never
  // fit is replaced by an error result saying why.
  void send_results(const std::string& reply, std::vector<const void*>& data, std::vector<size_t>& lens);
  void open_results();
  Queue& reply_queue(const std::string& name);  // a worker's cache of submitters' queues
  // take_results() as the one reader of the result queue (reading_), mu_ (held by lk) released meanwhile.
  // The messages in *got are views into read_buf_ (or oversize_), valid until the next read:
  // the caller uses them before it releases mu_.
  Status read_results(std::unique_lock<std::mutex>& lk, const Deadline& deadline,
                      std::vector<std::pair<uint64_t, std::string_view>>* got, ErrorText& error);
  // What the result queue holds, up to a few hundred messages (waits for one): (id, message) each.
  Status take_results(const Deadline& deadline, std::vector<std::pair<uint64_t, std::string_view>>* got,
                      ErrorText& error);
  bool awaited(uint64_t id) const;  // a thread waits for it by id or in a range now (mu_ held)
  void forget(uint64_t id);  // its result was returned, or it was never put (mu_ held)

  std::unique_ptr<Queue> tasks_;
  PoolOptions options_;
  mutable json::ShapeCache arg_shapes_, result_shapes_;  // of the arguments submitted, the results finished

  // Submitter side, one result queue per handle, made at the first submit.
  mutable std::mutex mu_;
  std::condition_variable arrived_cv_;
  std::unique_ptr<Queue> results_;
  uint64_t next_id_ = 1;
  std::unordered_set<uint64_t> pending_;     // submitted, result not returned yet
  std::unordered_map<uint64_t, std::string> sent_;  // the pending tasks as put: what cancel() withdraws
  std::map<uint64_t, std::string> arrived_;  // taken by one waiter for another
  std::multiset<uint64_t> awaited_;          // ids threads wait for by id now
  std::unordered_set<uint64_t> by_id_only_;  // pending ids result(0) leaves alone (submit_array)
  std::vector<std::pair<uint64_t, uint64_t>> awaited_ranges_;  // [first, end) that results() waits for now
  std::vector<char> read_buf_;               // results()'s reads of many messages (under reading_)
  std::string oversize_;                     // a message larger than read_buf_, read alone
  bool reading_ = false;                     // one thread at a time takes from results_

  // Worker side: chunks taken whose tasks are not all settled yet.
  std::mutex chunks_mu_;
  std::vector<std::shared_ptr<PoolChunk>> chunks_;
  // Worker side: the result queues of recent submitters, kept open.
  std::mutex replies_mu_;
  std::map<std::string, std::unique_ptr<Queue>> replies_;
};

}  // namespace polyipc
