// Command counterhost is the Go side of goplugin4j's brokered figure: go-plugin as the host of
// go-plugin's examples/bidirectional plugin-go-grpc. Each Counter.Put serves the host's
// AddHelper under a new broker id; the plugin dials it back and calls Sum before answering.
//
//	counterhost counter -plugin P [-mux] [-mtls=false]
package main

import (
	"flag"

	plugin "github.com/hashicorp/go-plugin"
	bidi "github.com/hashicorp/go-plugin/examples/bidirectional/shared"

	"goplugin4j.dev/benchmarks/internal/bench"
)

func main() {
	bench.Run("counterhost", map[string]func([]string) error{"counter": runCounter})
}

type adder struct{}

func (adder) Sum(a, b int64) (int64, error) { return a + b, nil }

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
	c := pf.Client(map[string]plugin.Plugin{"counter": &bidi.CounterPlugin{}})
	defer c.Kill()
	counter, err := bench.Dispense[bidi.Counter](c, "counter")
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
