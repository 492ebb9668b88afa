package io.polyipc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Unique queue names for a test, unlinked after it (the namespace comes from POLYIPC_NAMESPACE, which
 * ctest sets; the names are unique on their own too, so a shared namespace is fine).
 */
final class TestNames implements AfterEachCallback {
  private final List<String> names = new ArrayList<>();

  synchronized String next(String what) {
    String name = "jt." + what + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    names.add(name);
    return name;
  }

  /** Another name the test creates (e.g. a condition's lock), unlinked after it too. */
  synchronized String also(String name) {
    names.add(name);
    return name;
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    for (String name : names) Polyipc.unlinkIfExists(name);
    names.clear();
  }
}
