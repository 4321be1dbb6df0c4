package dev.goplugin4j.server.internal.serve;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;

/**
 * Ignores SIGINT as go-plugin's server does. Uses {@code sun.misc.Signal} (module
 * jdk.unsupported) reflectively, since javac warns about it at compile time; without it (a
 * runtime without jdk.unsupported) SIGINT keeps its default effect, a graceful JVM shutdown.
 */
final class Signals {
  private Signals() {}

  /** @return true if SIGINT is now ignored */
  static boolean ignoreInterrupts() {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Constructor<?> ctor = signal.getConstructor(String.class);
      Object ign = handler.getField("SIG_IGN").get(null);
      Method handle = signal.getMethod("handle", signal, handler);
      handle.invoke(null, ctor.newInstance("INT"), ign);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return false;
    }
  }
}
