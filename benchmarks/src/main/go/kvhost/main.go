// Command kvhost is the Go side of goplugin4j's KV figures: go-plugin as the host of go-plugin's
// examples/grpc plugin-go-grpc (the same binary the Java benchmarks start).
//
//	kvhost kv -plugin P [-mtls=false]      steady-state KV Get round trips over one plugin
//	kvhost coldstart -plugin P [-runs N]   new client -> process start -> handshake -> first Get
//	kvhost coldstart-fresh -plugin P [-runs N]   the same, each run the first in a new host process
//	kvhost fresh-wall -plugin P [-runs N]        wall time from exec of a new host process to its first answered call
//	kvhost hostcost -plugin P                    threads, heap, RSS, fds per live plugin at 1, 16, 64
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	kvshared "github.com/hashicorp/go-plugin/examples/grpc/shared"

	"goplugin4j.dev/benchmarks/internal/bench"
)

func main() {
	bench.Run("kvhost", map[string]func([]string) error{
		"kv": runKv, "coldstart": runColdStart, "coldstart-fresh": runColdStartFresh,
		"fresh-wall": runFreshWall, "hostcost": runHostCost,
	})
}

func kvPlugins() map[string]plugin.Plugin {
	return map[string]plugin.Plugin{"kv": &kvshared.KVGRPCPlugin{}}
}

func runKv(args []string) error {
	fs := flag.NewFlagSet("kv", flag.ExitOnError)
	var pf bench.PluginFlags
	var t bench.Timing
	pf.Register(fs)
	t.Register(fs)
	valueSize := fs.Int("value-size", 64, "bytes stored under the key before the run")
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	if pf.Figure == "" {
		pf.Figure = "kv_get_roundtrip_" + bench.Suffix(pf.MTLS, "mtls", "plain")
	}
	c := pf.Client(kvPlugins())
	defer c.Kill()
	kv, err := bench.Dispense[kvshared.KV](c, "kv")
	if err != nil {
		return err
	}
	if err := kv.Put("bench", make([]byte, *valueSize)); err != nil {
		return err
	}
	samples, elapsed, err := bench.Measure(t, func() error {
		_, err := kv.Get("bench")
		return err
	})
	if err != nil {
		return err
	}
	bench.Emit(bench.Latency(pf.Figure, samples, elapsed, map[string]any{"mtls": pf.MTLS}))
	return nil
}

// runColdStart times, per run: new client -> start the process -> handshake (with AutoMTLS: a
// fresh P-521 key and certificate) -> connect -> dispense -> first KV Get. Stopping the plugin
// is not timed.
func runColdStart(args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ExitOnError)
	var pf bench.PluginFlags
	pf.Register(fs)
	warmups := fs.Int("warmup-runs", 3, "runs not measured")
	runs := fs.Int("runs", 20, "measured runs")
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	if pf.Figure == "" {
		pf.Figure = "plugin_cold_start_" + bench.Suffix(pf.MTLS, "mtls", "plain")
	}
	if err := os.WriteFile(filepath.Join(pf.Workdir, "kv_coldstart"), []byte("cold"), 0o644); err != nil {
		return err
	}
	samples, err := bench.Runs(*warmups, *runs, func() (time.Duration, error) {
		start := time.Now()
		c := pf.Client(kvPlugins())
		defer c.Kill()
		kv, err := bench.Dispense[kvshared.KV](c, "kv")
		if err != nil {
			return 0, err
		}
		if _, err := kv.Get("coldstart"); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	})
	if err != nil {
		return err
	}
	bench.Emit(bench.PerRun(pf.Figure, samples, map[string]any{"mtls": pf.MTLS}))
	return nil
}

// runColdStartFresh runs "coldstart -warmup-runs 0 -runs 1" in a new process per run, so each
// measured start is the first of its host process (the Java counterpart: one JMH fork per run).
func runColdStartFresh(args []string) error {
	fs := flag.NewFlagSet("coldstart-fresh", flag.ExitOnError)
	var pf bench.PluginFlags
	pf.Register(fs)
	runs := fs.Int("runs", 5, "measured runs, one host process each")
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	if pf.Figure == "" {
		pf.Figure = "plugin_cold_start_fresh_process_" + bench.Suffix(pf.MTLS, "mtls", "plain")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	samples := make([]int64, 0, *runs)
	for i := 0; i < *runs; i++ {
		cmd := exec.Command(self, "coldstart", "-plugin", pf.Plugin, "-workdir", pf.Workdir,
			fmt.Sprintf("-mtls=%t", pf.MTLS), "-warmup-runs", "0", "-runs", "1")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		var fig struct {
			P50 float64 `json:"p50_ms"`
		}
		if err := json.Unmarshal(out, &fig); err != nil {
			return fmt.Errorf("run %d printed %q: %w", i+1, out, err)
		}
		samples = append(samples, int64(fig.P50*1e6))
	}
	bench.Emit(bench.PerRun(pf.Figure, samples, map[string]any{"mtls": pf.MTLS}))
	return nil
}

// runFreshWall measures what fresh_jvm_first_call measures on the Java side: the wall time from
// starting a new host process ("coldstart -warmup-runs 0 -runs 1") to reading its result line,
// process start and the first plugin start, handshake, connect and KV Get included (its
// stopping of the plugin too, a few ms, which the Java side does after its line).
func runFreshWall(args []string) error {
	fs := flag.NewFlagSet("fresh-wall", flag.ExitOnError)
	var pf bench.PluginFlags
	pf.Register(fs)
	runs := fs.Int("runs", 5, "measured runs, one host process each")
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	if pf.Figure == "" {
		pf.Figure = "fresh_jvm_first_call_" + bench.Suffix(pf.MTLS, "mtls", "plain")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	samples := make([]int64, 0, *runs)
	for i := 0; i < *runs; i++ {
		cmd := exec.Command(self, "coldstart", "-plugin", pf.Plugin, "-workdir", pf.Workdir,
			fmt.Sprintf("-mtls=%t", pf.MTLS), "-warmup-runs", "0", "-runs", "1")
		cmd.Stderr = os.Stderr
		t0 := time.Now()
		if _, err := cmd.Output(); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		samples = append(samples, time.Since(t0).Nanoseconds())
	}
	bench.Emit(bench.PerRun(pf.Figure, samples, map[string]any{"mtls": pf.MTLS, "jvm": "go"}))
	return nil
}

// runHostCost starts the KV plugin (AutoMTLS, one Get each) until 1, 16 and 64 run at once and
// prints, per level, what each live plugin costs this host process over the baseline taken
// after a first plugin was started and stopped: OS threads (/proc/self/task), heap in use
// after runtime.GC() (HeapAlloc), RSS (VmRSS) and open fds.
func runHostCost(args []string) error {
	fs := flag.NewFlagSet("hostcost", flag.ExitOnError)
	var pf bench.PluginFlags
	pf.Register(fs)
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(pf.Workdir, "kv_coldstart"), []byte("cold"), 0o644); err != nil {
		return err
	}
	startOne := func() (*plugin.Client, error) {
		c := pf.Client(kvPlugins())
		kv, err := bench.Dispense[kvshared.KV](c, "kv")
		if err != nil {
			c.Kill()
			return nil, err
		}
		if _, err := kv.Get("coldstart"); err != nil {
			c.Kill()
			return nil, err
		}
		return c, nil
	}
	warm, err := startOne()
	if err != nil {
		return err
	}
	warm.Kill()
	base, err := hostSample()
	if err != nil {
		return err
	}
	var live []*plugin.Client
	defer func() {
		for _, c := range live {
			c.Kill()
		}
	}()
	for _, n := range []int{1, 16, 64} {
		for len(live) < n {
			c, err := startOne()
			if err != nil {
				return err
			}
			live = append(live, c)
		}
		now, err := hostSample()
		if err != nil {
			return err
		}
		names := []string{"threads", "heap_mib", "rss_mib", "fds"}
		units := []string{"threads per plugin", "MiB heap per plugin", "MiB RSS per plugin", "fds per plugin"}
		for i, name := range names {
			bench.Emit(map[string]any{
				"figure":  fmt.Sprintf("host_cost_%s_per_plugin_n%d", name, n),
				"impl":    "go",
				"value":   bench.Round((now[i] - base[i]) / float64(n)),
				"unit":    units[i],
				"better":  "lower",
				"plugins": n,
			})
		}
	}
	return nil
}

func hostSample() ([4]float64, error) {
	var out [4]float64
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(100 * time.Millisecond)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return out, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out, err
	}
	rss := -1.0
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, err := strconv.Atoi(strings.Fields(l)[1])
			if err != nil {
				return out, err
			}
			rss = float64(kb) / 1024
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return out, err
	}
	out = [4]float64{float64(len(tasks)), float64(ms.HeapAlloc) / 1048576, rss, float64(len(fds))}
	return out, nil
}
