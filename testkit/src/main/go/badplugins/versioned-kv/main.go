// versioned-kv serves the examples/grpc KV service under several app protocol
// versions, with go-plugin's ServeConfig.VersionedPlugins, for version
// negotiation tests. The versions come from VERSIONED_KV_VERSIONS in its
// environment (comma-separated, default "5,6"); go-plugin picks the highest one
// the host also offers in PLUGIN_PROTOCOL_VERSIONS, or, with none in common,
// prints its lowest one and lets the host refuse it.
//
// Get("version") answers the version whose plugin set serves the call, so a
// host can tell which set it reached; other keys are kept in memory.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"

	"goplugin4j.dev/testkit/badplugins/internal/memkv"
)

type versionedKV struct {
	version int
	store   *memkv.Store
}

func (v *versionedKV) Put(key string, value []byte) error {
	return v.store.Put(key, value)
}

func (v *versionedKV) Get(key string) ([]byte, error) {
	if key == "version" {
		return []byte(strconv.Itoa(v.version)), nil
	}
	return v.store.Get(key)
}

func main() {
	list := os.Getenv("VERSIONED_KV_VERSIONS")
	if list == "" {
		list = "5,6"
	}
	sets := map[int]plugin.PluginSet{}
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "versioned-kv: bad version %q in VERSIONED_KV_VERSIONS\n", s)
			os.Exit(2)
		}
		sets[n] = plugin.PluginSet{
			"kv": &shared.KVGRPCPlugin{Impl: &versionedKV{version: n, store: memkv.New()}},
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		// the magic cookie of go-plugin's examples; its ProtocolVersion is not used
		// when VersionedPlugins is set
		HandshakeConfig:  plugin.HandshakeConfig{MagicCookieKey: shared.Handshake.MagicCookieKey, MagicCookieValue: shared.Handshake.MagicCookieValue},
		VersionedPlugins: sets,
		GRPCServer:       plugin.DefaultGRPCServer,
	})
}
