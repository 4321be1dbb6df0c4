// Command containerhost is plugincontainer's examples/container host with flags for the image,
// tag, runtime and the multiplexed broker: it runs the counter plugin in a container and serves
// it Storage (storage_<key>.txt files in the working directory) through the broker.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-secure-stdlib/plugincontainer"
	"github.com/hashicorp/go-secure-stdlib/plugincontainer/examples/container/shared"
)

func main() {
	image := flag.String("image", "plugin-counter", "image name, without tag")
	tag := flag.String("tag", "", "image tag")
	runtime := flag.String("runtime", "", "OCI runtime (runc, runsc); empty for the engine default")
	mux := flag.Bool("mux", false, "multiplexed gRPC broker")
	debug := flag.Bool("debug", false, "keep the container's logs in errors")
	flag.Parse()
	if err := run(*image, *tag, *runtime, *mux, *debug, flag.Args()); err != nil {
		log.Fatal(err)
	}
}

func run(image, tag, runtime string, mux, debug bool, args []string) error {
	cfg := &plugincontainer.Config{
		Image:          image,
		Tag:            tag,
		Runtime:        runtime,
		GroupAdd:       os.Getgid(),
		DisableNetwork: true,
		Debug:          debug,
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     shared.Handshake,
		Plugins:             shared.PluginMap,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            true,
		GRPCBrokerMultiplex: mux,
		UnixSocketConfig: &plugin.UnixSocketConfig{
			Group: strconv.Itoa(cfg.GroupAdd),
		},
		RunnerFunc: cfg.NewContainerRunner,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "containerhost", Level: hclog.Trace, Output: os.Stderr,
		}),
	})
	defer client.Kill()

	rpcClient, err := client.Client()
	if err != nil {
		return fmt.Errorf("error starting client: %w", err)
	}
	raw, err := rpcClient.Dispense("counter")
	if err != nil {
		return err
	}
	counter := raw.(shared.Counter)
	if len(args) < 2 {
		return fmt.Errorf("usage: containerhost increment KEY N | get KEY")
	}
	switch args[0] {
	case "increment":
		if len(args) < 3 {
			return fmt.Errorf("increment needs KEY N")
		}
		i, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		v, err := counter.Increment(args[1], int64(i), &storage{})
		if err != nil {
			return err
		}
		fmt.Printf("Incremented by %d to %d\n", i, v)
	case "get":
		v, err := counter.Increment(args[1], 0, &storage{})
		if err != nil {
			return err
		}
		fmt.Printf("Retrieved value as %d\n", v)
	default:
		return fmt.Errorf("unsupported command, use 'increment' or 'get'")
	}
	return nil
}

type entry struct {
	Value int64
}

type storage struct{}

func (*storage) Get(key string) (int64, error) {
	b, err := os.ReadFile("storage_" + key + ".txt")
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	var value entry
	if err := json.Unmarshal(b, &value); err != nil {
		return 0, err
	}
	return value.Value, nil
}

func (*storage) Put(key string, value int64) error {
	b, err := json.Marshal(&entry{value})
	if err != nil {
		return err
	}
	return os.WriteFile("storage_"+key+".txt", b, 0o644)
}
