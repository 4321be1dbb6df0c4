// stdout-chatty serves the examples/grpc KV service from memory and, on every
// Put, prints "chatty stdout: put <key>" to stdout and "chatty stderr: put
// <key>" to stderr. After the handshake go-plugin forwards both to the host
// over plugin.GRPCStdio.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"

	"goplugin4j.dev/testkit/badplugins/internal/memkv"
)

func main() {
	store := memkv.New()
	store.OnPut = func(key string, _ []byte) {
		// os.Stdout and os.Stderr are go-plugin's pipes once Serve runs.
		fmt.Fprintf(os.Stdout, "chatty stdout: put %s\n", key)
		fmt.Fprintf(os.Stderr, "chatty stderr: put %s\n", key)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins: map[string]plugin.Plugin{
			"kv": &shared.KVGRPCPlugin{Impl: store},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
