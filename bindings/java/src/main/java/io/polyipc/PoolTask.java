package io.polyipc;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A task a worker took from a {@link Pool} ({@link Pool#take}): its function name and JSON arguments, to be
 * finished once with {@link #complete} (the result) or {@link #fail} (an error text), which sends the
 * outcome to the submitter. Closing it unfinished ({@link #close()}, best in try-with-resources) gives it
 * back to the pool for another worker, as the death of this process would; a task dropped unfinished and
 * unclosed is given back when it is garbage collected.
 *
 * <pre>{@code
 * try (PoolTask task = pool.take(Duration.ofSeconds(1))) {
 *   if (task != null) task.complete(resize(task.args(Image.class)));
 * }
 * }</pre>
 *
 * <p>The task keeps its pool's native handle (and the {@link Pool} object) alive until it is finished or
 * closed, even past the pool's own {@code close()}. Safe to use from several threads.
 */
public final class PoolTask implements AutoCloseable {
  private final Pool pool; // keeps the Pool object reachable while the task is
  private final long id;
  private final String function;
  private final byte[] args;
  private final NativePoolTask handle; // also held by `release`, which must not refer to this object
  private final Cleaner.Cleanable release;
  private boolean ended; // finished or given back; guarded by this
  private boolean finished; // guarded by this
  private volatile JsonNode argsTree;

  /** Frees the native task (an unfinished one goes back to the pool), then lets go of the pool's handle. */
  private static final class Release implements Runnable {
    private final NativePoolTask handle;
    private final RefCount ref;

    Release(NativePoolTask handle, RefCount ref) {
      this.handle = handle;
      this.ref = ref;
    }

    @Override
    public void run() {
      try {
        handle.delete();
      } finally {
        ref.unref();
      }
    }
  }

  private PoolTask(Pool pool, RefCount ref, NativePoolTask handle) {
    this.pool = pool;
    this.id = handle.id();
    this.function = new String(handle.function(), StandardCharsets.UTF_8);
    this.args = handle.args();
    this.handle = handle;
    this.release = SyncHandle.CLEANER.register(this, new Release(handle, ref));
  }

  /**
   * Wraps a task just taken; called with the pool's handle alive (its read side held). On any failure the
   * native task is freed, so it goes back to the pool.
   */
  static PoolTask wrap(Pool pool, RefCount ref, NativePoolTask handle) {
    ref.ref();
    try {
      return new PoolTask(pool, ref, handle);
    } catch (RuntimeException | Error e) {
      new Release(handle, ref).run();
      throw e;
    }
  }

  /** The task's id (as its submitter's handle numbers them). */
  public long id() {
    return id;
  }

  /** The function name the submitter gave. */
  public String function() {
    return function;
  }

  /** The arguments as the submitter sent them: JSON text. */
  public String argsJson() {
    return new String(args, StandardCharsets.UTF_8);
  }

  /** The arguments, decoded by Jackson (JSON null as a NullNode). */
  public JsonNode args() {
    JsonNode t = argsTree;
    if (t == null) {
      t = readArgs("JSON", m -> m.readTree(args));
      argsTree = t;
    }
    return t;
  }

  /** The arguments read as a {@code type} by Jackson. */
  public <T> T args(Class<T> type) {
    Objects.requireNonNull(type, "type");
    return readArgs(type.getName(), m -> m.readValue(args, type));
  }

  /** The arguments read as a generic type, e.g. {@code new TypeReference<List<Integer>>() {}}. */
  public <T> T args(TypeReference<T> type) {
    Objects.requireNonNull(type, "type");
    return readArgs(String.valueOf(type.getType()), m -> m.readValue(args, type));
  }

  @FunctionalInterface
  private interface Reader<T> {
    T read(ObjectMapper mapper) throws IOException;
  }

  /** Reads the arguments with the pool's mapper; an unreadable text is an UncheckedIOException naming typeName. */
  private <T> T readArgs(String typeName, Reader<T> reader) {
    try {
      return reader.read(pool.mapper());
    } catch (IOException e) {
      throw new UncheckedIOException(what() + ": the arguments do not read as " + typeName + ": " + e.getMessage(), e);
    }
  }

  /**
   * Finishes the task with {@code result}, written as JSON by Jackson, which goes to the submitter. Waits
   * while the submitter's result queue is full.
   *
   * @throws IllegalArgumentException Jackson cannot write the result (the task stays unfinished)
   * @throws InvalidJsonException the JSON Jackson wrote is not JSON (e.g. a NaN): the task stays unfinished
   * @throws InvalidArgumentException the task was finished or given back already
   */
  public void complete(Object result) {
    finishRaw(false, pool.serialize(result, "the result of " + what()));
  }

  /**
   * Finishes the task with a result given as JSON text.
   *
   * @throws InvalidJsonException the text is not JSON: the task stays unfinished (finish it again)
   */
  public void completeJson(String resultJson) {
    finishRaw(false, Objects.requireNonNull(resultJson, "resultJson").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Finishes the task as failed with {@code error}, the text the submitter's {@link PoolTaskException}
   * carries.
   *
   * @throws InvalidArgumentException the task was finished or given back already
   */
  public void fail(String error) {
    finishRaw(true, Objects.requireNonNull(error, "error").getBytes(StandardCharsets.UTF_8));
  }

  synchronized void finishRaw(boolean failed, byte[] data) {
    if (ended) {
      throw new InvalidArgumentException(what() + (finished ? " was finished already" : " was given back already"));
    }
    handle.finish(failed ? 1 : 0, data);
    ended = true;
    finished = true;
    release.clean();
  }

  /** Whether the task was finished ({@link #complete} or {@link #fail}). */
  public synchronized boolean isFinished() {
    return finished;
  }

  /**
   * Gives the task back to the pool for another worker if it was not finished; idempotent. After close,
   * complete and fail throw {@link InvalidArgumentException}.
   */
  @Override
  public synchronized void close() {
    if (ended) return;
    ended = true;
    release.clean();
  }

  private String what() {
    return "pool '" + pool.name() + "': task " + id + " (" + function + ")";
  }

  @Override
  public String toString() {
    return "PoolTask[" + pool.name() + " task " + id + " " + function + "]";
  }
}
