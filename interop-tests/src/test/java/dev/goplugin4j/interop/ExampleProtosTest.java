package dev.goplugin4j.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goplugin4j.interop.proto.kv.KVGrpc;
import dev.goplugin4j.interop.proto.streaming.StreamerServiceGrpc;
import io.grpc.MethodDescriptor.MethodType;
import org.junit.jupiter.api.Test;

class ExampleProtosTest {
  @Test
  void serviceAndMethodNamesMatchUpstream() {
    assertThat(KVGrpc.getGetMethod().getFullMethodName()).isEqualTo("proto.KV/Get");
    assertThat(KVGrpc.getPutMethod().getFullMethodName()).isEqualTo("proto.KV/Put");
    assertThat(dev.goplugin4j.interop.proto.counter.CounterGrpc.getPutMethod().getFullMethodName())
        .isEqualTo("proto.Counter/Put");
    assertThat(dev.goplugin4j.interop.proto.counter.AddHelperGrpc.getSumMethod().getFullMethodName())
        .isEqualTo("proto.AddHelper/Sum");
    assertThat(dev.goplugin4j.interop.proto.container.CounterGrpc.getIncrementMethod().getFullMethodName())
        .isEqualTo("proto.Counter/Increment");
    assertThat(dev.goplugin4j.interop.proto.container.StorageGrpc.getGetMethod().getFullMethodName())
        .isEqualTo("proto.Storage/Get");
    assertThat(StreamerServiceGrpc.getReadMethod().getFullMethodName()).isEqualTo("proto.StreamerService/Read");
  }

  @Test
  void streamingMethodsKeepUpstreamShapes() {
    assertThat(StreamerServiceGrpc.getConfigureMethod().getType()).isEqualTo(MethodType.UNARY);
    assertThat(StreamerServiceGrpc.getReadMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);
    assertThat(StreamerServiceGrpc.getWriteMethod().getType()).isEqualTo(MethodType.CLIENT_STREAMING);
  }

  @Test
  void clashingFullNamesFromSeparateProtocRunsLoadSideBySideInOneJvm() {
    var kvGet = dev.goplugin4j.interop.proto.kv.GetRequest.getDescriptor();
    var counterGet = dev.goplugin4j.interop.proto.counter.GetRequest.getDescriptor();
    var storageGet = dev.goplugin4j.interop.proto.container.GetRequest.getDescriptor();

    assertThat(kvGet.getFullName()).isEqualTo("proto.GetRequest");
    assertThat(counterGet.getFullName()).isEqualTo("proto.GetRequest");
    assertThat(storageGet.getFullName()).isEqualTo("proto.GetRequest");
    assertThat(kvGet.getFile()).isNotSameAs(counterGet.getFile()).isNotSameAs(storageGet.getFile());
    assertThat(dev.goplugin4j.interop.proto.counter.CounterGrpc.getServiceDescriptor().getName())
        .isEqualTo(dev.goplugin4j.interop.proto.container.CounterGrpc.getServiceDescriptor().getName());
  }

  @Test
  void fieldNumbersMatchUpstream() {
    var put = dev.goplugin4j.interop.proto.counter.PutRequest.getDescriptor();
    assertThat(put.findFieldByName("add_server").getNumber()).isEqualTo(1);
    assertThat(put.findFieldByName("key").getNumber()).isEqualTo(2);
    assertThat(put.findFieldByName("value").getNumber()).isEqualTo(3);
    var inc = dev.goplugin4j.interop.proto.container.IncrementRequest.getDescriptor();
    assertThat(inc.findFieldByName("storage_server").getNumber()).isEqualTo(3);
    var configure = dev.goplugin4j.interop.proto.streaming.Configure.Request.getDescriptor();
    assertThat(configure.getFullName()).isEqualTo("proto.Configure.Request");
    assertThat(configure.findFieldByName("chunk_size").getNumber()).isEqualTo(2);
  }
}
