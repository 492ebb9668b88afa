package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class SharedMemoryTest {
  @RegisterExtension final TestNames names = new TestNames();

  /** How many mappings of this process come from shared memory `name` (its file is /dev/shm/<prefix><name>). */
  private static long mappings(String name) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .filter(l -> l.contains("/dev/shm/") && (l.endsWith(name) || l.endsWith(name + " (deleted)")))
        .count();
  }

  @Test
  void bytesAreZeroedSharedBetweenHandlesAndAttachTakesAnySize() {
    String name = names.next("shm");
    try (SharedMemory m = SharedMemory.open(name, 10000); SharedMemory n = SharedMemory.attach(name)) {
      assertEquals(10000, m.size());
      assertEquals(10000, n.size());
      ByteBuffer b = m.buffer();
      assertTrue(b.isDirect());
      assertEquals(10000, b.capacity());
      for (int i = 0; i < 10000; ++i) assertEquals(0, b.get(i));
      b.order(ByteOrder.LITTLE_ENDIAN).putLong(8, 0x0102030405060708L);
      ByteBuffer c = n.buffer();
      assertEquals(8, c.get(8));
      assertEquals(0x0102030405060708L, c.order(ByteOrder.LITTLE_ENDIAN).getLong(8));
      ByteBuffer part = n.buffer(9, 3);
      assertEquals(3, part.capacity());
      assertEquals(7, part.get(0));
      assertThrows(IndexOutOfBoundsException.class, () -> n.buffer(9999, 2));
      assertThrows(IndexOutOfBoundsException.class, () -> n.buffer(-1, 2));
      assertThrows(IndexOutOfBoundsException.class, () -> part.get(3));
      try (SharedMemory again = SharedMemory.open(name, 10000)) {
        assertEquals(7, again.buffer().get(9));
      }
      assertTrue(m.statJson().contains(name), m.statJson());
    }
  }

  @Test
  void wrongSizesAndMissingNamesAreCleanErrors() {
    String name = names.next("sizes");
    try (SharedMemory m = SharedMemory.open(name, 4096)) {
      assertThrows(IncompatibleException.class, () -> SharedMemory.open(name, 8192));
      assertThrows(AlreadyExistsException.class, () -> SharedMemory.open(name, 4096, SyncOptions.DEFAULT.createOnly()));
    }
    assertThrows(InvalidArgumentException.class,
        () -> SharedMemory.open(names.next("zero"), 0, SyncOptions.DEFAULT.createOnly()));
    assertThrows(NotFoundException.class, () -> SharedMemory.open(names.next("zero2"), 0));
    assertThrows(NotFoundException.class, () -> SharedMemory.attach(names.next("missing")));
    assertThrows(NoMemoryException.class, () -> SharedMemory.open(names.next("huge"), 1L << 43));
    assertThrows(IllegalArgumentException.class, () -> SharedMemory.open(names.next("neg"), -1));
  }

  @Test
  void buffersOutliveCloseAndTheMappingGoesWithTheLastOne() throws Exception {
    String name = names.next("life");
    SharedMemory m = SharedMemory.open(name, 4096);
    assertTrue(mappings(name) > 0);
    m.close();
    assertEquals(0, mappings(name), "closed without buffers: unmapped at once");

    m = SharedMemory.open(name, 4096);
    ByteBuffer b = m.buffer().asReadOnlyBuffer(); // a view keeps its buffer, and the mapping, alive
    ByteBuffer w = m.buffer(100, 10).slice();
    m.close();
    assertThrows(HandleClosedException.class, m::buffer);
    assertThrows(HandleClosedException.class, m::size);
    w.put(0, (byte) 42); // still mapped: no crash, and the bytes are the shared ones
    assertEquals(42, b.get(100));
    try (SharedMemory n = SharedMemory.attach(name)) {
      assertEquals(42, n.buffer().get(100));
    }
    assertTrue(mappings(name) > 0, "still mapped: buffers are alive");
    b = null;
    w = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (mappings(name) != 0 && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(10);
    }
    assertEquals(0, mappings(name), "unmapped once the buffers were collected");
  }

  @Test
  void buffersStayValidAfterTheNameIsUnlinked() {
    String name = names.next("unlinked");
    try (SharedMemory m = SharedMemory.open(name, 100)) {
      ByteBuffer b = m.buffer();
      b.put(5, (byte) 5);
      m.unlink();
      assertThrows(NotFoundException.class, () -> SharedMemory.attach(name));
      assertEquals(5, b.get(5));
      b.put(6, (byte) 6);
      assertEquals(6, m.buffer().get(6));
    }
  }

  @Test
  void aChildJvmWritesTheBytesThisOneReads() throws Exception {
    String name = names.next("child");
    try (ChildProcess child = ChildProcess.start("shm-fill", name, "65536", "7")) {
      assertEquals("filled 65536", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
    }
    try (SharedMemory m = SharedMemory.attach(name)) {
      assertEquals(65536, m.size());
      ByteBuffer b = m.buffer();
      for (int i = 0; i < 65536; ++i) assertEquals((byte) (i * 131 + 7), b.get(i), "byte " + i);
    }
  }
}
