// offer-brokered-kv serves the examples/grpc KV service from memory and, on
// Get("broker-id"), serves a second KV service (same store) on a new brokered
// connection and answers its broker id as decimal text. A host then dials that
// id through its broker, with or without the multiplexed broker, which
// exercises the host's own brokered client channels.
//
// The broker id is accepted (GRPCBroker.Accept) before Get answers, so the
// host's dial cannot race the plugin's listener: under the multiplexed broker
// go-plugin refuses a knock for an id nobody listens on yet.
package main

import (
	"context"
	"strconv"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/proto"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"google.golang.org/grpc"

	"goplugin4j.dev/testkit/badplugins/internal/memkv"
)

// serverOpts are the options go-plugin gives the main server (its TLS
// credentials, the same as the broker's); set before any RPC is served.
var serverOpts []grpc.ServerOption

type offeringPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	store *memkv.Store
}

func (p *offeringPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterKVServer(s, &offeringServer{GRPCServer: shared.GRPCServer{Impl: p.store}, broker: broker, store: p.store})
	return nil
}

func (p *offeringPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	panic("offer-brokered-kv is a plugin, not a host")
}

type offeringServer struct {
	shared.GRPCServer
	broker *plugin.GRPCBroker
	store  *memkv.Store
}

func (s *offeringServer) Get(ctx context.Context, req *proto.GetRequest) (*proto.GetResponse, error) {
	if req.Key != "broker-id" {
		return s.GRPCServer.Get(ctx, req)
	}
	id := s.broker.NextId()
	ln, err := s.broker.Accept(id)
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(serverOpts...)
	proto.RegisterKVServer(srv, &shared.GRPCServer{Impl: s.store})
	go func() { _ = srv.Serve(ln) }()
	return &proto.GetResponse{Value: []byte(strconv.FormatUint(uint64(id), 10))}, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins: map[string]plugin.Plugin{
			"kv": &offeringPlugin{store: memkv.New()},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			serverOpts = opts
			return plugin.DefaultGRPCServer(opts)
		},
	})
}
