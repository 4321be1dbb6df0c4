// ignore-shutdown serves the examples/grpc KV service from memory, but when
// the host asks it to shut down (plugin.GRPCController/Shutdown) it does not
// exit: go-plugin stops its gRPC server and plugin.Serve returns, and this
// plugin then keeps running. A host must kill it after its grace period.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"

	"goplugin4j.dev/testkit/badplugins/internal/memkv"
)

func main() {
	// go-plugin points os.Stderr at its stdio forwarding while Serve runs; that is gone after.
	stderr := os.Stderr
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins: map[string]plugin.Plugin{
			"kv": &shared.KVGRPCPlugin{Impl: memkv.New()},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
	fmt.Fprintln(stderr, "ignore-shutdown: told to shut down, staying alive until killed")
	// Exit on our own eventually so a host that fails to kill us leaks only for a while.
	time.Sleep(5 * time.Minute)
}
