package io.polyipc;

/**
 * Library-wide calls: versions, and the names of the namespace ({@code POLYIPC_NAMESPACE}, default
 * "default"). Objects live until someone unlinks them: no garbage collector, finalizer or exit hook of
 * this binding ever does.
 */
public final class Polyipc {
  private Polyipc() {}

  /** The loaded library's version, "MAJOR.MINOR.PATCH". */
  public static String version() {
    NativeLoader.load();
    return polyipc_native.polyipc_version();
  }

  /** The loaded library's MAJOR*1000000 + MINOR*1000 + PATCH. */
  public static int versionNumber() {
    NativeLoader.load();
    return polyipc_native.polyipc_version_number();
  }

  /** The POLYIPC_VERSION_NUMBER of the header this binding was generated from (checked at load). */
  public static int bindingVersionNumber() {
    NativeLoader.load();
    return polyipc_native.polyipc_java_binding_version_number();
  }

  /** The C API's name of a status, e.g. "POLYIPC_ERR_TIMEOUT". */
  public static String statusName(Status status) {
    NativeLoader.load();
    return polyipc_native.polyipc_status_name(status.code());
  }

  /**
   * Removes a name; handles already attached keep working.
   *
   * @throws NotFoundException when there is no such name
   */
  public static void unlink(String name) {
    NativeLoader.load();
    polyipc_native.polyipc_unlink(requireName(name));
  }

  /** Removes a name if it exists; answers whether it did. */
  public static boolean unlinkIfExists(String name) {
    try {
      unlink(name);
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  /** Every object of the namespace, as a JSON array of stat objects. */
  public static String listJson() {
    NativeLoader.load();
    return polyipc_native.polyipc_native_list_json();
  }

  /** One object's options and counters as a JSON object, without attaching to it. */
  public static String statJson(String name) {
    NativeLoader.load();
    return polyipc_native.polyipc_native_stat_json(requireName(name));
  }

  /**
   * Up to maxCount messages of queue {@code name} in delivery order, without taking them: a JSON array of
   * {@code {"message": ..., "priority": n}} (bytes messages as base64 under "base64").
   */
  public static String peekJson(String name, int maxCount) {
    if (maxCount < 0) throw new IllegalArgumentException("maxCount < 0");
    NativeLoader.load();
    return polyipc_native.polyipc_native_peek_json(requireName(name), maxCount);
  }

  /** Removes ephemeral objects whose attached processes are all dead: {@code {"removed": [...], "stale": [...]}}. */
  public static String gcJson() {
    NativeLoader.load();
    return polyipc_native.polyipc_native_gc_json();
  }

  static String requireName(String name) {
    if (name == null) throw new NullPointerException("name");
    return name;
  }

  /** A size or count option: IllegalArgumentException when negative. */
  static long requireNonNegative(long value, String what) {
    if (value < 0) throw new IllegalArgumentException(what + " < 0");
    return value;
  }

  /** What a native open returned, which should never be null (the library throws instead). */
  static <H> H requireHandle(String kind, String name, H handle) {
    if (handle == null) throw new PolyipcException(Status.UNKNOWN, kind + " '" + name + "': open returned no handle");
    return handle;
  }
}
