package io.polyipc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A per-thread native buffer through which {@link Queue} messages cross JNI: a put copies the message in
 * and passes the address and length, a get has the library copy the message in and answers its length.
 * Neither native call touches a Java object, so neither calls back into the VM. Messages larger than
 * {@link #MAX} take SWIG's byte[] wrappers instead, so no thread keeps a large buffer for life.
 */
final class ScratchBuffer {
  static final int INITIAL = 4096;
  static final int MAX = 64 * 1024;

  private static final ThreadLocal<ScratchBuffer> PER_THREAD = ThreadLocal.withInitial(ScratchBuffer::new);

  /** The calling thread's buffer. */
  static ScratchBuffer get() {
    return PER_THREAD.get();
  }

  /** The id of the thread it belongs to (ids are never reused). */
  final long owner = Thread.currentThread().getId();

  private ByteBuffer buffer;
  long address;
  int capacity;
  private byte[] bytes; // for decoding: a String is made from a heap array
  /** A message too large for the buffer, taken as an array (see Queue.getOnce). */
  byte[] large;

  private ScratchBuffer() {
    allocate(INITIAL);
    bytes = new byte[INITIAL];
  }

  private void allocate(int n) {
    ByteBuffer b = ByteBuffer.allocateDirect(n);
    long a = polyipc_nativeJNI.direct_address(b);
    if (a == 0) throw new IllegalStateException("polyipc: no address for a direct ByteBuffer");
    buffer = b; // the old buffer, if any, goes to the garbage collector
    address = a;
    capacity = n;
  }

  /** Room for n bytes (n <= MAX); the content is not kept. */
  void ensure(int n) {
    if (n > capacity) allocate(Math.min(MAX, Math.max(n, 2 * capacity)));
  }

  /** Copies data (at most MAX bytes) in at offset 0. */
  void load(byte[] data) {
    ensure(data.length);
    buffer.put(0, data, 0, data.length);
  }

  /** The first n bytes as a new array. */
  byte[] toBytes(int n) {
    byte[] b = new byte[n];
    buffer.get(0, b, 0, n);
    return b;
  }

  /** The first n bytes decoded as UTF-8. */
  String toUtf8String(int n) {
    byte[] b = bytes;
    if (b.length < n) bytes = b = new byte[Math.max(n, Math.min(MAX, 2 * b.length))];
    buffer.get(0, b, 0, n);
    return new String(b, 0, n, StandardCharsets.UTF_8);
  }

  /** The large message taken, handed over once. */
  byte[] takeLarge() {
    byte[] b = large;
    large = null;
    return b;
  }
}
