// otel-counter: go-plugin's bidirectional Counter (examples/bidirectional's proto and handshake)
// instrumented with OpenTelemetry's otelgrpc, for goplugin4j's tracing tests. Its gRPC server
// continues the W3C trace context the host sends; Put dials the host's AddHelper through the
// broker with an otelgrpc client handler, so the host's callback joins the same trace. Finished
// spans are printed to stderr, one line each:
//
//	goplugin4j-span name=<name> kind=<kind> trace=<trace id> span=<span id> parent=<parent span id>
//
// Values live in memory (no kv_ files).
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/bidirectional/proto"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
)

// spanPrinter exports each finished span as one stderr line.
type spanPrinter struct{ mu sync.Mutex }

func (p *spanPrinter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range spans {
		fmt.Fprintf(os.Stderr, "goplugin4j-span name=%s kind=%s trace=%s span=%s parent=%s\n",
			s.Name(), s.SpanKind(), s.SpanContext().TraceID(), s.SpanContext().SpanID(),
			s.Parent().SpanID())
	}
	return nil
}

func (p *spanPrinter) Shutdown(context.Context) error { return nil }

var (
	tracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(&spanPrinter{}))
	propagators    = propagation.TraceContext{}
)

type counterServer struct {
	proto.UnimplementedCounterServer
	broker *plugin.GRPCBroker
	mu     sync.Mutex
	values map[string]int64
}

func (s *counterServer) Put(ctx context.Context, req *proto.PutRequest) (*proto.Empty, error) {
	conn, err := s.broker.DialWithOptions(req.AddServer, grpc.WithStatsHandler(otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(tracerProvider), otelgrpc.WithPropagators(propagators))))
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	s.mu.Lock()
	old := s.values[req.Key]
	s.mu.Unlock()
	// ctx carries the server span: the callback is its child
	resp, err := proto.NewAddHelperClient(conn).Sum(ctx, &proto.SumRequest{A: old, B: req.Value})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.values[req.Key] = resp.R
	s.mu.Unlock()
	return &proto.Empty{}, nil
}

func (s *counterServer) Get(_ context.Context, req *proto.GetRequest) (*proto.GetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &proto.GetResponse{Value: s.values[req.Key]}, nil
}

type counterPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (counterPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterCounterServer(s, &counterServer{broker: broker, values: map[string]int64{}})
	return nil
}

func (counterPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("otel-counter is a plugin only")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "BASIC_PLUGIN",
			MagicCookieValue: "hello",
		},
		Plugins: map[string]plugin.Plugin{"counter": counterPlugin{}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(
				otelgrpc.WithTracerProvider(tracerProvider), otelgrpc.WithPropagators(propagators))))...)
		},
	})
}
