// Command counterhost is the Go side of goplugin4j's brokered figure: go-plugin as the host of
// go-plugin's examples/bidirectional plugin-go-grpc. Each Counter.Put serves the host's
// AddHelper under a new broker id; the plugin dials it back and calls Sum before answering.
//
//	counterhost counter -plugin P [-mux] [-mtls=false]
//
// The host side is the upstream example's GRPCClient.Put with two fixes, both races of its
// `go broker.AcceptAndServe(...)` followed at once by the Put call:
//   - upstream assigns the brokered *grpc.Server in that goroutine and reads it after Put without
//     synchronisation: a nil dereference, seen under the multiplexed broker in long runs;
//   - under the multiplexed broker the plugin may knock before the goroutine has registered the
//     id, and the call fails with "no listener for id N" (go-plugin documents that brokered
//     streams must be set up sequentially), seen on a loaded machine.
//
// Here Put waits until the server is created, which happens right after the id is registered,
// as the Java host's synchronous acceptAndServe does.
package main

import (
	"context"
	"errors"
	"flag"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/bidirectional/proto"
	bidi "github.com/hashicorp/go-plugin/examples/bidirectional/shared"
	"google.golang.org/grpc"

	"goplugin4j.dev/benchmarks/internal/bench"
)

func main() {
	bench.Run("counterhost", map[string]func([]string) error{"counter": runCounter})
}

type adder struct{}

func (adder) Sum(a, b int64) (int64, error) { return a + b, nil }

// counterPlugin is the host half of the example's CounterPlugin.
type counterPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (counterPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the host does not serve Counter")
}

func (counterPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &counterClient{broker: broker, client: proto.NewCounterClient(c)}, nil
}

type counterClient struct {
	broker *plugin.GRPCBroker
	client proto.CounterClient
}

// Put does what the upstream example host does per Put: serve AddHelper under a new broker id,
// call Put with that id, stop the brokered server.
func (m *counterClient) Put(key string, value int64, a bidi.AddHelper) error {
	servers := make(chan *grpc.Server, 1)
	id := m.broker.NextId()
	go m.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		proto.RegisterAddHelperServer(s, &bidi.GRPCAddHelperServer{Impl: a})
		servers <- s
		return s
	})
	var s *grpc.Server
	select {
	case s = <-servers:
	case <-time.After(5 * time.Second):
		return errors.New("the brokered AddHelper server was not created within 5 s")
	}
	_, err := m.client.Put(context.Background(), &proto.PutRequest{AddServer: id, Key: key, Value: value})
	s.Stop()
	return err
}

func (m *counterClient) Get(key string) (int64, error) {
	resp, err := m.client.Get(context.Background(), &proto.GetRequest{Key: key})
	if err != nil {
		return 0, err
	}
	return resp.Value, nil
}

func runCounter(args []string) error {
	fs := flag.NewFlagSet("counter", flag.ExitOnError)
	var pf bench.PluginFlags
	var t bench.Timing
	pf.Register(fs)
	t.Register(fs)
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	if pf.Figure == "" {
		pf.Figure = "counter_put_brokered_" + bench.Suffix(pf.Mux, "mux", "nomux") + bench.Suffix(pf.MTLS, "_mtls", "_plain")
	}
	c := pf.Client(map[string]plugin.Plugin{"counter": counterPlugin{}})
	defer c.Kill()
	counter, err := bench.Dispense[*counterClient](c, "counter")
	if err != nil {
		return err
	}
	samples, elapsed, err := bench.Measure(t, func() error {
		return counter.Put("bench", 1, adder{})
	})
	if err != nil {
		return err
	}
	if _, err := counter.Get("bench"); err != nil {
		return err
	}
	bench.Emit(bench.Latency(pf.Figure, samples, elapsed, map[string]any{"mtls": pf.MTLS, "mux": pf.Mux}))
	return nil
}
