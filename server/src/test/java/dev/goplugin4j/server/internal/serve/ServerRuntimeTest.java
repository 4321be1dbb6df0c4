package dev.goplugin4j.server.internal.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goplugin4j.protocol.AutoMtlsCertificate;
import dev.goplugin4j.protocol.GrpcBroker;
import dev.goplugin4j.protocol.Handshake;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.PluginEnv;
import dev.goplugin4j.protocol.internal.broker.BrokerImpl;
import dev.goplugin4j.protocol.internal.broker.YamuxMuxer;
import dev.goplugin4j.protocol.internal.proto.ConnInfo;
import dev.goplugin4j.protocol.internal.yamux.YamuxConfig;
import dev.goplugin4j.protocol.internal.yamux.YamuxSession;
import java.security.cert.X509Certificate;
import dev.goplugin4j.protocol.internal.proto.Empty;
import dev.goplugin4j.protocol.internal.proto.GRPCBrokerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCControllerGrpc;
import dev.goplugin4j.protocol.internal.proto.GRPCStdioGrpc;
import dev.goplugin4j.protocol.internal.proto.StdioData;
import dev.goplugin4j.protocol.internal.tls.TlsContexts;
import dev.goplugin4j.protocol.internal.transport.GrpcTransport;
import dev.goplugin4j.server.GrpcServerPlugin;
import dev.goplugin4j.server.NotLaunchedByHostException;
import dev.goplugin4j.server.PluginServeException;
import dev.goplugin4j.server.ServeConfig;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The plugin server in-process: a real Unix socket, real TLS, a gRPC client in the role of the
 * host. Process-level behaviour (stdout, exit status, signals) is tested in the example plugins'
 * integration tests against real Go hosts.
 */
class ServerRuntimeTest {
  private static final String COOKIE_KEY = "GOPLUGIN4J_TEST_COOKIE";
  private static final String COOKIE_VALUE = "let-me-in";

  private static final MethodDescriptor.Marshaller<String> UTF8 =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };
  private static final MethodDescriptor<String, String> ECHO = method("Echo");
  private static final MethodDescriptor<String, String> SLOW = method("Slow");

  private static AutoMtlsCertificate hostCert;
  private static EventLoopGroup group;

  private Path dir;
  private final Map<String, String> env = new HashMap<>();
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private ServerRuntime runtime;
  private final CountDownLatch slowStarted = new CountDownLatch(1);
  private final CompletableFuture<Boolean> slowSawCancel = new CompletableFuture<>();

  private static MethodDescriptor<String, String> method(String name) {
    return MethodDescriptor.<String, String>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("test.Echo/" + name)
        .setRequestMarshaller(UTF8)
        .setResponseMarshaller(UTF8)
        .build();
  }

  @BeforeAll
  static void hostSide() {
    hostCert = AutoMtlsCertificate.generate();
    group = GrpcTransport.newEventLoopGroup(1, "test-host");
  }

  @AfterAll
  static void releaseHostSide() {
    GrpcTransport.shutdown(group);
  }

  @BeforeEach
  void environment() throws IOException {
    dir = Files.createTempDirectory(Path.of("/tmp"), "gp4j-t");
    env.put(COOKIE_KEY, COOKIE_VALUE);
    env.put(PluginEnv.PROTOCOL_VERSIONS, "1");
    env.put(PluginEnv.UNIX_SOCKET_DIR, dir.toString());
    env.put(PluginEnv.CLIENT_CERT, hostCert.pem());
  }

  @AfterEach
  void release() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    if (runtime != null) {
      runtime.stop("test ended");
      assertThat(runtime.awaitTermination(Duration.ofSeconds(10))).isTrue();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private ServerServiceDefinition echoService() {
    return ServerServiceDefinition.builder("test.Echo")
        .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
          out.onNext("echo: " + req);
          out.onCompleted();
        }))
        .addMethod(SLOW, ServerCalls.asyncUnaryCall((req, out) -> {
          slowStarted.countDown();
          Context ctx = Context.current();
          long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          while (!ctx.isCancelled() && System.nanoTime() < end) {
            try {
              Thread.sleep(10);
            } catch (InterruptedException e) {
              break;
            }
          }
          slowSawCancel.complete(ctx.isCancelled());
          out.onNext("finished late");
          out.onCompleted();
        }))
        .build();
  }

  private ServeConfig.Builder config() {
    return ServeConfig.builder()
        .handshake(1, COOKIE_KEY, COOKIE_VALUE)
        .plugin("echo", (services, broker) -> services.addService(echoService()));
  }

  private Handshake start(ServeConfig config) {
    runtime = new ServerRuntime(config, new ServerRuntime.Io(env, stdout, false));
    return runtime.start();
  }

  private ManagedChannel connect(Handshake h) {
    ManagedChannel ch = h.hasCertificate()
        ? GrpcTransport.channel(h.address(),
            TlsContexts.client(hostCert, AutoMtlsCertificate.parseBase64Der(h.certificate())), group, null)
        : GrpcTransport.channel(h.address(), null, group, null);
    channels.add(ch);
    return ch;
  }

  private List<String> socketsInDir() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void printsExactlyOneHandshakeLineNamingTheSocketAndTheCertificate() throws IOException {
    Handshake h = start(config().build());
    String out = stdout.toString(StandardCharsets.US_ASCII);
    assertThat(out).endsWith("\n");
    assertThat(out.lines()).hasSize(1);
    assertThat(out).isEqualTo(h.format() + "\n");
    assertThat(h.coreVersion()).isEqualTo(1);
    assertThat(h.appVersion()).isEqualTo(1);
    assertThat(h.protocol()).isEqualTo("grpc");
    assertThat(h.address().network()).isEqualTo("unix");
    assertThat(Path.of(h.address().address()).getParent()).isEqualTo(dir);
    assertThat(Path.of(h.address().address()).getFileName().toString()).matches("plugin\\d+");
    assertThat(h.mux()).isEmpty();
    assertThat(h.hasCertificate()).isTrue();
    assertThat(h.certificate()).doesNotContain("=");
    assertThat(AutoMtlsCertificate.parseBase64Der(h.certificate()).getPublicKey().getAlgorithm())
        .isEqualTo("EC");
    assertThat(socketsInDir()).containsExactly(Path.of(h.address().address()).getFileName().toString());
  }

  @Test
  void servesHealthPluginAsServingAndTheUserServiceOverAutoMtls() {
    ManagedChannel ch = connect(start(config().build()));
    HealthCheckResponse r = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("plugin").build());
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(ClientCalls.blockingUnaryCall(ch, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "hi"))
        .isEqualTo("echo: hi");
  }

  @Test
  void serverInterceptorsSeeTheHostsCallsToThePluginsServicesButNotTheServersOwn() {
    List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    io.grpc.ServerInterceptor record = new io.grpc.ServerInterceptor() {
      @Override
      public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
          io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
        seen.add(call.getMethodDescriptor().getFullMethodName());
        return next.startCall(call, headers);
      }
    };
    ManagedChannel ch = connect(start(config().interceptors(record).build()));
    HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("plugin").build());
    assertThat(ClientCalls.blockingUnaryCall(ch, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "hi"))
        .isEqualTo("echo: hi");
    assertThat(seen).containsExactly(ECHO.getFullMethodName());
  }

  @Test
  void refusesAClientWhoseCertificateIsNotTheHostsOne() {
    Handshake h = start(config().build());
    AutoMtlsCertificate stranger = AutoMtlsCertificate.generate();
    ManagedChannel ch = GrpcTransport.channel(h.address(),
        TlsContexts.client(stranger, AutoMtlsCertificate.parseBase64Der(h.certificate())), group, null);
    channels.add(ch);
    assertThatThrownBy(() -> HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.newBuilder().setService("plugin").build()))
        .isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
            .isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void servesPlaintextWithAnEmptyCertificateFieldWhenTheHostSendsNoCertificate() {
    env.remove(PluginEnv.CLIENT_CERT);
    Handshake h = start(config().build());
    assertThat(stdout.toString(StandardCharsets.US_ASCII)).endsWith("|grpc|\n");
    assertThat(h.certificate()).isEmpty();
    ManagedChannel ch = connect(h);
    assertThat(ClientCalls.blockingUnaryCall(ch, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"))
        .isEqualTo("echo: x");
  }

  private static dev.goplugin4j.protocol.TlsConfig tlsConfig(AutoMtlsCertificate own, java.security.cert.X509Certificate trusted)
      throws Exception {
    java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("me", own.privateKey(), "pw".toCharArray(), new java.security.cert.Certificate[] {own.certificate()});
    javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
    kmf.init(keys, "pw".toCharArray());
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("peer", trusted);
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    return new dev.goplugin4j.protocol.TlsConfig(kmf, tmf);
  }

  @Test
  void aTlsProviderReplacesAutoMtlsAndStillRequiresATrustedClient() throws Exception {
    AutoMtlsCertificate pluginOwn = AutoMtlsCertificate.generate();
    dev.goplugin4j.protocol.TlsConfig pluginTls = tlsConfig(pluginOwn, hostCert.certificate());
    Handshake h = start(config().tlsProvider(() -> pluginTls).build());
    assertThat(h.certificate()).isEmpty();
    ManagedChannel ok = GrpcTransport.channel(h.address(),
        TlsContexts.client(tlsConfig(hostCert, pluginOwn.certificate())), group, null);
    channels.add(ok);
    assertThat(ClientCalls.blockingUnaryCall(ok, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "tls"))
        .isEqualTo("echo: tls");
    AutoMtlsCertificate stranger = AutoMtlsCertificate.generate();
    ManagedChannel refused = GrpcTransport.channel(h.address(),
        TlsContexts.client(tlsConfig(stranger, pluginOwn.certificate())), group, null);
    channels.add(refused);
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(refused, ECHO,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aFailingTlsProviderFailsTheStartWithAClearError() throws IOException {
    assertThatThrownBy(() -> start(config().tlsProvider(() -> {
          throw new IllegalStateException("vault unreachable");
        }).build()))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("TLS provider failed")
        .hasMessageContaining("vault unreachable");
    // the main server was bound beside the TLS set-up: its socket goes with the failed start
    assertThat(socketsInDir()).isEmpty();
  }

  @Test
  void picksTheHighestVersionBothSidesSupport() {
    GrpcServerPlugin p = (services, broker) -> services.addService(echoService());
    ServeConfig c = ServeConfig.builder().handshake(1, COOKIE_KEY, COOKIE_VALUE)
        .plugins(1, Map.of("echo", p)).plugins(2, Map.of("echo", p)).plugins(3, Map.of("echo", p))
        .build();
    env.put(PluginEnv.PROTOCOL_VERSIONS, "4,2,3");
    assertThat(start(c).appVersion()).isEqualTo(3);
  }

  @Test
  void printsItsLowestVersionWhenNoVersionIsCommonSoTheHostCanReportIt() {
    GrpcServerPlugin p = (services, broker) -> services.addService(echoService());
    ServeConfig c = ServeConfig.builder().handshake(COOKIE_KEY, COOKIE_VALUE)
        .plugins(2, Map.of("echo", p)).plugins(3, Map.of("echo", p)).build();
    env.put(PluginEnv.PROTOCOL_VERSIONS, "7,x");
    assertThat(start(c).appVersion()).isEqualTo(2);
  }

  @Test
  void withNoCommonVersionTheSocketIsGoneBeforeTheHandshakeIsPrintedAndThePluginWaitsForItsKill()
      throws Exception {
    env.put(PluginEnv.PROTOCOL_VERSIONS, "7");
    Handshake h = start(config().build());
    // the host kills the plugin as soon as it reads the line: nothing may be left to remove then
    assertThat(stdout.toString(StandardCharsets.US_ASCII)).startsWith("1|1|unix|" + dir);
    assertThat(socketsInDir()).isEmpty();
    assertThat(Path.of(h.address().address())).doesNotExist();
    // still running, so that the host reports the mismatch rather than an early exit
    assertThat(runtime.awaitTermination(Duration.ofMillis(300))).isFalse();
  }

  @Test
  void withNoCommonVersionTheMultiplexedListenerIsWithdrawnToo() throws Exception {
    env.put(PluginEnv.PROTOCOL_VERSIONS, "7");
    env.put(PluginEnv.MULTIPLEX_GRPC, "true");
    Handshake h = start(config().build());
    assertThat(h.mux()).contains("true");
    assertThat(socketsInDir()).isEmpty();
    assertThat(runtime.awaitTermination(Duration.ofMillis(300))).isFalse();
  }

  @Test
  void refusesToServeWithoutTheMagicCookie() throws IOException {
    env.remove(COOKIE_KEY);
    assertThatThrownBy(() -> start(config().build()))
        .isInstanceOf(NotLaunchedByHostException.class)
        .hasMessageStartingWith("This binary is a plugin.");
    assertThat(stdout.size()).isZero();
    assertThat(socketsInDir()).isEmpty();
    assertThat(runtime.stopped()).isTrue();
    runtime = null;
  }

  @Test
  void refusesToServeWithAWrongMagicCookie() {
    env.put(COOKIE_KEY, "wrong");
    assertThatThrownBy(() -> start(config().build())).isInstanceOf(NotLaunchedByHostException.class);
    assertThat(stdout.size()).isZero();
    runtime = null;
  }

  @Test
  void tooLongASocketPathFailsWithAClearErrorAndLeavesNoFile() throws IOException {
    Path deep = Files.createDirectories(dir.resolve("d".repeat(60)).resolve("e".repeat(40)));
    env.put(PluginEnv.UNIX_SOCKET_DIR, deep.toString());
    assertThatThrownBy(() -> start(config().build()))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("too long")
        .hasMessageContaining("at most 107")
        .hasMessageContaining(PluginEnv.UNIX_SOCKET_DIR + "=" + deep);
    try (Stream<Path> s = Files.list(deep)) {
      assertThat(s).isEmpty();
    }
    assertThat(stdout.size()).isZero();
    runtime = null;
  }

  @Test
  void aSocketDirectoryThatCannotBeWrittenFailsWithAClearError() {
    // /sys refuses new files even to root, which the tests may run as
    env.put(PluginEnv.UNIX_SOCKET_DIR, "/sys");
    assertThatThrownBy(() -> start(config().build()))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("permission denied")
        .hasMessageContaining("/sys")
        .hasMessageContaining("uid ");
    runtime = null;
  }

  @Test
  void aMissingSocketDirectoryFailsWithAClearError() {
    env.put(PluginEnv.UNIX_SOCKET_DIR, dir.resolve("nope").toString());
    assertThatThrownBy(() -> start(config().build()))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("does not exist");
    runtime = null;
  }

  @Test
  void aBrokenHostCertificateFailsWithAClearError() throws IOException {
    env.put(PluginEnv.CLIENT_CERT, "not a certificate");
    assertThatThrownBy(() -> start(config().build()))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining(PluginEnv.CLIENT_CERT);
    assertThat(socketsInDir()).isEmpty();
    runtime = null;
  }

  @Test
  void givesTheSocketToTheSocketGroupWithMode0660() throws IOException {
    env.put(PluginEnv.UNIX_SOCKET_GROUP, "1");
    Handshake h = start(config().build());
    Path socket = Path.of(h.address().address());
    assertThat(Files.getAttribute(socket, "unix:gid")).isEqualTo(1);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
  }

  @Test
  void aPluginThatFailsToRegisterIsNamedAndNothingIsLeft() throws IOException {
    ServeConfig c = ServeConfig.builder().handshake(1, COOKIE_KEY, COOKIE_VALUE)
        .plugin("broken", (services, broker) -> {
          throw new IllegalStateException("database unreachable");
        }).build();
    assertThatThrownBy(() -> start(c))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("plugin \"broken\"")
        .hasMessageContaining("database unreachable");
    assertThat(socketsInDir()).isEmpty();
    runtime = null;
  }

  @Test
  void aPluginMayNotRegisterTheServersOwnServices() {
    ServeConfig c = ServeConfig.builder().handshake(1, COOKIE_KEY, COOKIE_VALUE)
        .plugin("sneaky", (services, broker) -> services.addService(new HealthStatusManager().getHealthService()))
        .build();
    assertThatThrownBy(() -> start(c))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("grpc.health.v1.Health");
    runtime = null;
  }

  @Test
  void reflectionListsTheServedServicesAsGoPluginDoes() throws Exception {
    Handshake h = start(config().build());
    java.util.concurrent.CompletableFuture<java.util.List<String>> names =
        new java.util.concurrent.CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests =
        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(connect(h)).serverReflectionInfo(
            new StreamObserver<>() {
              @Override
              public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
                names.complete(r.getListServicesResponse().getServiceList().stream()
                    .map(io.grpc.reflection.v1.ServiceResponse::getName).toList());
              }

              @Override
              public void onError(Throwable t) {
                names.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
    requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    assertThat(names.get(10, TimeUnit.SECONDS))
        .contains("grpc.health.v1.Health", "plugin.GRPCController", "plugin.GRPCBroker",
            "plugin.GRPCStdio");
  }

  @Test
  void shutdownStopsServingAndRemovesTheSocket() throws Exception {
    Handshake h = start(config().build());
    GRPCControllerGrpc.newBlockingStub(connect(h)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .shutdown(Empty.getDefaultInstance());
    assertThat(runtime.awaitTermination(Duration.ofSeconds(5))).isTrue();
    assertThat(socketsInDir()).isEmpty();
  }

  @Test
  void noThreadOfTheServerOutlivesItsStop() throws Exception {
    Handshake h = start(config().build());
    HealthGrpc.newBlockingStub(connect(h)).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("plugin").build());
    runtime.stop("test");
    assertThat(runtime.awaitTermination(Duration.ofSeconds(10))).isTrue();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<String> left;
    do {
      left = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
          .filter(n -> n.startsWith("plugin-")).toList();
    } while (!left.isEmpty() && System.nanoTime() < deadline && pause());
    assertThat(left).as("server threads left").isEmpty();
    assertThat(socketsInDir()).isEmpty();
  }

  private static boolean pause() throws InterruptedException {
    Thread.sleep(20);
    return true;
  }

  @Test
  void shutdownCancelsACallStillRunningAfterTheGracePeriodWithAClearStatus() throws Exception {
    Handshake h = start(config().shutdownGracePeriod(Duration.ofMillis(300)).build());
    ManagedChannel ch = connect(h);
    CompletableFuture<String> slow = CompletableFuture.supplyAsync(() ->
        ClientCalls.blockingUnaryCall(ch, SLOW, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), "x"));
    assertThat(slowStarted.await(10, TimeUnit.SECONDS)).isTrue();
    long t0 = System.nanoTime();
    GRPCControllerGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .shutdown(Empty.getDefaultInstance());
    assertThat(runtime.awaitTermination(Duration.ofSeconds(10))).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    assertThatThrownBy(() -> slow.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> {
          Status s = ((StatusRuntimeException) e.getCause()).getStatus();
          assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(s.getDescription()).contains("shutting down").contains("300 ms grace period");
        });
    assertThat(slowSawCancel.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(socketsInDir()).isEmpty();
  }

  @Test
  void stdioStreamCarriesStdoutAndStderrInWriteOrder() throws Exception {
    StdioForwarder stdio = new StdioForwarder(org.slf4j.LoggerFactory.getLogger("test"));
    OutputStream out = stdio.stream(StdioData.Channel.STDOUT);
    OutputStream err = stdio.stream(StdioData.Channel.STDERR);
    out.write("before the host attached\n".getBytes(StandardCharsets.UTF_8));
    Server s = io.grpc.inprocess.InProcessServerBuilder.forName("stdio-test").directExecutor()
        .addService(stdio).build().start();
    ManagedChannel ch = io.grpc.inprocess.InProcessChannelBuilder.forName("stdio-test").directExecutor().build();
    channels.add(ch);
    BlockingQueue<StdioData> got = new LinkedBlockingQueue<>();
    Context.CancellableContext ctx = Context.current().withCancellation();
    try {
      ctx.run(() -> GRPCStdioGrpc.newStub(ch).streamStdio(com.google.protobuf.Empty.getDefaultInstance(),
          new StreamObserver<>() {
            @Override
            public void onNext(StdioData value) {
              got.add(value);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          }));
      err.write("oops\n".getBytes(StandardCharsets.UTF_8));
      out.write("after\n".getBytes(StandardCharsets.UTF_8));
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        StdioData d = got.poll(5, TimeUnit.SECONDS);
        assertThat(d).isNotNull();
        seen.add(d.getChannel() + ":" + d.getData().toStringUtf8());
      }
      assertThat(seen).containsExactly("STDOUT:before the host attached\n", "STDERR:oops\n", "STDOUT:after\n");
    } finally {
      ctx.cancel(null);
      stdio.close();
      s.shutdownNow();
    }
  }

  @Test
  void stdioDropsOutputBeyondItsBufferWhenNoHostReadsInsteadOfBlocking() throws Exception {
    StdioForwarder stdio = new StdioForwarder(org.slf4j.LoggerFactory.getLogger("test"));
    OutputStream out = stdio.stream(StdioData.Channel.STDOUT);
    byte[] chunk = new byte[64 * 1024];
    CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
      try {
        for (int i = 0; i < 64; i++) {
          out.write(chunk);
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
    writes.get(10, TimeUnit.SECONDS);
    ByteArrayOutputStream dumped = new ByteArrayOutputStream();
    stdio.dumpTo(dumped);
    assertThat(dumped.size()).isEqualTo(StdioForwarder.MAX_QUEUED_BYTES);
  }

  @Test
  void thePluginDialsAServiceTheHostAnnouncesThroughTheBroker() throws Exception {
    CompletableFuture<GrpcBroker> brokerRef = new CompletableFuture<>();
    ServeConfig c = ServeConfig.builder().handshake(1, COOKIE_KEY, COOKIE_VALUE)
        .plugin("echo", (services, broker) -> {
          brokerRef.complete(broker);
          services.addService(echoService());
        }).build();
    Handshake h = start(c);
    ManagedChannel ch = connect(h);
    Context.CancellableContext ctx = Context.current().withCancellation();
    NetAddress hostAddr = NetAddress.unix(dir.resolve("host1.sock").toString());
    Server hostService = GrpcTransport.server(hostAddr,
        TlsContexts.server(hostCert, AutoMtlsCertificate.parseBase64Der(h.certificate())), group, group,
        List.of(new HealthStatusManager().getHealthService()));
    try {
      StreamObserver<ConnInfo> toPlugin = ctx.call(() -> GRPCBrokerGrpc.newStub(ch).startStream(ignoring()));
      toPlugin.onNext(ConnInfo.newBuilder().setServiceId(7).setNetwork("unix").setAddress(hostAddr.address()).build());
      ManagedChannel back = brokerRef.get().dial(7);
      HealthCheckResponse r = HealthGrpc.newBlockingStub(back).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    } finally {
      ctx.cancel(null);
      hostService.shutdownNow();
    }
  }

  @Test
  void thePluginOffersAServiceThroughTheBrokerAndAnnouncesItsSocket() throws Exception {
    Handshake h = start(config().build());
    ManagedChannel ch = connect(h);
    Context.CancellableContext ctx = Context.current().withCancellation();
    BlockingQueue<ConnInfo> announced = new LinkedBlockingQueue<>();
    try {
      ctx.call(() -> GRPCBrokerGrpc.newStub(ch).startStream(new StreamObserver<ConnInfo>() {
        @Override
        public void onNext(ConnInfo value) {
          announced.add(value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      }));
      GrpcBroker broker = runtime.broker();
      int id = broker.nextId();
      try (GrpcBroker.BrokeredServer served = broker.acceptAndServe(id, List.of(new HealthStatusManager().getHealthService()))) {
        ConnInfo info = announced.poll(10, TimeUnit.SECONDS);
        assertThat(info).isNotNull();
        assertThat(info.getServiceId()).isEqualTo(id);
        assertThat(info.getNetwork()).isEqualTo("unix");
        assertThat(Path.of(info.getAddress()).getParent()).isEqualTo(dir);
        ManagedChannel brokered = GrpcTransport.channel(new NetAddress(info.getNetwork(), info.getAddress()),
            TlsContexts.client(hostCert, AutoMtlsCertificate.parseBase64Der(h.certificate())), group, null);
        channels.add(brokered);
        assertThat(HealthGrpc.newBlockingStub(brokered).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        assertThat(served.id()).isEqualTo(id);
      }
    } finally {
      ctx.cancel(null);
    }
  }

  @Test
  void printsTheMultiplexFieldOnlyWhenTheHostAskedAboutMultiplexing() {
    env.put(PluginEnv.MULTIPLEX_GRPC, "false");
    Handshake h = start(config().build());
    assertThat(h.mux()).contains("true");
    assertThat(stdout.toString(StandardCharsets.US_ASCII)).endsWith("|true\n");
  }

  @Test
  void multiplexedServingCarriesTheMainConnectionAndKnockedBrokerStreamsBothWaysOverOneSession() throws Exception {
    env.put(PluginEnv.MULTIPLEX_GRPC, "true");
    Handshake h = start(config().build());
    assertThat(h.mux()).contains("true");
    X509Certificate pluginCert = AutoMtlsCertificate.parseBase64Der(h.certificate());
    java.util.concurrent.ExecutorService knocks = java.util.concurrent.Executors.newCachedThreadPool();
    java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    YamuxSession session = YamuxSession.connectUnix(Path.of(h.address().address()), group, YamuxConfig.defaults())
        .get(10, TimeUnit.SECONDS);
    YamuxMuxer hostMux = new YamuxMuxer(session, group, knocks, null);
    Context.CancellableContext ctx = Context.current().withCancellation();
    BrokerImpl hostBroker = null;
    try {
      ManagedChannel main = hostMux.mainChannel(TlsContexts.client(hostCert, pluginCert), null);
      channels.add(main);
      assertThat(HealthGrpc.newBlockingStub(main).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("plugin").build()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

      @SuppressWarnings("unchecked")
      StreamObserver<ConnInfo>[] out = (StreamObserver<ConnInfo>[]) new StreamObserver<?>[1];
      hostBroker = new BrokerImpl(m -> out[0].onNext(m), TlsContexts.server(hostCert, pluginCert),
          TlsContexts.client(hostCert, pluginCert), null, a -> a, a -> a, group, hostMux, timer);
      BrokerImpl hb = hostBroker;
      out[0] = ctx.call(() -> GRPCBrokerGrpc.newStub(main).startStream(new StreamObserver<ConnInfo>() {
        @Override
        public void onNext(ConnInfo value) {
          hb.onMessage(value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      }));

      // the plugin offers, the host knocks and dials
      int pluginId = runtime.broker().nextId();
      runtime.broker().acceptAndServe(pluginId, List.of(new HealthStatusManager().getHealthService()));
      ManagedChannel toPlugin = hostBroker.dial(pluginId);
      assertThat(HealthGrpc.newBlockingStub(toPlugin).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

      // the host offers, the plugin knocks and dials
      hostBroker.acceptAndServe(99, List.of(new HealthStatusManager().getHealthService()));
      ManagedChannel toHost = runtime.broker().dial(99);
      assertThat(HealthGrpc.newBlockingStub(toHost).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

      // nothing is listening under an id the host did not offer
      assertThatThrownBy(() -> HealthGrpc.newBlockingStub(runtime.broker().dial(1234))
              .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()))
          .isInstanceOf(StatusRuntimeException.class)
          .satisfies(e -> assertThat(causes(e)).anyMatch(m -> m.contains("no listener for id 1234")));

      GRPCControllerGrpc.newBlockingStub(main).withDeadlineAfter(10, TimeUnit.SECONDS)
          .shutdown(Empty.getDefaultInstance());
      assertThat(runtime.awaitTermination(Duration.ofSeconds(10))).isTrue();
      assertThat(session.closeFuture().get(10, TimeUnit.SECONDS)).isNull();
      assertThat(socketsInDir()).isEmpty();
    } finally {
      ctx.cancel(null);
      if (hostBroker != null) {
        hostBroker.close();
      }
      hostMux.close();
      knocks.shutdownNow();
      timer.shutdownNow();
    }
  }

  @Test
  void listensOnTcpInThePortRangeWhenAskedTo() {
    env.put(PluginEnv.MIN_PORT, "0");
    env.put(PluginEnv.MAX_PORT, "0");
    Handshake h = start(config().listenOnTcp(true).build());
    assertThat(h.address().network()).isEqualTo("tcp");
    assertThat(h.address().address()).startsWith("127.0.0.1:");
    assertThat(ClientCalls.blockingUnaryCall(connect(h), ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "t")).isEqualTo("echo: t");
  }

  @Test
  void aPortRangeWithMinAboveMaxFailsWithGoPluginsMessage() {
    env.put(PluginEnv.MIN_PORT, "20000");
    env.put(PluginEnv.MAX_PORT, "10000");
    assertThatThrownBy(() -> start(config().listenOnTcp(true).build()))
        .isInstanceOf(PluginServeException.class)
        .hasMessageContaining("PLUGIN_MIN_PORT value of 20000 is greater than PLUGIN_MAX_PORT value of 10000");
    runtime = null;
  }

  private static List<String> causes(Throwable t) {
    List<String> messages = new ArrayList<>();
    for (Throwable c = t; c != null; c = c.getCause()) {
      messages.add(String.valueOf(c.getMessage()));
    }
    return messages;
  }

  private static StreamObserver<ConnInfo> ignoring() {
    return new StreamObserver<>() {
      @Override
      public void onNext(ConnInfo value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
