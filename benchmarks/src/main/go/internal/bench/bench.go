// Package bench holds what goplugin4j's Go benchmark drivers share: timing loops, statistics,
// the go-plugin host configuration, and the one-JSON-object-per-line output (same keys as the
// Java side, so scripts/bench.sh can pair them).
//
// Each example's protos register the same file name ("proto/kv.proto"), so every example gets
// its own driver binary; this package imports none of them.
package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// Handshake is the handshake of go-plugin's examples (and plugincontainer's counter).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "BASIC_PLUGIN",
	MagicCookieValue: "hello",
}

// Run runs the named subcommand and exits: 0 on success, 1 with the error on stderr.
func Run(name string, cmds map[string]func([]string) error) {
	if len(os.Args) < 2 || cmds[os.Args[1]] == nil {
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: %s %v [flags]; -h after a subcommand lists its flags\n", name, names)
		os.Exit(2)
	}
	if err := cmds[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", name, os.Args[1], err)
		os.Exit(1)
	}
}

// Timing holds the flags of the steady-state round-trip figures.
type Timing struct {
	Warmup   time.Duration
	Duration time.Duration
}

// Register adds -warmup and -duration.
func (t *Timing) Register(fs *flag.FlagSet) {
	fs.DurationVar(&t.Warmup, "warmup", 5*time.Second, "warm-up time, not measured")
	fs.DurationVar(&t.Duration, "duration", 10*time.Second, "measured time")
}

// Measure runs op for the warm-up time, then for the measured time, timing every call; it
// returns the per-call samples in nanoseconds and the measured wall time.
func Measure(t Timing, op func() error) ([]int64, time.Duration, error) {
	end := time.Now().Add(t.Warmup)
	for time.Now().Before(end) {
		if err := op(); err != nil {
			return nil, 0, err
		}
	}
	samples := make([]int64, 0, 1<<16)
	start := time.Now()
	end = start.Add(t.Duration)
	for {
		s := time.Now()
		if err := op(); err != nil {
			return nil, 0, err
		}
		e := time.Now()
		samples = append(samples, e.Sub(s).Nanoseconds())
		if !e.Before(end) {
			return samples, e.Sub(start), nil
		}
	}
}

// Runs times op warmups+runs times and returns the last runs durations in nanoseconds.
func Runs(warmups, runs int, op func() (time.Duration, error)) ([]int64, error) {
	samples := make([]int64, 0, runs)
	for i := 0; i < warmups+runs; i++ {
		d, err := op()
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		if i >= warmups {
			samples = append(samples, d.Nanoseconds())
		}
	}
	return samples, nil
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return float64(sorted[i])
}

func mean(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	return sum / float64(len(xs))
}

func sorted(xs []int64) []int64 {
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// Median of samples, the mean of the middle two for an even count (as the Java side's
// Results.median); 0 for none.
func Median(samples []int64) float64 {
	return medianOfSorted(sorted(samples))
}

func medianOfSorted(s []int64) float64 {
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}

// Round keeps three decimals.
func Round(x float64) float64 {
	return float64(int64(x*1000+0.5)) / 1000
}

// Latency is a steady-state round-trip figure, in microseconds and operations per second.
func Latency(figure string, samples []int64, elapsed time.Duration, extra map[string]any) map[string]any {
	s := sorted(samples)
	m := map[string]any{
		"figure":    figure,
		"impl":      "go",
		"p50_us":    Round(percentile(s, 50) / 1e3),
		"p99_us":    Round(percentile(s, 99) / 1e3),
		"mean_us":   Round(mean(samples) / 1e3),
		"ops_per_s": Round(float64(len(samples)) / elapsed.Seconds()),
		"samples":   len(samples),
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// PerRun is a figure of separately timed runs (cold starts, transfers), in milliseconds. Its
// p50_ms is the Median, as the Java side's (for an even count of runs the nearest rank took the
// lower of the middle two until 2026-12-04, which favoured this side).
func PerRun(figure string, samples []int64, extra map[string]any) map[string]any {
	s := sorted(samples)
	m := map[string]any{
		"figure":  figure,
		"impl":    "go",
		"p50_ms":  Round(medianOfSorted(s) / 1e6),
		"mean_ms": Round(mean(samples) / 1e6),
		"min_ms":  Round(float64(s[0]) / 1e6),
		"max_ms":  Round(float64(s[len(s)-1]) / 1e6),
		"runs":    len(samples),
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Emit prints m as one JSON line, "figure" and "impl" first, the other keys sorted.
func Emit(m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "figure" && k != "impl" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	keys = append([]string{"figure", "impl"}, keys...)
	var out bytes.Buffer
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(m[k])
		if err != nil {
			panic(err)
		}
		out.Write(kb)
		out.WriteByte(':')
		out.Write(vb)
	}
	out.WriteByte('}')
	fmt.Println(out.String())
}

// HostLogger logs what the plugin writes to stderr at Warn and above, as the Java side does with
// its benchmark logback configuration: plugin chatter is parsed but not printed.
func HostLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "gobench", Level: hclog.Warn, Output: os.Stderr})
}

// PluginFlags are the flags of the drivers that host a process plugin.
type PluginFlags struct {
	Plugin  string
	Workdir string
	MTLS    bool
	Mux     bool
	Figure  string
}

// Register adds -plugin, -workdir, -mtls, -mux and -figure.
func (p *PluginFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&p.Plugin, "plugin", "", "plugin executable (required)")
	fs.StringVar(&p.Workdir, "workdir", ".", "the plugin's working directory (the example plugins keep kv_<key> files there)")
	fs.BoolVar(&p.MTLS, "mtls", true, "AutoMTLS on or off")
	fs.BoolVar(&p.Mux, "mux", false, "multiplexed gRPC broker (PLUGIN_MULTIPLEX_GRPC)")
	fs.StringVar(&p.Figure, "figure", "", "figure name printed in the JSON line (default per subcommand)")
}

// Check validates the flags and makes paths absolute.
func (p *PluginFlags) Check() error {
	if p.Plugin == "" {
		return errors.New("-plugin is required")
	}
	abs, err := filepath.Abs(p.Plugin)
	if err != nil {
		return err
	}
	p.Plugin = abs
	return nil
}

// Client makes (does not start) a go-plugin client of the plugin, as an application would.
func (p *PluginFlags) Client(plugins map[string]plugin.Plugin) *plugin.Client {
	cmd := exec.Command(p.Plugin)
	cmd.Dir = p.Workdir
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     Handshake,
		Plugins:             plugins,
		Cmd:                 cmd,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:            p.MTLS,
		GRPCBrokerMultiplex: p.Mux,
		Logger:              HostLogger(),
	})
}

// Dispense starts the client if needed and returns the named plugin as a T.
func Dispense[T any](c *plugin.Client, name string) (T, error) {
	var zero T
	rpc, err := c.Client()
	if err != nil {
		return zero, err
	}
	raw, err := rpc.Dispense(name)
	if err != nil {
		return zero, err
	}
	t, ok := raw.(T)
	if !ok {
		return zero, fmt.Errorf("plugin %q dispensed a %T", name, raw)
	}
	return t, nil
}

// Suffix picks a figure-name suffix.
func Suffix(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}
