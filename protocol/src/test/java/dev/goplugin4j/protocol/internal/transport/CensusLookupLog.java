package dev.goplugin4j.protocol.internal.transport;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Records what grpc's channel and server builders log while it is open: they log each failed look
 * for grpc-census at FINE. Tests open one per test and close it in their tear-down, which puts the
 * loggers' levels back.
 */
public final class CensusLookupLog implements AutoCloseable {
  private static final List<Logger> BUILDER_LOGS =
      List.of(Logger.getLogger("io.grpc.internal.ManagedChannelImplBuilder"),
          Logger.getLogger("io.grpc.internal.ServerImplBuilder"));

  private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
  private final Handler recorder = new Handler() {
    @Override
    public void publish(LogRecord r) {
      logged.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  private final List<Level> levelsBefore;

  private CensusLookupLog() {
    levelsBefore = BUILDER_LOGS.stream().map(Logger::getLevel).toList();
    for (Logger l : BUILDER_LOGS) {
      l.setLevel(Level.FINE);
      l.addHandler(recorder);
    }
  }

  /** Starts recording. */
  public static CensusLookupLog open() {
    return new CensusLookupLog();
  }

  /** Whether a builder has logged a look for grpc-census since {@link #open()}. */
  public boolean lookedForCensus() {
    return logged.stream().map(LogRecord::getMessage)
        .anyMatch(m -> m != null && m.contains("census"));
  }

  @Override
  public void close() {
    for (int i = 0; i < BUILDER_LOGS.size(); i++) {
      BUILDER_LOGS.get(i).removeHandler(recorder);
      BUILDER_LOGS.get(i).setLevel(levelsBefore.get(i));
    }
  }
}
