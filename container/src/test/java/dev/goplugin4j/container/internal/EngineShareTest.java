package dev.goplugin4j.container.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.testkit.Leaks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The engine connection shared by a factory's runners, against a fake engine. */
class EngineShareTest {
  private Path dir;
  private FakeEngine fake;
  private EngineLocator locator;

  @BeforeEach
  void startEngine() throws IOException {
    dir = Files.createTempDirectory("goplugin4j-share-test");
    fake = new FakeEngine(dir);
    locator = new EngineLocator(fake.endpoint(), Map.of());
  }

  @AfterEach
  void stopEngine() throws IOException {
    fake.close();
    Files.deleteIfExists(dir);
  }

  @Test
  void runnersStartingAtOnceShareOnePingAndConnection() throws Exception {
    EngineShare share = new EngineShare(0);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Engine> leases = new ArrayList<>();
    try {
      List<Future<Engine>> acquired = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        acquired.add(pool.submit(() -> share.acquire(locator)));
      }
      for (Future<Engine> f : acquired) {
        leases.add(f.get());
      }
      for (Engine e : leases) {
        assertThat(e.inspect("gone")).isEmpty();
      }
    } finally {
      leases.forEach(Engine::close);
      pool.shutdownNow();
    }

    assertThat(fake.pings).hasValue(1);
    assertThat(share.openConnections()).isZero();
  }

  @Test
  void theLastRunnerToCloseClosesTheConnectionAndItsSockets() {
    Leaks leaks = Leaks.snapshotWithFds("goplugin4j-");
    EngineShare share = new EngineShare(0);
    Engine first = share.acquire(locator);
    Engine second = share.acquire(locator);
    first.inspect("gone");
    second.inspect("gone");
    first.close();

    assertThat(share.openConnections()).isOne();
    assertThat(second.inspect("gone")).isEmpty();

    second.close();
    assertThat(share.openConnections()).isZero();
    leaks.assertNoneWithin(Duration.ofSeconds(10));
  }

  @Test
  void aStartWithinTheLingerReusesTheConnection() {
    EngineShare share = new EngineShare(60_000);
    try {
      share.acquire(locator).close();
      Engine again = share.acquire(locator);
      again.inspect("gone");
      again.close();

      assertThat(fake.pings).hasValue(1);
      assertThat(share.openConnections()).isOne();
    } finally {
      assertThat(share.closeIdleNow()).isTrue();
    }
    assertThat(share.openConnections()).isZero();
  }

  @Test
  void aStartAfterTheConnectionClosedConnectsAnew() {
    EngineShare share = new EngineShare(0);
    share.acquire(locator).close();
    share.acquire(locator).close();

    assertThat(fake.pings).hasValue(2);
  }

  @Test
  void callsAfterAnEngineRestartGoOutOnNewConnections() throws IOException {
    EngineShare share = new EngineShare(0);
    try (Engine e = share.acquire(locator)) {
      assertThat(e.inspect("gone")).isEmpty();
      assertThat(e.listByLabel("k", "v")).isEmpty();
      int before = fake.connections.get();

      e.start("c"); // a POST, which httpclient5 never sends again by itself
      fake.restart();

      e.start("c");
      assertThat(e.inspect("gone")).isEmpty();
      assertThat(e.listByLabel("k", "v")).isEmpty();
      assertThat(fake.connections.get()).isGreaterThan(before);
    }
  }

  @Test
  void aClosedLeaseRefusesCallsWhileOthersGoOn() {
    EngineShare share = new EngineShare(0);
    try (Engine kept = share.acquire(locator)) {
      Engine closed = share.acquire(locator);
      closed.close();
      closed.close(); // idempotent: gives the share back once

      assertThatThrownBy(() -> closed.inspect("gone")).isInstanceOf(EngineException.class)
          .hasMessageContaining("was closed");
      assertThat(kept.inspect("gone")).isEmpty();
      assertThat(share.openConnections()).isOne();
    }
  }

  @Test
  void anEngineThatDoesNotAnswerFailsEveryWaitingStart() throws IOException {
    EngineShare share = new EngineShare(0);
    EngineLocator nowhere = new EngineLocator("unix://" + dir.resolve("none.sock"), Map.of());

    assertThatThrownBy(() -> share.acquire(nowhere))
        .isInstanceOf(dev.goplugin4j.container.EngineUnavailableException.class);
    assertThat(share.openConnections()).isZero();
  }
}
