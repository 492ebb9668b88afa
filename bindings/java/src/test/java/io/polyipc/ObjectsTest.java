package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class ObjectsTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  record Job(long job, String from, List<String> tags) {}

  @Test
  void objectsGoThroughJackson() throws Exception {
    try (Queue q = Queue.open(names.next("objects"))) {
      Job job = new Job(7, "java", List.of("a", "b"));
      q.putObject(job);
      // peek re-serialises: the same JSON value (the library may order the keys differently)
      assertEquals(JSON.readTree("{\"job\":7,\"from\":\"java\",\"tags\":[\"a\",\"b\"]}"), JSON.readTree(q.peek()));
      assertEquals(job, q.takeObject(Job.class));

      q.putObject(Map.of("k", 1));
      Map<String, Integer> m = q.takeObject(new TypeReference<Map<String, Integer>>() {});
      assertEquals(Map.of("k", 1), m);

      assertTrue(q.offerObject(List.of(1, 2), 1, TimeUnit.SECONDS));
      assertEquals(List.of(1, 2), q.pollObject(List.class, 1, TimeUnit.SECONDS));
      assertNull(q.pollObject(Job.class, 20, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void aMessageOfAnotherShapeIsAClearErrorAndIsTaken() throws Exception {
    try (Queue q = Queue.open(names.next("shape"))) {
      q.put("[1,2,3]");
      UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> q.takeObject(Job.class));
      assertTrue(e.getMessage().contains(q.name()) && e.getMessage().contains("Job"), e.getMessage());
      assertTrue(q.isEmpty());
    }
  }

  @Test
  void priorityObjectsAndACustomMapper() throws Exception {
    ObjectMapper indenting = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    try (Queue q = Queue.builder(names.next("mapper")).order(Order.PRIORITY).objectMapper(indenting).open()) {
      q.putObject(Map.of("p", 9), 9);
      q.putObject(Map.of("p", 1), 1);
      String first = q.take();
      assertTrue(first.contains("\n"), "indented: " + first);
      assertEquals(Map.of("p", 9), q.takeObject(new TypeReference<Map<String, Integer>>() {}));
    }
  }

  @Test
  void objectsThatCannotBeWrittenAreRejectedBeforeThePut() {
    try (Queue q = Queue.open(names.next("unwritable"))) {
      assertThrows(IllegalArgumentException.class, () -> q.putObject(new Object()));
      assertTrue(q.isEmpty());
    }
  }
}
