// Command kvhost is the plugin project's Go host test: upstream plugincontainer (v0.4.2) on
// go-plugin v1.8.0 starts the plugin's image, with go-plugin's own examples/grpc KV interface,
// puts hello=world and prints what get returns. Exit status 0 when that is "world".
//
//	kvhost -image kv-plugin -tag 1.0.0 -sha256 sha256:... -runtime runsc
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"github.com/hashicorp/go-secure-stdlib/plugincontainer"
)

func main() {
	image := flag.String("image", "kv-plugin", "image name, without tag")
	tag := flag.String("tag", "", "image tag")
	sha256 := flag.String("sha256", "", "the image ID to pin (sha256:...), as goplugin4j image prints it")
	runtime := flag.String("runtime", "", "OCI runtime (runc, runsc); empty for the engine default")
	flag.Parse()
	if err := run(*image, *tag, *sha256, *runtime); err != nil {
		log.Fatal(err)
	}
}

func run(image, tag, sha256, runtime string) error {
	// the image's user is not root: the socket directory is made writable for this process's
	// group, and the container gets that group too (plugincontainer adds it unless it is 0, the
	// image user's own group)
	gid := os.Getgid()
	cfg := &plugincontainer.Config{
		Image:          image,
		Tag:            tag,
		SHA256:         sha256,
		Runtime:        runtime,
		GroupAdd:       gid,
		DisableNetwork: true,
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          map[string]plugin.Plugin{"kv": &shared.KVGRPCPlugin{}},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		UnixSocketConfig: &plugin.UnixSocketConfig{Group: strconv.Itoa(gid)},
		RunnerFunc:       cfg.NewContainerRunner,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "kvhost", Level: hclog.Info, Output: os.Stderr}),
	})
	defer client.Kill()
	rpcClient, err := client.Client()
	if err != nil {
		return fmt.Errorf("starting the plugin: %w", err)
	}
	raw, err := rpcClient.Dispense("kv")
	if err != nil {
		return err
	}
	kv := raw.(shared.KV)
	if err := kv.Put("hello", []byte("world")); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	value, err := kv.Get("hello")
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	fmt.Println(string(value))
	if string(value) != "world" {
		return fmt.Errorf("get returned %q, want \"world\"", value)
	}
	return nil
}
