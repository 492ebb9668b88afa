package io.polyipc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A named worker pool shared by processes in any language (Python's {@code multiprocessing.Pool} across
 * processes and languages): a submitter names a function and passes JSON arguments, a worker process
 * takes the task, runs what it registered under that name and finishes it with a JSON result or an error
 * text, which goes back to the submitting handle alone. Any handle can submit and work.
 *
 * <pre>{@code
 * // the submitter
 * try (Pool pool = Pool.open("jobs")) {
 *   PoolResult<Integer> sum = pool.submit("add", List.of(2, 3), Integer.class);
 *   int five = sum.get(30, TimeUnit.SECONDS);        // a failed task: ExecutionException(PoolTaskException)
 *   List<JsonNode> squares = pool.map("square", List.of(1, 2, 3));
 * }
 * // a worker, in this or another process
 * try (Pool pool = Pool.open("jobs")) {
 *   pool.serve(Map.of(
 *       "add", args -> args.get(0).asLong() + args.get(1).asLong(),
 *       "square", args -> args.asLong() * args.asLong()));   // until closeTasks() and the pool is drained
 * }
 * }</pre>
 *
 * <p>Submitting: {@link #submit(String, Object)} writes the arguments as JSON with Jackson ({@link
 * #submitJson} takes JSON text) and answers a {@link PoolResult}, a {@link java.util.concurrent.Future} of
 * the task's result ({@link PoolResult#cancel} takes back a task no worker has taken yet); {@link #map}
 * runs a function over a list; {@link #nextResult(Duration)} gives the next result of any task this handle
 * submitted; {@link PoolResult#toCompletableFuture()} gives a {@link java.util.concurrent.CompletableFuture}
 * that completes on its own (a completion thread of the handle collects the results). Working: {@link
 * #take(Duration)} gives a {@link PoolTask} to
 * {@link PoolTask#complete} or {@link PoolTask#fail} (closing it unfinished gives it back to the pool, as
 * does the death of the worker process); {@link #serve(Map)} is the worker loop. {@link #closeTasks()} is
 * Python's {@code Pool.close()}, {@link #join(Duration)} its {@code join()}.
 *
 * <p>A task runs at least once: a worker that dies mid-task has its task handed to another worker. Waits are
 * in 50 ms slices and notice {@link Thread#interrupt()} within about 50 ms ({@link InterruptedException}).
 * Errors are the binding's unchecked {@link PolyipcException}s. {@link #close()} releases this handle only;
 * tasks taken through it stay usable until they are finished or closed (the native handle is released after
 * the last one). Results of this handle's tasks wait in a queue of the handle, removed with it: close the
 * handle once its results are collected.
 */
public final class Pool extends SyncHandle<NativePool> {
  // Who holds the native handle: the Pool (until close() or its Cleaner) and each task taken through it and
  // not yet finished or given back. polyipc_pool_close runs at the last unref, so a task never outlives its
  // pool.
  private final RefCount ref;
  private final ObjectMapper mapper;

  // The futures of this handle's tasks whose result has not come yet, by task id. A result message, taken
  // by a future's own wait or by nextResult() on any thread, is handed to its future here (deliver()).
  private final Object registry = new Object();
  private final Map<Long, PoolResult<?>> outstanding = new HashMap<>(); // guarded by registry
  private final AtomicInteger nextResultWaiters = new AtomicInteger(); // threads in nextResult()
  // The completion thread of PoolResult.toCompletableFuture(), started on demand.
  private final PoolCompletions completions = new PoolCompletions(this);
  // Tests only: run by a thread that took a result message from the library, before it hands it over.
  volatile Runnable beforeHandOver;

  private Pool(String name, NativePool handle, RefCount ref, ObjectMapper mapper) {
    super("pool", name, handle, ref::unref);
    this.ref = ref;
    this.mapper = mapper != null ? mapper : Json.mapper();
  }

  // ---- opening --------------------------------------------------------------------------------------

  /** Opens pool {@code name}, creating it with the defaults (1 MiB of tasks, 1 MiB of results per handle). */
  public static Pool open(String name) {
    return builder(name).open();
  }

  /** Options for opening or creating pool {@code name}; finish with {@link Builder#open()}. */
  public static Builder builder(String name) {
    return new Builder(Polyipc.requireName(name));
  }

  /** How to open a pool. By default it opens the pool or creates it with the options given. */
  public static final class Builder {
    private final String name;
    private SyncOptions how = SyncOptions.DEFAULT; // open mode and permission bits
    private long capacityBytes;
    private long maxTasks;
    private long resultCapacityBytes;
    private ObjectMapper mapper;

    private Builder(String name) {
      this.name = name;
    }

    /** Shared memory for the tasks waiting in the pool; 0: the library's default (1 MiB). */
    public Builder capacityBytes(long capacityBytes) {
      this.capacityBytes = Polyipc.requireNonNegative(capacityBytes, "capacityBytes");
      return this;
    }

    /** At most this many tasks waiting; 0 (default): bounded by capacityBytes only. */
    public Builder maxTasks(long maxTasks) {
      this.maxTasks = Polyipc.requireNonNegative(maxTasks, "maxTasks");
      return this;
    }

    /** Shared memory for the results waiting for this handle; 0: the library's default (1 MiB). */
    public Builder resultCapacityBytes(long resultCapacityBytes) {
      this.resultCapacityBytes = Polyipc.requireNonNegative(resultCapacityBytes, "resultCapacityBytes");
      return this;
    }

    /** Permission bits of the pool and result queues, e.g. {@code 0600} (the default) or {@code 0660}. */
    public Builder mode(int mode) {
      how = how.mode(mode);
      return this;
    }

    /** Fail with {@link AlreadyExistsException} if the name exists. */
    public Builder createOnly() {
      how = how.createOnly();
      return this;
    }

    /** Fail with {@link NotFoundException} if the name does not exist. */
    public Builder openOnly() {
      how = how.openOnly();
      return this;
    }

    /** Open the pool or create it (the default). */
    public Builder openOrCreate() {
      how = how.openOrCreate();
      return this;
    }

    /** The Jackson mapper for arguments and results; default: a plain one. */
    public Builder objectMapper(ObjectMapper mapper) {
      this.mapper = Objects.requireNonNull(mapper, "mapper");
      return this;
    }

    /**
     * Opens (or creates) the pool.
     *
     * @throws IncompatibleException the name holds another kind of object (a queue, ...)
     */
    public Pool open() {
      NativeLoader.load();
      NativePool h = Polyipc.requireHandle("pool", name,
          NativePool.open(name, how.openMode, capacityBytes, maxTasks, resultCapacityBytes, how.mode));
      return new Pool(name, h, new RefCount(h::delete), mapper);
    }
  }

  // ---- submitting -----------------------------------------------------------------------------------

  /**
   * Submits {@code function(args)}, the arguments written as JSON by Jackson (a {@link JsonNode} as it is,
   * null as JSON null, a String as a JSON string: see {@link #submitJson} for JSON text). Waits as long as it
   * takes for room in the pool.
   *
   * @return the task's result to come
   * @throws InvalidArgumentException the function name is empty (or holds U+0000)
   * @throws TooLargeException the arguments do not fit in the pool
   * @throws ClosedException {@link #closeTasks()} was called
   * @throws InterruptedException the thread was interrupted while waiting for room
   */
  public PoolResult<JsonNode> submit(String function, Object args) throws InterruptedException {
    return submitRaw(function, serialize(args, "the arguments of '" + function + "'"), JsonNode.class, FOREVER);
  }

  /** {@link #submit(String, Object)} whose result reads as a {@code resultType} (Jackson). */
  public <T> PoolResult<T> submit(String function, Object args, Class<T> resultType) throws InterruptedException {
    Objects.requireNonNull(resultType, "resultType");
    return submitRaw(function, serialize(args, "the arguments of '" + function + "'"), resultType, FOREVER);
  }

  /**
   * {@link #submit(String, Object)} waiting at most {@code timeout} for room in the pool.
   *
   * @return the task's result to come, or null when there was no room in time (nothing was submitted)
   */
  public PoolResult<JsonNode> offer(String function, Object args, Duration timeout) throws InterruptedException {
    return submitRaw(function, serialize(args, "the arguments of '" + function + "'"), JsonNode.class, nanos(timeout));
  }

  /**
   * Submits {@code function} with arguments given as JSON text (sent as they are).
   *
   * @throws InvalidJsonException the text is not JSON (nothing was submitted)
   */
  public PoolResult<JsonNode> submitJson(String function, String argsJson) throws InterruptedException {
    byte[] args = Objects.requireNonNull(argsJson, "argsJson").getBytes(StandardCharsets.UTF_8);
    return submitRaw(function, args, JsonNode.class, FOREVER);
  }

  /**
   * Runs {@code function} over each element of {@code argsList} (Python's {@code Pool.map}), the elements
   * written as JSON by Jackson as {@link #submit(String, Object)} writes them, {@linkplain #map(String, List,
   * Class, int) chunked} as Python picks a chunk size: {@code argsList.size() / 32}, between 1 and 1024.
   *
   * @return the results, in the order of the arguments
   * @throws ExecutionException the first task (in that order) that failed; its cause is a {@link
   *     PoolTaskException}. It is thrown once every task submitted has ended: no result is left behind.
   */
  public List<JsonNode> map(String function, List<?> argsList) throws InterruptedException, ExecutionException {
    return map(function, argsList, JsonNode.class);
  }

  /** {@link #map(String, List)} with results read as {@code resultType} (Jackson). */
  public <T> List<T> map(String function, List<?> argsList, Class<T> resultType)
      throws InterruptedException, ExecutionException {
    Objects.requireNonNull(argsList, "argsList");
    return map(function, argsList, resultType, autoChunkSize(argsList.size()));
  }

  /** {@link #map(String, List, Class, int)} with the results as JSON trees. */
  public List<JsonNode> map(String function, List<?> argsList, int chunkSize)
      throws InterruptedException, ExecutionException {
    return map(function, argsList, JsonNode.class, chunkSize);
  }

  /**
   * Runs {@code function} over each element of {@code argsList} (Python's {@code Pool.map(func, iterable,
   * chunksize)}), {@code chunkSize} tasks to a pool message: a worker takes a chunk's tasks together and runs
   * them in turn (1: plain tasks, spread over the workers one by one).
   *
   * <p>The arguments go to the pool as JSON arrays, a group of about {@value #MAP_GROUP_TASKS} tasks (whole
   * chunks) per native call, and the results come back the same way, a group's values in one JSON array:
   * the cost per task stays in the workers. Two groups are out at a time; when the pool has no room, the map
   * collects its older group first, so a map larger than the pool or than this handle's result queue never
   * waits on itself. Once a task has failed no further group is submitted; the groups out are collected, then
   * the first failure (in order) is thrown. These tasks have no {@link PoolResult}: {@link #nextResult()}
   * never answers them. An interrupt (or {@link #close()}) while the map waits leaves the tasks out to run;
   * their results are dropped with the handle.
   *
   * @return the results, in the order of the arguments
   * @throws ExecutionException the first task (in order) that failed; its cause is a {@link PoolTaskException}
   * @throws java.util.concurrent.CancellationException the first task that did not end well was cancelled
   * @throws IllegalArgumentException {@code chunkSize} is below 1, or Jackson cannot write an argument
   *     (nothing was submitted)
   * @throws InvalidJsonException an argument Jackson wrote is not JSON (e.g. a NaN written as it is)
   * @throws java.io.UncheckedIOException a result does not read as a {@code resultType} (all were collected)
   */
  public <T> List<T> map(String function, List<?> argsList, Class<T> resultType, int chunkSize)
      throws InterruptedException, ExecutionException {
    Objects.requireNonNull(argsList, "argsList");
    Objects.requireNonNull(resultType, "resultType");
    if (chunkSize < 1) {
      throw new IllegalArgumentException("pool '" + name() + "': map: chunkSize " + chunkSize + " is below 1");
    }
    final byte[] fn = functionName(function);
    final int n = argsList.size();
    // Every argument is written (and checked to be one JSON value) before anything is submitted.
    final byte[][] texts = new byte[n][];
    int i = 0;
    for (Object args : argsList) {
      if (i == n) break;
      byte[] text = serialize(args, "the arguments of '" + function + "'");
      if (!JsonText.isOneValue(text, 0, text.length)) {
        throw new InvalidJsonException("pool '" + name() + "': map '" + function + "': the arguments " + i
            + " are not one JSON value: " + new String(text, StandardCharsets.UTF_8));
      }
      texts[i++] = text;
    }
    if (i != n) throw new java.util.ConcurrentModificationException("pool '" + name() + "': map: argsList changed");
    final int group = Math.max(chunkSize, MAP_GROUP_TASKS / chunkSize * chunkSize);
    final List<JsonNode> values = new ArrayList<>(n);
    final long[] ids = new long[n]; // each value's task id, for messages
    final ArrayDeque<long[]> out = new ArrayDeque<>(); // {first id, count}: submitted, not collected yet
    final long[] progress = new long[2];
    JsonNode failure = null; // the first failed task's result message
    int next = 0; // the next task to submit
    while ((next < n && failure == null) || !out.isEmpty()) {
      if (next < n && failure == null && out.size() < 2) {
        if (Thread.interrupted()) throw interrupted("map");
        // What there is room for now. When the pool is full and nothing of ours is out, wait for room for
        // one chunk (a slice at most), never more: while a call waits for room for a further message, the
        // results of those it put fill our result queue, and the workers then wait for room there.
        int status = submitArray(fn, texts, next, Math.min(n, next + group), chunkSize, 0, progress);
        if (progress[1] == 0 && status != 0 && out.isEmpty()) {
          status = submitArray(fn, texts, next, Math.min(n, next + chunkSize), chunkSize, SLICE_NANOS, progress);
        }
        if (progress[1] > 0) {
          out.add(new long[] {progress[0], progress[1]});
          next += (int) progress[1];
        }
        if (status == 0 || progress[1] > 0) continue;
        if (out.isEmpty()) continue; // the pool is full of others' tasks: wait on
      }
      final long[] g = out.poll(); // no room, or two groups out: collect the older
      for (int k = 0; k < g[1]; ++k) ids[values.size() + k] = g[0] + k;
      final JsonNode failed = collect(g[0], g[1], values);
      if (failure == null) failure = failed; // the rest still ends first: no result is left behind
    }
    if (failure != null) {
      long id = failure.path("id").asLong(0);
      if (failure.path("cancelled").asBoolean(false)) {
        throw new java.util.concurrent.CancellationException("pool '" + name() + "': task " + id + " (" + function
            + ") was cancelled");
      }
      JsonNode error = failure.get("error");
      String text = error == null ? "" : error.isTextual() ? error.textValue() : error.toString();
      throw new ExecutionException(new PoolTaskException(name(), id, function, text));
    }
    List<T> results = new ArrayList<>(n);
    for (int k = 0; k < n; ++k) results.add(PoolResult.read(this, values.get(k), resultType, ids[k], function));
    return results;
  }

  /**
   * Submits texts[from .. to-1] as tasks of one JSON array (polyipc_pool_submit_array), waiting at most
   * timeoutNanos for room. progress gets {first id, how many went in}, also when it throws. Answers 0 when
   * all went in, else the status that stopped it (FULL or TIMEOUT: no room; another one, after some went in).
   */
  private int submitArray(byte[] fn, byte[][] texts, int from, int to, int chunkSize, long timeoutNanos,
      long[] progress) {
    final byte[] data = JsonText.array(texts, from, to);
    progress[0] = progress[1] = 0;
    try {
      return call(h -> polyipc_nativeJNI.NativePool_submit_array(NativePool.getCPtr(h), fn, data, chunkSize,
          timeoutNanos, progress));
    } catch (PolyipcException e) {
      if (progress[1] == 0) throw e;
      return e.status().code(); // what went in is collected; the next call says it again
    }
  }

  /**
   * Waits for the results of tasks first .. first+count-1 (a group of map) and adds their values to
   * {@code values} (JSON null for a failed task); answers the result message of the first one that failed,
   * or null.
   */
  private JsonNode collect(long first, long count, List<JsonNode> values) throws InterruptedException {
    final byte[][] got = new byte[1][];
    sliced(FOREVER, "map", (h, slice) -> {
      try {
        got[0] = h.results(first, count, slice);
        return 1;
      } catch (PolyipcTimeoutException e) {
        return 0;
      }
    });
    JsonNode both;
    try {
      both = Json.mapper().readTree(got[0]);
    } catch (IOException e) {
      throw new UncheckedIOException("pool '" + name() + "': map: results that do not read as JSON", e);
    }
    JsonNode vs = both.path(0);
    JsonNode failures = both.path(1);
    if (!vs.isArray() || vs.size() != count || !failures.isObject()) {
      throw new IncompatibleException("pool '" + name() + "': map: results of tasks " + first + ".." + (first + count
          - 1) + " that are not [values, failures]");
    }
    for (JsonNode v : vs) values.add(v);
    JsonNode firstFailure = null;
    long at = Long.MAX_VALUE;
    for (Iterator<Map.Entry<String, JsonNode>> it = failures.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      long k;
      try {
        k = Long.parseLong(e.getKey());
      } catch (NumberFormatException bad) {
        continue;
      }
      if (k < at) {
        at = k;
        firstFailure = e.getValue();
      }
    }
    return firstFailure;
  }

  /** map's chunk size when none is given: Python's, {@code size / 32} between 1 and 1024. */
  static int autoChunkSize(int size) {
    return Math.max(1, Math.min(MAX_AUTO_CHUNK_SIZE, size / 32));
  }

  /** About how many tasks {@link #map} submits in one native call (whole chunks); two groups are out at a time. */
  static final int MAP_GROUP_TASKS = 2048;

  private static final int MAX_AUTO_CHUNK_SIZE = 1024;

  /** The function name as UTF-8 for the library: not null, no U+0000. */
  private byte[] functionName(String function) {
    Objects.requireNonNull(function, "function");
    if (function.indexOf('\0') >= 0) {
      throw new InvalidArgumentException("pool '" + name() + "': the function name holds U+0000");
    }
    return function.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The next result of any task this handle submitted whose result was not collected yet, waiting as long
   * as it takes: its {@link PoolResult}, done (its get() answers at once; a cancelled task's throws {@link
   * java.util.concurrent.CancellationException}).
   *
   * <p>A result another thread is waiting for by its {@link PoolResult} may come here (its get() then
   * answers from it), or be left to that thread. While futures of {@link PoolResult#toCompletableFuture()}
   * are waiting, this handle's completion thread collects results too and shares them with this call: it may
   * then return fewer results than there are tasks (each still reaches its PoolResult), and throw {@link
   * InvalidArgumentException} once that thread took the rest.
   *
   * @throws InvalidArgumentException this handle has no task whose result is still to come (or every one
   *     is being waited for by another thread's get())
   */
  public PoolResult<?> nextResult() throws InterruptedException {
    return nextResultRaw(FOREVER);
  }

  /** {@link #nextResult()} waiting at most {@code timeout}; null when no result came in time. */
  public PoolResult<?> nextResult(Duration timeout) throws InterruptedException {
    return nextResultRaw(nanos(timeout));
  }

  private PoolResult<?> nextResultRaw(long timeoutNanos) throws InterruptedException {
    final byte[][] got = new byte[1][];
    int r;
    completions.takeBegins();
    try {
      nextResultWaiters.incrementAndGet();
      try {
        r = sliced(timeoutNanos, "nextResult", (h, slice) -> {
          try {
            got[0] = h.result(0, slice);
            return 1;
          } catch (PolyipcTimeoutException e) {
            return 0;
          }
        });
      } finally {
        nextResultWaiters.decrementAndGet();
      }
      return r == 0 ? null : deliver(got[0]);
    } finally {
      completions.takeEnds();
    }
  }

  /** Whether a thread is in nextResult() (it would take a cancelled task's result: see PoolResult.cancel). */
  boolean nextResultWaiting() {
    return nextResultWaiters.get() > 0;
  }

  private <T> PoolResult<T> submitRaw(String function, byte[] args, Class<T> type, long timeoutNanos)
      throws InterruptedException {
    final byte[] fn = functionName(function);
    final PoolResult<T> f = new PoolResult<>(this, function, type);
    int r = sliced(timeoutNanos, "submit", (h, slice) -> {
      long id;
      try {
        id = h.submit(fn, args, slice);
      } catch (FullException | PolyipcTimeoutException e) {
        return 0;
      }
      register(f, id);
      return 1;
    });
    return r == 0 ? null : f;
  }

  // ---- results: the futures' side ---------------------------------------------------------------------

  private void register(PoolResult<?> f, long id) {
    f.setId(id);
    synchronized (registry) {
      outstanding.put(id, f);
      registry.notifyAll();
    }
  }

  /**
   * A result message came: hands it to its future (which is registered, or about to be) and returns it.
   * Called outside the handle's read side (settling runs continuations of toCompletableFuture()).
   */
  PoolResult<?> deliver(byte[] message) {
    final Runnable hook = beforeHandOver;
    if (hook != null) hook.run();
    JsonNode m;
    try {
      m = Json.mapper().readTree(message);
    } catch (IOException e) {
      throw new UncheckedIOException("pool '" + name() + "': a result message does not read as JSON", e);
    }
    long id = m.path("id").asLong(0);
    PoolResult<?> f;
    boolean interrupted = false;
    synchronized (registry) {
      // The submitting thread registers its future right after the native submit returns the id; a
      // result that overtook it waits for that moment here.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while ((f = outstanding.remove(id)) == null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("pool '" + name() + "': a result for task " + id + ", which no future awaits");
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(registry, left);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    f.settle(m);
    return f;
  }

  /**
   * One wait of at most sliceNanos for f's result (the caller is f's only fetching thread); when it comes,
   * f is settled. Returns when f is settled, or the slice ran out.
   */
  void fetch(PoolResult<?> f, long sliceNanos) {
    completions.takeBegins();
    try {
      fetchTaking(f, sliceNanos);
    } finally {
      completions.takeEnds();
    }
  }

  private void fetchTaking(PoolResult<?> f, long sliceNanos) {
    byte[] message;
    try {
      message = call(h -> h.result(f.id(), sliceNanos));
    } catch (PolyipcTimeoutException e) {
      return;
    } catch (InvalidArgumentException e) {
      if (e instanceof HandleClosedException) throw e;
      // Its result went to nextResult() on another thread, which is handing it over.
      if (f.awaitSettled(TimeUnit.SECONDS.toNanos(10))) return;
      throw e;
    }
    deliver(message);
  }

  /**
   * Takes f's task back if no worker has taken it yet; whether it did (its cancelled result is then in the
   * result queue). False for a task whose result came or is being handed over, or that was cancelled already.
   */
  boolean cancel(PoolResult<?> f) {
    try {
      return call(h -> h.cancel(f.id())) != 0;
    } catch (InvalidArgumentException e) {
      if (e instanceof HandleClosedException) throw e;
      return false;
    }
  }

  ObjectMapper mapper() {
    return mapper;
  }

  /** The completion thread's side of this handle (PoolResult.toCompletableFuture). */
  PoolCompletions completions() {
    return completions;
  }

  /**
   * Releases this handle (the pool itself stays, for everyone). Idempotent; waits for calls in progress on
   * other threads (at most one wait slice), which then throw {@link HandleClosedException}. The futures of
   * {@link PoolResult#toCompletableFuture()} whose result has not come complete exceptionally with {@link
   * HandleClosedException} (in this thread; or, while another thread hands over a result it took before the
   * close, in that thread once it did: a result taken before the close reaches its future, so get() and the
   * future agree), and the completion thread ends within a slice (it is not waited for: it may be running a
   * continuation that waits for this thread).
   */
  @Override
  public void close() {
    try {
      super.close();
    } finally {
      completions.close();
    }
  }

  /**
   * The arguments of a batch's tasks as one tree, read in one pass: Jackson's set-up for each call costs more
   * than a small task's arguments. Null (each task's text is then read alone) for one task, or if the array
   * does not read as count elements.
   */
  private JsonNode batchArgs(NativePoolBatch batch, int count) {
    if (count < 2) return null;
    try {
      JsonNode all = mapper.readTree(batch.args());
      return all.isArray() && all.size() == count ? all : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static final byte[] JSON_NULL = "null".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] JSON_TRUE = "true".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] JSON_FALSE = "false".getBytes(StandardCharsets.US_ASCII);

  /**
   * A handler's result as JSON: with the binding's own mapper, null, integers and booleans are written
   * directly (the same text Jackson writes, without a serializer set up per call); the rest, and anything
   * under a mapper of the user's (which may write them otherwise), by the mapper.
   */
  byte[] resultJson(Object value, String what) {
    if (mapper == Json.mapper()) {
      if (value == null) return JSON_NULL;
      if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
        return value.toString().getBytes(StandardCharsets.US_ASCII);
      }
      if (value instanceof Boolean) return (Boolean) value ? JSON_TRUE : JSON_FALSE;
    }
    return serialize(value, what);
  }

  byte[] serialize(Object value, String what) {
    try {
      return mapper.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("pool '" + name() + "': cannot write " + what + " ("
          + value.getClass().getName() + ") as JSON: " + e.getOriginalMessage(), e);
    }
  }

  // ---- working --------------------------------------------------------------------------------------

  /**
   * Takes the next task, waiting as long as it takes. Finish it with {@link PoolTask#complete} or {@link
   * PoolTask#fail}; closing it unfinished gives it back (use try-with-resources).
   *
   * @throws ClosedException {@link #closeTasks()} was called and every task was finished
   * @throws InterruptedException the thread was interrupted
   */
  public PoolTask take() throws InterruptedException {
    return takeRaw(FOREVER);
  }

  /**
   * {@link #take()} waiting at most {@code timeout} (zero or negative: do not wait).
   *
   * @return the task, or null when none came in time
   */
  public PoolTask take(Duration timeout) throws InterruptedException {
    return takeRaw(nanos(timeout));
  }

  private PoolTask takeRaw(long timeoutNanos) throws InterruptedException {
    final PoolTask[] got = new PoolTask[1];
    sliced(timeoutNanos, "take", (h, slice) -> {
      NativePoolTask t;
      try {
        t = h.take(slice);
      } catch (EmptyException | PolyipcTimeoutException e) {
        return 0;
      }
      got[0] = PoolTask.wrap(this, ref, t);
      return 1;
    });
    return got[0];
  }

  /**
   * The worker loop: takes tasks and runs the handler registered under each task's function name with the
   * task's arguments; what it returns is written as JSON (Jackson) and sent as the result. A handler that
   * throws fails the task with the exception's message as the error text (its class name when it has no
   * message); a function with no handler fails with {@code no function '<name>' in this worker}. Returns
   * once {@link #closeTasks()} was called (by any process) and every task was finished.
   *
   * <p>The tasks of a chunk ({@link #map(String, List, Class, int)}, Python's {@code map} with a chunksize,
   * Go's {@code SubmitMany}) are taken together: their arguments come in one JSON array, the handler runs on
   * each in turn, and their results go back in one native call; a plain task is a batch of one. When the loop
   * ends mid-chunk (an interrupt, {@code maxTasks}, a handler that throws InterruptedException or an Error),
   * the tasks that ran are finished first and the rest of the chunk goes back to the pool for another worker.
   *
   * @return how many tasks this loop finished
   * @throws InterruptedException the thread was interrupted (noticed between tasks, and within about 50 ms
   *     while waiting for one; a task being run then, whose handler threw InterruptedException, goes back to
   *     the pool)
   */
  public long serve(Map<String, ? extends PoolHandler> handlers) throws InterruptedException {
    return serve(handlers, Long.MAX_VALUE);
  }

  /**
   * {@link #serve(Map)} ending after {@code maxTasks} tasks too (Python's {@code maxtasksperchild}).
   *
   * @return how many tasks this loop finished
   */
  public long serve(Map<String, ? extends PoolHandler> handlers, long maxTasks) throws InterruptedException {
    Objects.requireNonNull(handlers, "handlers");
    long served = 0;
    try {
      while (served < maxTasks) {
        NativePoolBatch batch;
        try {
          long left = maxTasks - served;
          batch = takeBatch(left >= Integer.MAX_VALUE ? 0 : left);
        } catch (ClosedException end) {
          break;
        }
        try {
          served += runBatch(batch, handlers);
        } finally {
          batch.delete(); // gives back the tasks not finished
          ref.unref();
        }
      }
    } finally {
      giveBackHeld();
    }
    return served;
  }

  /** The next batch (maxTasks 0: a chunk's all), waiting as long as it takes; holds a ref (unref after delete). */
  private NativePoolBatch takeBatch(long maxTasks) throws InterruptedException {
    final NativePoolBatch[] got = new NativePoolBatch[1];
    sliced(FOREVER, "serve", (h, slice) -> {
      NativePoolBatch b;
      try {
        b = h.take_batch(maxTasks, slice);
      } catch (EmptyException | PolyipcTimeoutException e) {
        return 0;
      }
      ref.ref(); // the batch keeps the native pool open (taken with the read side held)
      got[0] = b;
      return 1;
    });
    return got[0];
  }

  /**
   * Runs the tasks of a batch with the handler of its function (in turn) and finishes those that ran in one
   * call; stops early when the thread is interrupted. Returns how many it finished. A handler's
   * InterruptedException or Error finishes the tasks that ran before it, then propagates (its task and the
   * rest go back with the batch).
   */
  private long runBatch(NativePoolBatch batch, Map<String, ? extends PoolHandler> handlers)
      throws InterruptedException {
    final long first = batch.first_id();
    final String function = new String(batch.function(), StandardCharsets.UTF_8);
    final int count = (int) batch.count();
    final PoolHandler handler = handlers.get(function);
    final byte[][] results = new byte[count][];
    final String[] errors = new String[count];
    final JsonNode all = handler == null ? null : batchArgs(batch, count);
    int ran = 0;
    Throwable stopped = null; // what ends the loop early: an interrupt, a handler's InterruptedException or Error
    try {
      for (; ran < count; ++ran) {
        if (Thread.interrupted()) throw interrupted("serve");
        final long id = first + ran;
        if (handler == null) {
          errors[ran] = "no function '" + function + "' in this worker";
          continue;
        }
        byte[] json;
        try {
          JsonNode tree;
          try {
            tree = all != null ? all.get(ran) : mapper.readTree(batch.task_args(ran)); // the task's own text
          } catch (IOException e) { // as PoolTask.args() says it
            throw new UncheckedIOException("pool '" + name() + "': task " + id + " (" + function
                + "): the arguments do not read as JSON: " + e.getMessage(), e);
          }
          json = resultJson(handler.apply(tree), "the result of '" + function + "'");
        } catch (InterruptedException e) {
          throw e; // the task goes back
        } catch (Exception e) {
          errors[ran] = errorText(e);
          continue;
        }
        if (!JsonText.isOneValue(json, 0, json.length)) { // e.g. a raw value of Jackson's
          errors[ran] = "pool '" + name() + "': task " + id + ": the result of '" + function
              + "' is not valid JSON: not one JSON value (the task stays taken)";
          continue;
        }
        results[ran] = json;
      }
    } catch (InterruptedException | RuntimeException | Error e) {
      stopped = e;
    }
    if (ran > 0) {
      try {
        finishBatch(batch, function, results, errors, 0, ran);
      } catch (RuntimeException | Error e) {
        if (stopped == null) throw e;
        stopped.addSuppressed(e);
      }
    }
    if (stopped instanceof InterruptedException) throw (InterruptedException) stopped;
    if (stopped instanceof RuntimeException) throw (RuntimeException) stopped;
    if (stopped instanceof Error) throw (Error) stopped;
    return ran;
  }

  /** Finishes the batch's tasks from .. to-1 (the next ones), a result or an error each, in one call. */
  private void finishBatch(NativePoolBatch batch, String function, byte[][] results, String[] errors, int from,
      int to) {
    JsonText.Bytes values = new JsonText.Bytes(16 * (to - from) + 2);
    JsonText.Bytes failed = null;
    values.add((byte) '[');
    for (int i = from; i < to; ++i) {
      if (i > from) values.add((byte) ',');
      if (errors[i] != null) {
        values.add("null");
        failed = failed == null ? new JsonText.Bytes(64).add((byte) '{') : failed.add((byte) ',');
        failed.add((byte) '"').add(Integer.toString(i - from)).add("\":").addString(errors[i]);
      } else {
        values.add(results[i]);
      }
    }
    values.add((byte) ']');
    byte[] errs = failed == null ? NO_BYTES : failed.add((byte) '}').toArray();
    try {
      batch.finish(values.toArray(), errs);
    } catch (InvalidJsonException e) {
      if (to - from == 1) {
        if (errors[from] != null) throw e;
        // The library's check of one result (e.g. a NaN Jackson wrote as it is): the task fails with it.
        errors[from] = resultNotJson(e.getMessage(), batch.first_id() + batch.finished(), function);
        finishBatch(batch, function, results, errors, from, to);
        return;
      }
      // A result the library does not take as JSON: find it, finishing the tasks one by one.
      for (int i = from; i < to; ++i) finishBatch(batch, function, results, errors, i, i + 1);
    }
  }

  private static final byte[] NO_BYTES = new byte[0];

  private static final java.util.regex.Pattern NOT_AN_ARRAY = java.util.regex.Pattern.compile(
      "(?s)(pool '.*'): tasks \\d+\\.\\.\\d+: the results of '(.*)' are not a JSON array: byte (\\d+): (.*) "
          + "\\(the tasks stay taken\\)");

  /**
   * The error text of a task whose result the library refused (a batch of one, "[result]"), in the words of
   * a single task's finish: "pool 'p': task 7: the result of 'f' is not valid JSON at byte 3: ...".
   */
  private String resultNotJson(String message, long id, String function) {
    java.util.regex.Matcher m = NOT_AN_ARRAY.matcher(message);
    if (!m.matches()) return message;
    return m.group(1) + ": task " + id + ": the result of '" + m.group(2) + "' is not valid JSON at byte "
        + Math.max(0, Long.parseLong(m.group(3)) - 1) + ": " + m.group(4) + " (the task stays taken)";
  }

  /**
   * The tasks of chunks (Python's {@code map} with a chunksize, Go's {@code SubmitMany}) that this handle
   * took but has not handed out yet go back to the pool for other workers. {@link #serve} does it when it
   * returns; a loop of its own over {@link #take()} calls it when it stops taking. Closing the handle does it
   * too.
   */
  public void giveBackHeld() {
    try {
      run(NativePool::give_back_held);
    } catch (HandleClosedException closed) {
      // closing gave them back
    }
  }

  /** The error text of a handler's exception: its message, or its class name when it has none. */
  static String errorText(Throwable e) {
    String m = e.getMessage();
    return m != null ? m : e.getClass().getName();
  }

  // ---- the pool ---------------------------------------------------------------------------------------

  /**
   * No more tasks (Python's {@code Pool.close()}), for every process: submits throw {@link ClosedException};
   * workers finish what is in the pool, then take throws {@link ClosedException} and serve returns.
   */
  public void closeTasks() {
    run(NativePool::close_tasks);
  }

  /** Waits until every task submitted by anyone was finished (Python's {@code Pool.join()}). */
  public void join() throws InterruptedException {
    joinRaw(FOREVER);
  }

  /** {@link #join()} waiting at most {@code timeout}; false when tasks were still unfinished then. */
  public boolean join(Duration timeout) throws InterruptedException {
    return joinRaw(nanos(timeout));
  }

  private boolean joinRaw(long timeoutNanos) throws InterruptedException {
    return sliced(timeoutNanos, "join", (h, slice) -> {
      try {
        h.join(slice);
        return 1;
      } catch (PolyipcTimeoutException e) {
        return 0;
      }
    }) != 0;
  }

  @Override
  String nativeStat(NativePool h) {
    return h.stat_json();
  }

  /** A Duration as a timeout in ns: zero or negative means "do not wait"; saturates. */
  static long nanos(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) return 0;
    try {
      return timeout.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
