/**
 * Java host adapters ({@link dev.goplugin4j.host.GrpcPlugin}) for the services of go-plugin's
 * upstream examples and of plugincontainer's example, so the host can be tested against the
 * unmodified Go plugins: {@link dev.goplugin4j.interop.KvPlugin} (examples/grpc), {@link
 * dev.goplugin4j.interop.CounterPlugin} (examples/bidirectional, with a host callback through the
 * broker), {@link dev.goplugin4j.interop.StreamerPlugin} (examples/streaming) and {@link
 * dev.goplugin4j.interop.StorageCounterPlugin} (plugincontainer examples/container). All of them
 * use the handshake in {@link dev.goplugin4j.interop.ExampleHandshake}.
 *
 * <p>Errors a plugin's service returns pass through as {@link io.grpc.StatusRuntimeException}.
 */
package dev.goplugin4j.interop;
