// huge-stderr writes one 1 MiB line to stderr (16-byte pattern
// "0123456789abcdef" repeated 65536 times, then a newline) and then serves
// the examples/grpc KV service from memory. A host must keep working and
// deliver the whole line, split if it must, nothing dropped.
package main

import (
	"bytes"
	"os"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"

	"goplugin4j.dev/testkit/badplugins/internal/memkv"
)

func main() {
	line := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	if _, err := os.Stderr.Write(append(line, '\n')); err != nil {
		os.Exit(4)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins: map[string]plugin.Plugin{
			"kv": &shared.KVGRPCPlugin{Impl: memkv.New()},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
