package io.polyipc;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A named map from string keys to JSON values in shared memory, read and written directly by every attached
 * process in any language: Python's {@code multiprocessing.Manager().dict()} without a manager process. The
 * method names follow {@link java.util.concurrent.ConcurrentMap}; each call is one atomic step on the
 * shared dict (a process killed mid-call leaves it as before or after the call).
 *
 * <pre>{@code
 * try (Dict d = Dict.open("settings")) {
 *   d.put("retries", 3);                         // written as JSON by Jackson
 *   d.putJson("limits", "{\"cpu\": 2}");         // JSON text as it is
 *   int retries = d.get("retries", Integer.class);
 *   JsonNode limits = d.get("limits");          // null when the key is absent
 *   d.replace("retries", 3, 4);                  // compare-and-set: JSON equality, so 3 matches 3.0
 *   d.compute("hits", v -> v == null ? 1 : v.asLong() + 1);  // an atomic increment (a CAS loop)
 * }
 * }</pre>
 *
 * <p>Values are JSON: the Object variants write them with Jackson (a Java null is JSON {@code null}, a
 * String a JSON string, a {@link JsonNode} as it is) and read them back as a {@link JsonNode} or a type of
 * the caller's choosing; the {@code Json} variants take and give JSON text. An absent key reads as Java
 * null; a key holding JSON {@code null} reads as a {@link com.fasterxml.jackson.databind.node.NullNode}
 * (and as null through {@link #get(String, Class)}: use {@link #containsKey} to tell them apart). Keys are
 * non-null strings of at most 4096 bytes of UTF-8, without U+0000; they go to the library as real UTF-8
 * (characters outside the BMP included).
 *
 * <p>{@link #keys()}, {@link #keySet()}, {@link #snapshot()} and {@link #itemsJson()} are each one snapshot,
 * in the order keys were last set; the dict is not a live {@link Map} view. Errors are the binding's
 * unchecked {@link PolyipcException}s: {@link FullException} when max items or the capacity is reached,
 * {@link TooLargeException} for an entry that can never fit, {@link InvalidJsonException} for malformed
 * JSON text, {@link InvalidArgumentException} for a bad key, {@link HandleClosedException} after
 * {@link #close()}. Closing releases this handle only; the dict stays until it is unlinked.
 */
public final class Dict extends SyncHandle<NativeDict> implements Iterable<String> {
  private static final byte[] ABSENT = new byte[0];

  private final ObjectMapper mapper;

  private Dict(String name, NativeDict handle, ObjectMapper mapper) {
    super("dict", name, handle, handle::delete);
    this.mapper = mapper != null ? mapper : Json.mapper();
  }

  // ---- opening --------------------------------------------------------------------------------------

  /** Opens dict {@code name}, creating it with the defaults (1 MiB for keys and values, 4096 keys). */
  public static Dict open(String name) {
    return builder(name).open();
  }

  /** Opens dict {@code name} as the options say (open or create, mode, ephemeral), with the default sizes. */
  public static Dict open(String name, SyncOptions options) {
    return builder(name).options(options).open();
  }

  /** Options for opening or creating dict {@code name}; finish with {@link Builder#open()}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** How to open a dict. By default it opens the dict or creates it with the options given. */
  public static final class Builder extends ManagedBuilder<Builder> {
    private Builder(String name) {
      super(name);
    }

    @Override
    Builder self() {
      return this;
    }

    /**
     * Opens (or creates) the dict. Opening an existing dict ignores capacityBytes and maxItems.
     *
     * @throws IncompatibleException the name holds another kind of object (a queue, ...)
     * @throws NotFoundException {@link #openOnly()} and the name does not exist
     */
    public Dict open() {
      NativeLoader.load();
      NativeDict h = Polyipc.requireHandle("dict", name,
          NativeDict.open(name, how.openMode, capacityBytes, maxItems, how.mode, how.ephemeral ? 1 : 0));
      return new Dict(name, h, mapper);
    }
  }

  // ---- writing --------------------------------------------------------------------------------------

  /**
   * Sets {@code key} to {@code value} written as JSON by Jackson (null: JSON null; a String: a JSON string;
   * see {@link #putJson} for JSON text). Unlike {@link Map#put} it does not answer the previous value.
   *
   * @throws FullException the dict holds max items keys already, or has no room left
   * @throws TooLargeException the entry could never fit
   */
  public void put(String key, Object value) {
    putRaw(key, serialize(value));
  }

  /**
   * Sets {@code key} to the JSON text {@code json}, stored as it is.
   *
   * @throws InvalidJsonException the text is not one JSON value (the dict is unchanged)
   */
  public void putJson(String key, String json) {
    putRaw(key, text(json, "json"));
  }

  private void putRaw(String key, byte[] value) {
    byte[] k = encodeKey(key);
    run(h -> h.set(k, value));
  }

  /** Sets every entry of {@code entries} (each one atomic, the whole not). */
  public void putAll(Map<String, ?> entries) {
    for (Map.Entry<String, ?> e : Objects.requireNonNull(entries, "entries").entrySet()) {
      put(e.getKey(), e.getValue());
    }
  }

  /**
   * Removes {@code key}.
   *
   * @return whether it was there
   */
  public boolean remove(String key) {
    byte[] k = encodeKey(key);
    return call(h -> h.remove(k)) != 0;
  }

  /**
   * Removes {@code key} only if its value equals {@code expected} as JSON ({@link
   * java.util.concurrent.ConcurrentMap#remove(Object, Object)}).
   *
   * @return whether it did
   */
  public boolean remove(String key, Object expected) {
    return casRaw(key, serialize(expected), ABSENT);
  }

  /**
   * Sets {@code key} to {@code desired} only if its value equals {@code expected} as JSON ({@code 1} equals
   * {@code 1.0}; whitespace and the order of an object's keys do not matter): {@link
   * java.util.concurrent.ConcurrentMap#replace(Object, Object, Object)}. An absent key never matches.
   *
   * @return whether it did
   */
  public boolean replace(String key, Object expected, Object desired) {
    return casRaw(key, serialize(expected), serialize(desired));
  }

  /**
   * Sets {@code key} to {@code value} only if it is present ({@link java.util.concurrent.ConcurrentMap#replace(
   * Object, Object)}).
   *
   * @return its value before, or null when the key was absent (nothing was set)
   */
  public JsonNode replace(String key, Object value) {
    byte[] desired = serialize(value);
    for (;;) {
      byte[] current = getRaw(key);
      if (current == null) return null;
      if (casRaw(key, current, desired)) return readTree(current);
    }
  }

  /**
   * Sets {@code key} to {@code value} only if it is absent, atomically ({@link
   * java.util.concurrent.ConcurrentMap#putIfAbsent}).
   *
   * @return null when it was set; otherwise the value the key has (which stays)
   */
  public JsonNode putIfAbsent(String key, Object value) {
    byte[] current = putIfAbsentRaw(key, serialize(value));
    return current == null ? null : readTree(current);
  }

  /** {@link #putIfAbsent(String, Object)} with JSON text: null when it was set, else the key's JSON text. */
  public String putIfAbsentJson(String key, String json) {
    byte[] current = putIfAbsentRaw(key, text(json, "json"));
    return current == null ? null : new String(current, StandardCharsets.UTF_8);
  }

  private byte[] putIfAbsentRaw(String key, byte[] value) {
    for (;;) {
      if (casRaw(key, ABSENT, value)) return null;
      byte[] current = getRaw(key);
      if (current != null) return current; // else removed in between: try again
    }
  }

  /**
   * The general compare-and-set with JSON text: sets {@code key} to {@code desiredJson} only if its value
   * equals {@code expectedJson} as JSON. {@code expectedJson} null: only if the key is absent; {@code
   * desiredJson} null: removes the key.
   *
   * @return whether it changed the dict
   * @throws InvalidJsonException expected or desired is not JSON text
   */
  public boolean compareAndSetJson(String key, String expectedJson, String desiredJson) {
    byte[] x = expectedJson == null ? ABSENT : text(expectedJson, "expectedJson");
    byte[] v = desiredJson == null ? ABSENT : text(desiredJson, "desiredJson");
    return casRaw(key, x, v);
  }

  /**
   * Updates {@code key} atomically with {@code update}, which gets its value (null when absent) and answers
   * the new one (written by Jackson; Java null removes the key): a compare-and-set loop, so {@code update}
   * may run more than once and must have no side effects ({@link
   * java.util.concurrent.ConcurrentMap#compute}).
   *
   * @return the new value (null: the key is now absent)
   */
  public JsonNode compute(String key, Function<? super JsonNode, ?> update) {
    Objects.requireNonNull(update, "update");
    for (;;) {
      byte[] current = getRaw(key);
      Object next = update.apply(current == null ? null : readTree(current));
      byte[] desired = next == null ? ABSENT : serialize(next);
      if (casRaw(key, current == null ? ABSENT : current, desired)) {
        return next == null ? null : next instanceof JsonNode ? (JsonNode) next : readTree(desired);
      }
    }
  }

  private boolean casRaw(String key, byte[] expected, byte[] desired) {
    byte[] k = encodeKey(key);
    return call(h -> h.compare_and_set(k, expected, desired)) != 0;
  }

  /** Removes every key. */
  public void clear() {
    run(NativeDict::clear);
  }

  // ---- reading --------------------------------------------------------------------------------------

  /** The value of {@code key}, or null when it is absent (JSON null is a NullNode). */
  public JsonNode get(String key) {
    byte[] v = getRaw(key);
    return v == null ? null : readTree(v);
  }

  /** The value of {@code key} read as a {@code type} by Jackson; null when absent (or JSON null). */
  public <T> T get(String key, Class<T> type) {
    Objects.requireNonNull(type, "type");
    byte[] v = getRaw(key);
    if (v == null) return null;
    try {
      return mapper.readValue(v, type);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "dict '" + name() + "': the value of '" + key + "' does not read as " + type.getName() + ": " + e.getMessage(),
          e);
    }
  }

  /** The value of {@code key} read as a {@code type} by Jackson; null when absent (or JSON null). */
  public <T> T get(String key, TypeReference<T> type) {
    Objects.requireNonNull(type, "type");
    byte[] v = getRaw(key);
    if (v == null) return null;
    try {
      return mapper.readValue(v, type);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "dict '" + name() + "': the value of '" + key + "' does not read as " + type.getType() + ": " + e.getMessage(),
          e);
    }
  }

  /** The value of {@code key}, or {@code defaultValue} when it is absent. */
  public JsonNode getOrDefault(String key, JsonNode defaultValue) {
    JsonNode v = get(key);
    return v != null ? v : defaultValue;
  }

  /** The JSON text of {@code key} as stored, or null when it is absent. */
  public String getJson(String key) {
    byte[] v = getRaw(key);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  /** Whether {@code key} is present. */
  public boolean containsKey(String key) {
    return getRaw(key) != null;
  }

  /** The number of keys ({@link Integer#MAX_VALUE} if more: see {@link #mappingCount()}). */
  public int size() {
    long n = mappingCount();
    return n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) n;
  }

  /** The number of keys, as a long (as {@link java.util.concurrent.ConcurrentHashMap#mappingCount()}). */
  public long mappingCount() {
    return call(NativeDict::len);
  }

  public boolean isEmpty() {
    return mappingCount() == 0;
  }

  /** The keys, one snapshot, in the order they were last set. */
  public List<String> keys() {
    JsonNode keys = readTree(call(NativeDict::keys));
    List<String> out = new ArrayList<>(keys.size());
    for (JsonNode k : keys) out.add(k.textValue());
    return Collections.unmodifiableList(out);
  }

  /** {@link #keys()} as an (unmodifiable, ordered) set. */
  public Set<String> keySet() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(keys()));
  }

  /** Iterates over a snapshot of the keys ({@link #keys()}). */
  @Override
  public Iterator<String> iterator() {
    return keys().iterator();
  }

  /** Every entry, one snapshot, in the order keys were last set (an unmodifiable map). */
  public Map<String, JsonNode> snapshot() {
    JsonNode items = readTree(call(NativeDict::items));
    Map<String, JsonNode> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : items.properties()) out.put(e.getKey(), e.getValue());
    return Collections.unmodifiableMap(out);
  }

  /** Every entry, one snapshot, as the JSON text of one object. */
  public String itemsJson() {
    return new String(call(NativeDict::items), StandardCharsets.UTF_8);
  }

  // ---- watching for changes -------------------------------------------------------------------------

  /**
   * The dict's version: 0 for a new dict, +1 per change made by any process (a set, a remove that found its
   * key, a clear, a compare-and-set that swapped); reads, and calls that change nothing (a remove of an
   * absent key, a compare-and-set that failed), leave it as it is. Compare versions for equality only.
   * The pattern: read the version, then read what you need, then {@link #awaitChange(long) awaitChange}
   * from that version; a change made in between is not missed (the wait returns at once).
   *
   * <pre>{@code
   * long seen = d.version();
   * for (;;) {
   *   use(d.snapshot());                // read after taking the version
   *   seen = d.awaitChange(seen);       // at once if it changed meanwhile
   * }
   * }</pre>
   *
   * @throws HandleClosedException after {@link #close()}
   */
  public long version() {
    return call(NativeDict::version);
  }

  /**
   * Waits, without a time limit, until the dict's version differs from {@code seenVersion} (at once if it
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
    return awaitVersionChange(seenVersion, FOREVER, NativeDict::wait_change);
  }

  /**
   * Waits until the dict's version differs from {@code seenVersion} or the time runs out (a timeout of at
   * most 0 only checks), in slices as {@link #awaitChange(long)}.
   *
   * @return the version at return, or {@code seenVersion} itself when the time ran out with no change (where
   *     {@link Event#await(long, TimeUnit)} answers false): compare it with {@code seenVersion}
   * @throws InterruptedException the thread was interrupted, before or during the wait (the interrupt
   *     status is cleared)
   * @throws HandleClosedException after {@link #close()}, also one by another thread during the wait
   */
  public long awaitChange(long seenVersion, long timeout, TimeUnit unit) throws InterruptedException {
    return awaitVersionChange(seenVersion, nanos(timeout, unit), NativeDict::wait_change);
  }


  @Override
  String nativeStat(NativeDict h) {
    return h.stat_json();
  }

  // ---- bytes ------------------------------------------------------------------------------------------

  /** The stored JSON text of key as UTF-8, or null when it is absent. */
  private byte[] getRaw(String key) {
    byte[] k = encodeKey(key);
    byte[] v = call(h -> h.get(k));
    return v == null || v.length == 0 ? null : v;
  }

  /**
   * A key as real UTF-8 (never JNI's modified UTF-8). A lone surrogate has no UTF-8 form: INVALID_ARG, as the
   * library answers invalid UTF-8 (String.getBytes would turn it into '?' and quietly name another key).
   */
  private byte[] encodeKey(String key) {
    byte[] k = Json.utf8(Objects.requireNonNull(key, "key"));
    if (k == null) {
      throw new InvalidArgumentException("dict '" + name() + "': the key is not valid Unicode (a lone surrogate)");
    }
    return k;
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
    return "dict '" + name() + "'";
  }
}
