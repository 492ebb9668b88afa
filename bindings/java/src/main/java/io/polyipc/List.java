package io.polyipc;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A named sequence of JSON values in shared memory, read and written directly by every attached process in
 * any language: Python's {@code multiprocessing.Manager().list()} without a manager process. The method
 * names follow {@link java.util.List}; each call is one atomic step on the shared list (a process killed
 * mid-call leaves it as before or after the call). It is not a live {@link java.util.List} view: {@link
 * #snapshot()} and iteration read one snapshot.
 *
 * <pre>{@code
 * try (io.polyipc.List l = io.polyipc.List.open("jobs")) {
 *   l.add(Map.of("id", 1));          // written as JSON by Jackson
 *   l.addJson("{\"id\": 2}");        // JSON text as it is
 *   l.add(0, "first");                // insert before element 0
 *   JsonNode last = l.get(-1);        // negative indexes count from the end
 *   JsonNode done = l.pop();          // removes and answers the last value
 * }
 * }</pre>
 *
 * <p>Indexes are longs and may be negative (-1: the last value), as in Python. {@link #get}, {@link #set} and
 * {@link #remove(long)} throw {@link IndexOutOfBoundsException} for an index out of range (also for an empty
 * list); {@link #pop()} throws {@link EmptyException} on an empty list. {@link #add(long, Object)} never
 * fails for its index: past the end appends, before the start prepends (Python's {@code list.insert}).
 * Other errors are the binding's unchecked {@link PolyipcException}s: {@link FullException} when max items
 * or the capacity is reached, {@link TooLargeException} for a value that can never fit, {@link
 * InvalidJsonException} for malformed JSON text, {@link IncompatibleException} when the name holds another
 * kind, {@link HandleClosedException} after {@link #close()}. Closing releases this handle only; the list
 * stays until it is unlinked.
 */
public final class List extends SyncHandle<NativeList> implements Iterable<JsonNode> {
  private final ObjectMapper mapper;

  private List(String name, NativeList handle, ObjectMapper mapper) {
    super("list", name, handle, handle::delete);
    this.mapper = mapper != null ? mapper : Json.mapper();
  }

  // ---- opening --------------------------------------------------------------------------------------

  /** Opens list {@code name}, creating it with the defaults (1 MiB for values, 4096 values). */
  public static List open(String name) {
    return builder(name).open();
  }

  /** Opens list {@code name} as the options say (open or create, mode, ephemeral), with the default sizes. */
  public static List open(String name, SyncOptions options) {
    return builder(name).options(options).open();
  }

  /** Options for opening or creating list {@code name}; finish with {@link Builder#open()}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** How to open a list. By default it opens the list or creates it with the options given. */
  public static final class Builder extends ManagedBuilder<Builder> {
    private Builder(String name) {
      super(name);
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * Opens (or creates) the list. Opening an existing list ignores capacityBytes and maxItems.
     *
     * @throws IncompatibleException the name holds another kind of object (a dict, a queue, ...)
     * @throws NotFoundException {@link #openOnly()} and the name does not exist
     */
    public List open() {
      NativeLoader.load();
      NativeList h = Polyipc.requireHandle("list", name,
          NativeList.open(name, how.openMode, capacityBytes, maxItems, how.mode, how.ephemeral ? 1 : 0));
      return new List(name, h, mapper);
    }
  }

  // ---- writing --------------------------------------------------------------------------------------

  /**
   * Appends {@code value} written as JSON by Jackson (null: JSON null; a String: a JSON string; see {@link
   * #addJson} for JSON text).
   *
   * @throws FullException the list holds max items values already, or has no room left
   * @throws TooLargeException the value could never fit
   */
  public void add(Object value) {
    byte[] v = serialize(value);
    run(h -> h.append(v));
  }

  /**
   * Appends the JSON text {@code json}, stored as it is.
   *
   * @throws InvalidJsonException the text is not one JSON value (the list is unchanged)
   */
  public void addJson(String json) {
    byte[] v = text(json, "json");
    run(h -> h.append(v));
  }

  /** Appends every value of {@code values} (each one atomic, the whole not). */
  public void addAll(Collection<?> values) {
    for (Object v : Objects.requireNonNull(values, "values")) add(v);
  }

  /** Inserts {@code value} before element {@code index}: past the end appends, before the start prepends. */
  public void add(long index, Object value) {
    byte[] v = serialize(value);
    run(h -> h.insert(index, v));
  }

  /** {@link #add(long, Object)} with JSON text. */
  public void addJson(long index, String json) {
    byte[] v = text(json, "json");
    run(h -> h.insert(index, v));
  }

  /**
   * Sets element {@code index} to {@code value} (written by Jackson). Unlike {@link java.util.List#set} it
   * does not answer the previous value.
   *
   * @throws IndexOutOfBoundsException no element {@code index}
   */
  public void set(long index, Object value) {
    byte[] v = serialize(value);
    indexedRun(index, () -> run(h -> h.set(index, v)));
  }

  /** {@link #set(long, Object)} with JSON text. */
  public void setJson(long index, String json) {
    byte[] v = text(json, "json");
    indexedRun(index, () -> run(h -> h.set(index, v)));
  }

  /**
   * Removes element {@code index} and answers it ({@link java.util.List#remove(int)}).
   *
   * @throws IndexOutOfBoundsException no element {@code index} (the list may be empty)
   */
  public JsonNode remove(long index) {
    return readTree(popRaw(index, true));
  }

  /** {@link #remove(long)} answering the value's JSON text. */
  public String removeJson(long index) {
    return new String(popRaw(index, true), StandardCharsets.UTF_8);
  }

  /**
   * Removes the last value and answers it (Python's {@code list.pop()}).
   *
   * @throws EmptyException the list is empty
   */
  public JsonNode pop() {
    return readTree(popRaw(-1, false));
  }

  /** {@link #pop()} answering the value's JSON text. */
  public String popJson() {
    return new String(popRaw(-1, false), StandardCharsets.UTF_8);
  }

  /**
   * Removes element {@code index} and answers it, as Python's {@code list.pop(index)}.
   *
   * @throws EmptyException the list is empty
   * @throws IndexOutOfBoundsException no element {@code index}
   */
  public JsonNode pop(long index) {
    return readTree(popRaw(index, false));
  }

  /** {@link #pop(long)} answering the value's JSON text. */
  public String popJson(long index) {
    return new String(popRaw(index, false), StandardCharsets.UTF_8);
  }

  private byte[] popRaw(long index, boolean emptyOutOfRange) {
    return indexed(index, () -> {
      try {
        return call(h -> h.pop(index));
      } catch (EmptyException e) {
        if (!emptyOutOfRange) throw e;
        throw outOfRange(index, e);
      }
    });
  }

  /** Removes every value. */
  public void clear() {
    run(NativeList::clear);
  }

  // ---- reading --------------------------------------------------------------------------------------

  /**
   * Element {@code index} (negative: from the end); JSON null is a NullNode.
   *
   * @throws IndexOutOfBoundsException no element {@code index}
   */
  public JsonNode get(long index) {
    return readTree(getRaw(index));
  }

  /** Element {@code index} read as a {@code type} by Jackson (JSON null: null). */
  public <T> T get(long index, Class<T> type) {
    Objects.requireNonNull(type, "type");
    byte[] v = getRaw(index);
    try {
      return mapper.readValue(v, type);
    } catch (IOException e) {
      throw new UncheckedIOException(
          object() + ": value " + index + " does not read as " + type.getName() + ": " + e.getMessage(), e);
    }
  }

  /** Element {@code index} read as a {@code type} by Jackson (JSON null: null). */
  public <T> T get(long index, TypeReference<T> type) {
    Objects.requireNonNull(type, "type");
    byte[] v = getRaw(index);
    try {
      return mapper.readValue(v, type);
    } catch (IOException e) {
      throw new UncheckedIOException(
          object() + ": value " + index + " does not read as " + type.getType() + ": " + e.getMessage(), e);
    }
  }

  /** The JSON text of element {@code index} as stored. */
  public String getJson(long index) {
    return new String(getRaw(index), StandardCharsets.UTF_8);
  }

  private byte[] getRaw(long index) {
    return indexed(index, () -> call(h -> h.get(index)));
  }

  /** The number of values ({@link Integer#MAX_VALUE} if more: see {@link #length()}). */
  public int size() {
    long n = length();
    return n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) n;
  }

  /** The number of values, as a long. */
  public long length() {
    return call(NativeList::len);
  }

  public boolean isEmpty() {
    return length() == 0;
  }

  /** Every value, one snapshot, in order (an unmodifiable list). */
  public java.util.List<JsonNode> snapshot() {
    JsonNode items = readTree(call(NativeList::items));
    java.util.List<JsonNode> out = new ArrayList<>(items.size());
    for (JsonNode v : items) out.add(v);
    return Collections.unmodifiableList(out);
  }

  /** Every value, one snapshot, as the JSON text of one array. */
  public String itemsJson() {
    return new String(call(NativeList::items), StandardCharsets.UTF_8);
  }

  /** Iterates over a snapshot ({@link #snapshot()}). */
  @Override
  public Iterator<JsonNode> iterator() {
    return snapshot().iterator();
  }

  @Override
  String nativeStat(NativeList h) {
    return h.stat_json();
  }

  // ---- watching for changes -------------------------------------------------------------------------

  /**
   * The list's version: 0 for a new list, +1 per change made by any process (every add, insert, set, remove,
   * pop and clear); reads, and calls that fail, leave it as it is. Compare versions for equality only. The
   * pattern: read the version, then read what you need, then {@link #awaitChange(long) awaitChange} from
   * that version; a change made in between is not missed (the wait returns at once).
   *
   * <pre>{@code
   * long seen = l.version();
   * for (;;) {
   *   use(l.snapshot());                // read after taking the version
   *   seen = l.awaitChange(seen);       // at once if it changed meanwhile
   * }
   * }</pre>
   *
   * @throws HandleClosedException after {@link #close()}
   */
  public long version() {
    return call(NativeList::version);
  }

  /**
   * Waits, without a time limit, until the list's version differs from {@code seenVersion} (at once if it
   * already does), a change made by any process, and answers the version seen then. The wait runs in 50 ms
   * slices, each from the same {@code seenVersion} (a change between two slices is not missed), so {@link
   * Thread#interrupt()} ends it within about 50 ms.
   *
   * @return the version at return (not {@code seenVersion})
   * @throws InterruptedException the thread was interrupted, before or during the wait (the interrupt
   *     status is cleared, as the JDK's waits do)
   * @throws HandleClosedException after {@link #close()}, also one by another thread during the wait
   */
  public long awaitChange(long seenVersion) throws InterruptedException {
    return awaitVersionChange(seenVersion, FOREVER, NativeList::wait_change);
  }

  /**
   * Waits until the list's version differs from {@code seenVersion} or the time runs out (a timeout of at
   * most 0 only checks), in slices as {@link #awaitChange(long)}.
   *
   * @return the version at return, or {@code seenVersion} itself when the time ran out with no change (where
   *     {@link Event#await(long, TimeUnit)} answers false): compare it with {@code seenVersion}
   * @throws InterruptedException the thread was interrupted, before or during the wait (the interrupt
   *     status is cleared)
   * @throws HandleClosedException after {@link #close()}, also one by another thread during the wait
   */
  public long awaitChange(long seenVersion, long timeout, TimeUnit unit) throws InterruptedException {
    return awaitVersionChange(seenVersion, nanos(timeout, unit), NativeList::wait_change);
  }


  // ---- helpers ----------------------------------------------------------------------------------------

  @FunctionalInterface
  private interface Indexed<R> {
    R apply();
  }

  /**
   * Runs f, answering the library's OUT_OF_RANGE as java.util.List's IndexOutOfBoundsException.
   */
  private <R> R indexed(long index, Indexed<R> f) {
    try {
      return f.apply();
    } catch (OutOfRangeException e) {
      throw outOfRange(index, e);
    }
  }

  private void indexedRun(long index, Runnable f) {
    indexed(index, () -> {
      f.run();
      return null;
    });
  }

  private IndexOutOfBoundsException outOfRange(long index, PolyipcException cause) {
    IndexOutOfBoundsException e = new IndexOutOfBoundsException(cause.getMessage());
    e.initCause(cause);
    return e;
  }

  private byte[] text(String json, String what) {
    return Json.text(object(), json, what);
  }

  private byte[] serialize(Object value) {
    return Json.write(mapper, object(), value);
  }

  private JsonNode readTree(byte[] json) {
    return Json.readTree(mapper, object(), json);
  }

  private String object() {
    return "list '" + name() + "'";
  }
}
