// Command counterhost is go-plugin's examples/bidirectional host with flags for AutoMTLS and the
// multiplexed broker. The plugin command comes from COUNTER_PLUGIN (run with sh -c).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/bidirectional/shared"
)

type addHelper struct{}

func (*addHelper) Sum(a, b int64) (int64, error) {
	return a + b, nil
}

func main() {
	mtls := flag.Bool("mtls", false, "AutoMTLS")
	mux := flag.Bool("mux", false, "multiplexed gRPC broker")
	flag.Parse()
	if err := run(*mtls, *mux, flag.Args()); err != nil {
		fmt.Println("Error:", err.Error())
		os.Exit(1)
	}
}

func run(mtls, mux bool, args []string) error {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     shared.Handshake,
		Plugins:             shared.PluginMap,
		Cmd:                 exec.Command("sh", "-c", os.Getenv("COUNTER_PLUGIN")),
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            mtls,
		GRPCBrokerMultiplex: mux,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "counterhost", Level: hclog.Trace, Output: os.Stderr,
		}),
	})
	defer client.Kill()

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("counter")
	if err != nil {
		return err
	}
	counter := raw.(shared.Counter)
	if len(args) < 2 {
		return fmt.Errorf("usage: counterhost put KEY N | get KEY")
	}
	switch args[0] {
	case "get":
		result, err := counter.Get(args[1])
		if err != nil {
			return err
		}
		fmt.Println(result)
	case "put":
		if len(args) < 3 {
			return fmt.Errorf("put needs KEY N")
		}
		i, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		return counter.Put(args[1], int64(i), &addHelper{})
	default:
		return fmt.Errorf("please only use 'get' or 'put'")
	}
	return nil
}
