package io.polyipc;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A named block of shared memory (Python's {@code multiprocessing.shared_memory.SharedMemory}), seen by
 * every process that opens the name, in any language. The bytes start zeroed.
 *
 * <pre>{@code
 * try (SharedMemory shm = SharedMemory.open("frame", 1 << 20)) {
 *   ByteBuffer bytes = shm.buffer();           // a direct ByteBuffer over the mapping: no copy
 *   bytes.putInt(0, 42);
 * }
 * try (SharedMemory shm = SharedMemory.attach("frame")) { ... }   // whatever its size
 * }</pre>
 *
 * <p><b>Views and close.</b> {@link #buffer()} returns a direct {@link ByteBuffer} over the bytes (big-endian
 * like every new ByteBuffer; call {@code order(ByteOrder.nativeOrder())} to share binary numbers with C).
 * The mapping stays in this process as long as this handle is open <i>or</i> any buffer it gave (or a
 * slice, duplicate or view of one) is reachable: {@link #close()} never invalidates a buffer, so using one
 * after close is safe, and the memory is unmapped once the last buffer is garbage collected. After close,
 * the handle's own calls ({@link #buffer()}, {@link #size()} ...) throw {@link HandleClosedException}. A
 * handle closed before it gave any buffer unmaps at once. Buffers stay valid after another process unlinks
 * the name.
 *
 * <p>Nothing synchronises the bytes: share a {@link Lock}, a {@link Semaphore} or a {@link LongValue} to
 * order the processes' reads and writes.
 */
public final class SharedMemory extends SyncHandle<NativeSharedMemory> {
  // The native handle, released when this handle is closed and every buffer it gave is unreachable.
  private final RefCount mapping;
  private final long address;
  private final long size;

  private SharedMemory(String name, NativeSharedMemory handle, RefCount mapping) {
    super("shared_memory", name, handle, mapping::unref);
    this.mapping = mapping;
    this.address = handle.address();
    this.size = handle.size();
  }

  private static SharedMemory openNative(String name, int openMode, long size, SyncOptions options) {
    Polyipc.requireName(name);
    NativeLoader.load();
    NativeSharedMemory h = Polyipc.requireHandle("shared_memory", name,
        NativeSharedMemory.open(name, openMode, size, options.mode, options.ephemeral ? 1 : 0));
    try {
      return new SharedMemory(name, h, new RefCount(h::delete));
    } catch (RuntimeException e) {
      h.delete();
      throw e;
    }
  }

  /**
   * Opens shared memory {@code name}, creating it with {@code size} bytes if it does not exist.
   *
   * @throws IncompatibleException it exists with another size
   * @throws NoMemoryException {@code size} is more than /dev/shm can hold
   */
  public static SharedMemory open(String name, long size) {
    return open(name, size, SyncOptions.DEFAULT);
  }

  /**
   * Opens or creates shared memory {@code name} of {@code size} bytes as the options say ({@code
   * createOnly()}: Python's {@code create=True}). A size of 0 attaches an existing block whatever its size.
   */
  public static SharedMemory open(String name, long size, SyncOptions options) {
    Polyipc.requireNonNegative(size, "size");
    SyncOptions o = SyncOptions.orDefault(options);
    return openNative(name, o.openMode, size, o);
  }

  /**
   * Attaches to existing shared memory {@code name}, whatever its size.
   *
   * @throws NotFoundException there is no such name
   */
  public static SharedMemory attach(String name) {
    return openNative(name, SyncOptions.OPEN_ONLY, 0, SyncOptions.DEFAULT);
  }

  /** The size in bytes (as created; page-rounding is not counted). */
  public long size() {
    return call(h -> size);
  }

  /**
   * A direct ByteBuffer over all the bytes (position 0, limit and capacity {@link #size()}): a new buffer
   * each call, over the same memory. Valid for as long as it is reachable, even after {@link #close()}.
   *
   * @throws UnsupportedOperationException the block is larger than a ByteBuffer can be (2 GiB - 1): use
   *     {@link #buffer(long, int)}
   */
  public ByteBuffer buffer() {
    if (size > Integer.MAX_VALUE) {
      throw new UnsupportedOperationException("shared_memory '" + name() + "': " + size
          + " bytes is more than a ByteBuffer holds; use buffer(offset, length)");
    }
    return buffer(0, (int) size);
  }

  /** A direct ByteBuffer over {@code length} bytes from {@code offset}; see {@link #buffer()}. */
  public ByteBuffer buffer(long offset, int length) {
    if (offset < 0 || length < 0 || offset > size - length) {
      throw new IndexOutOfBoundsException("shared_memory '" + name() + "': range [" + offset + ", " + offset + " + "
          + length + ") is outside its " + size + " bytes");
    }
    return call(h -> {
      ByteBuffer b = polyipc_native.polyipc_java_direct_buffer(address + offset, length);
      mapping.ref();
      CLEANER.register(b, mapping::unref); // derived buffers (slice, duplicate, views) keep b reachable
      return b;
    });
  }

  @Override
  String nativeStat(NativeSharedMemory h) {
    return h.stat_json();
  }
}
