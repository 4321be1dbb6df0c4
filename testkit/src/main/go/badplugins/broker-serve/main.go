// broker-serve is not a bad plugin: it exercises the host's dial side of the
// gRPC broker. It serves the examples/grpc KV service under the plugin name
// "kv". Get("serve") makes the plugin take a fresh broker id, call
// broker.AcceptAndServe(id, ...) with a second KV server, and answer the id in
// decimal; the host then dials that id with its own broker. The brokered KV
// server answers Get(k) with "brokered:<k>" and refuses Put. Works with and
// without the multiplexed broker (PLUGIN_MULTIPLEX_GRPC).
package main

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/proto"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// brokeredKV is the server the plugin offers through the broker.
type brokeredKV struct {
	proto.UnimplementedKVServer
}

func (brokeredKV) Get(_ context.Context, req *proto.GetRequest) (*proto.GetResponse, error) {
	return &proto.GetResponse{Value: []byte("brokered:" + req.Key)}, nil
}

func (brokeredKV) Put(context.Context, *proto.PutRequest) (*proto.Empty, error) {
	return nil, status.Error(codes.Unimplemented, "the brokered KV server is read-only")
}

// mainKV is the plugin's own KV service; Get("serve") starts a brokered server.
type mainKV struct {
	proto.UnimplementedKVServer
	broker *plugin.GRPCBroker
}

func (m *mainKV) Get(_ context.Context, req *proto.GetRequest) (*proto.GetResponse, error) {
	if req.Key != "serve" {
		return nil, status.Errorf(codes.NotFound, "unknown key %q: only \"serve\" is known", req.Key)
	}
	id := m.broker.NextId()
	ready := make(chan struct{})
	go m.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		proto.RegisterKVServer(s, brokeredKV{})
		// AcceptAndServe calls this once its listener for id is registered:
		// only now may the host dial (go-plugin's server muxer drops a
		// knocked stream that finds no listener).
		close(ready)
		return s
	})
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		return nil, status.Errorf(codes.Internal, "brokered server for id %d did not start within 5 s", id)
	}
	return &proto.GetResponse{Value: []byte(strconv.FormatUint(uint64(id), 10))}, nil
}

func (m *mainKV) Put(context.Context, *proto.PutRequest) (*proto.Empty, error) {
	return nil, status.Error(codes.Unimplemented, "broker-serve has no storage; Get(\"serve\") is its one call")
}

// kvPlugin registers mainKV with the broker of the plugin's connection.
type kvPlugin struct {
	plugin.Plugin
}

func (kvPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterKVServer(s, &mainKV{broker: broker})
	return nil
}

func (kvPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, errors.New("broker-serve is a plugin only")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         map[string]plugin.Plugin{"kv": kvPlugin{}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
