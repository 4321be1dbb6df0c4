package dev.goplugin4j.host.internal.client;

import dev.goplugin4j.host.PluginClient;
import dev.goplugin4j.host.PluginStartException;
import dev.goplugin4j.host.Runner;
import dev.goplugin4j.host.internal.process.ProcessRunner;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Launch phase of a start: the runner's start within the start timeout, and the timings of the
 * start's phases (the Started event's and the DEBUG line's).
 */
final class RunnerStart {
  // the session's logger: tests and users read these lines under PluginClient
  private static final Logger log = LoggerFactory.getLogger(PluginClient.class);

  private RunnerStart() {}

  /**
   * {@code r.start()} within the start timeout: a runner stuck there (a container engine that
   * does not answer) must not hang the host. On timeout the caller's teardown kills the runner,
   * which ends or undoes its start. The process runner runs on this thread.
   */
  static void startRunner(PluginClient.Config config, Runner r, long deadline,
      ExecutorService grpcExecutor, FailureDiagnosis diagnosis) {
    if (r instanceof ProcessRunner) {
      // our process runner only spawns (a few ms, it cannot wait on anything): on this thread,
      // without a hand-off to the pool and back
      r.start();
      return;
    }
    CompletableFuture<Void> started = CompletableFuture.runAsync(r::start, grpcExecutor);
    try {
      started.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new PluginStartException(diagnosis.failure(
          "timeout while starting the plugin: the runner (" + r.name() + ") did not start it within "
              + config.startTimeout().toMillis() + " ms", r));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PluginStartException(diagnosis.failure("interrupted while starting the plugin", r), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new PluginStartException(diagnosis.failure("error starting the plugin", r), e.getCause());
    }
  }

  /** The time between two {@link System#nanoTime()} readings; never negative. */
  static Duration since(long fromNanos, long toNanos) {
    return Duration.ofNanos(Math.max(0, toNanos - fromNanos));
  }

  /**
   * The phases of a launch from their {@link System#nanoTime()} readings, for the Started event;
   * logged at DEBUG too. The broker and stdio streams are opened before the channel connects
   * (they go out with its first bytes), so {@code broker and stdio} comes before {@code connect}.
   */
  static Map<String, Duration> phases(String name, long t0, long tPrepared, long tRunner,
      long tLine, long tNegotiated, long channelBuilt, long streamsOpened, long end) {
    Map<String, Duration> phases = new LinkedHashMap<>();
    phases.put("prepare", since(t0, tPrepared));
    phases.put("runner start", since(tPrepared, tRunner));
    phases.put("handshake line", since(tRunner, tLine));
    phases.put("handshake parse", since(tLine, tNegotiated));
    phases.put("channel", since(tNegotiated, channelBuilt));
    phases.put("broker and stdio", since(channelBuilt, streamsOpened));
    phases.put("connect", since(streamsOpened, end));
    if (log.isDebugEnabled()) {
      log.debug("plugin {} start phases (ms): prepare (executors, socket dir, env, host"
              + " certificate) {}, runner start {}, handshake line {}, handshake parse {}, channel"
              + " {}, broker and stdio {}, connect (until the channel is ready, TLS included) {};"
              + " total {}",
          name, ms(t0, tPrepared), ms(tPrepared, tRunner), ms(tRunner, tLine),
          ms(tLine, tNegotiated), ms(tNegotiated, channelBuilt), ms(channelBuilt, streamsOpened),
          ms(streamsOpened, end), ms(t0, end));
    }
    return phases;
  }

  /** Milliseconds between two {@link System#nanoTime()} readings, to a tenth. */
  private static double ms(long from, long to) {
    return Math.round((to - from) / 100_000.0) / 10.0;
  }
}
