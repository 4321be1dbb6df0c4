// Command kvhost is go-plugin's examples/grpc host with flags for AutoMTLS, the multiplexed
// broker and the protocol version. The plugin command comes from KV_PLUGIN (run with sh -c).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
)

func main() {
	mtls := flag.Bool("mtls", false, "AutoMTLS")
	mux := flag.Bool("mux", false, "multiplexed gRPC broker")
	version := flag.Int("version", 1, "app protocol version the host offers")
	flag.Parse()
	if err := run(*mtls, *mux, *version, flag.Args()); err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(1)
	}
}

func run(mtls, mux bool, version int, args []string) error {
	handshake := shared.Handshake
	handshake.ProtocolVersion = 0
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     handshake,
		VersionedPlugins:    map[int]plugin.PluginSet{version: shared.PluginMap},
		Cmd:                 exec.Command("sh", "-c", os.Getenv("KV_PLUGIN")),
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            mtls,
		GRPCBrokerMultiplex: mux,
		SyncStdout:          os.Stderr,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "kvhost", Level: hclog.Trace, Output: os.Stderr,
		}),
	})
	defer client.Kill()

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("kv_grpc")
	if err != nil {
		return err
	}
	kv := raw.(shared.KV)
	if len(args) < 2 {
		return fmt.Errorf("usage: kvhost put KEY VALUE | get KEY")
	}
	switch args[0] {
	case "get":
		result, err := kv.Get(args[1])
		if err != nil {
			return err
		}
		fmt.Println(string(result))
	case "put":
		if len(args) < 3 {
			return fmt.Errorf("put needs KEY VALUE")
		}
		return kv.Put(args[1], []byte(args[2]))
	default:
		return fmt.Errorf("please only use 'get' or 'put', given: %q", args[0])
	}
	return nil
}
