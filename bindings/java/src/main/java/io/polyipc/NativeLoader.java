package io.polyipc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the two native libraries the jar carries under {@code /io/polyipc/native/<os>-<arch>/}: the core
 * {@code libpolyipc.so.0} first, then the JNI glue {@code libpolyipc_jni.so}, whose dependency on the core
 * glibc then satisfies by soname from the already loaded copy. They are extracted to a fresh temporary
 * directory, or to the directory named by the system property {@value #NATIVE_DIR_PROPERTY} (use it when
 * the temporary directory is mounted noexec). A jar without them falls back to {@code
 * System.loadLibrary("polyipc_jni")} (java.library.path).
 *
 * <p>After loading it checks that the library's {@code polyipc_version_number()} equals the number of the
 * header the binding was generated from, and fails with an {@link IncompatibleException} naming both when
 * not.
 */
final class NativeLoader {
  /** System property: the directory to extract the native libraries into. */
  static final String NATIVE_DIR_PROPERTY = "polyipc.native.dir";

  static final String CORE_LIBRARY = "libpolyipc.so.0";
  static final String JNI_LIBRARY = "libpolyipc_jni.so";

  private static boolean loaded;
  private static boolean loading;
  private static RuntimeException failure;
  private static Error fatal;
  private static String loadedFrom = "java.library.path";

  private NativeLoader() {}

  /** Loads once; every later call after a failure throws the same clear error again. */
  static synchronized void load() {
    if (loaded || loading) return; // loading: re-entered from polyipc_nativeJNI's static initialiser
    if (failure != null) throw failure;
    if (fatal != null) throw fatal;
    loading = true;
    try {
      loadLibraries();
      checkVersion(
          polyipc_nativeJNI.polyipc_java_binding_version_number(),
          polyipc_nativeJNI.polyipc_version_number(),
          polyipc_nativeJNI.polyipc_version(),
          loadedFrom);
      loaded = true;
    } catch (RuntimeException e) {
      failure = e;
      throw e;
    } catch (Error e) {
      fatal = e;
      throw e;
    } finally {
      loading = false;
    }
  }

  /** Where the libraries came from (a directory, or "java.library.path"). */
  static synchronized String loadedFrom() {
    return loadedFrom;
  }

  /** Throws when the loaded library is not the version the binding was generated for. */
  static void checkVersion(int bindingNumber, int libraryNumber, String libraryVersion, String where) {
    if (bindingNumber != libraryNumber) {
      throw new IncompatibleException(
          "polyipc: the native library loaded from "
              + where
              + " is version "
              + libraryVersion
              + " (polyipc_version_number() = "
              + libraryNumber
              + ") but this Java binding was generated for POLYIPC_VERSION_NUMBER "
              + bindingNumber
              + "; use the libpolyipc that ships with this jar");
    }
  }

  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (os.startsWith("linux")) os = "linux";
    if (arch.equals("amd64") || arch.equals("x86-64")) arch = "x86_64";
    if (arch.equals("arm64")) arch = "aarch64";
    return os + "-" + arch;
  }

  private static void loadLibraries() {
    String resources = "/io/polyipc/native/" + platform() + "/";
    boolean inJar =
        NativeLoader.class.getResource(resources + CORE_LIBRARY) != null
            && NativeLoader.class.getResource(resources + JNI_LIBRARY) != null;
    if (!inJar) {
      try {
        System.loadLibrary("polyipc_jni");
      } catch (UnsatisfiedLinkError e) {
        throw linkError(
            "polyipc: this jar carries no native libraries for "
                + platform()
                + " and polyipc_jni is not on java.library.path",
            e);
      }
      return;
    }
    Path dir = extractionDirectory();
    Path core = extract(resources + CORE_LIBRARY, dir.resolve(CORE_LIBRARY));
    Path jni = extract(resources + JNI_LIBRARY, dir.resolve(JNI_LIBRARY));
    try {
      System.load(core.toString());
      System.load(jni.toString());
    } catch (UnsatisfiedLinkError e) {
      throw linkError(
          "polyipc: could not load the native libraries extracted to "
              + dir
              + " (a noexec directory? choose another with -D"
              + NATIVE_DIR_PROPERTY
              + "=DIR)",
          e);
    }
    loadedFrom = dir.toString();
  }

  private static Path extractionDirectory() {
    String chosen = System.getProperty(NATIVE_DIR_PROPERTY);
    try {
      if (chosen != null && !chosen.isEmpty()) {
        return Files.createDirectories(Paths.get(chosen));
      }
      Path dir = Files.createTempDirectory("polyipc-native-");
      dir.toFile().deleteOnExit(); // registered first, so deleted after the files in it
      return dir;
    } catch (IOException e) {
      throw linkError("polyipc: cannot create the directory for the native libraries: " + e, null);
    }
  }

  /** Copies a resource to target through a temporary file and an atomic rename, so concurrent JVMs
   * sharing a directory never load a half-written library. */
  private static Path extract(String resource, Path target) {
    Path temp = null;
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) throw linkError("polyipc: resource " + resource + " vanished", null);
      temp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
      Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      temp = null;
      if (System.getProperty(NATIVE_DIR_PROPERTY) == null) target.toFile().deleteOnExit();
      return target;
    } catch (IOException e) {
      throw linkError("polyipc: cannot extract " + resource + " to " + target + ": " + e, null);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }

  private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(message + (cause != null ? ": " + cause.getMessage() : ""));
    if (cause != null) e.initCause(cause);
    return e;
  }
}
