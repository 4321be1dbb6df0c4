// Command containerhost is the Go side of goplugin4j's container cold-start figure: go-plugin
// with plugincontainer's runner as the host of plugincontainer's examples/container
// plugin-counter image (the same image the Java benchmark runs), and the engine floor.
//
//	containerhost coldstart -image I -runtime runc|runsc [-runs N] [-phases]
//	    new client -> container create+start -> handshake -> connect -> first Counter.Increment
//	    (which calls back the host's Storage through the broker); stopping is not timed. With
//	    -phases, a second JSON line gives the medians of the start's phases (runner start, its
//	    first stdout byte, client ready, dispense, first call), as the Java host's DEBUG lines do
//	containerhost many -image I -runtime runc|runsc [-count 32] [-runs N]
//	    -count plugins started at once, wall time until all have answered a first Increment
//	containerhost floor -image I -runtime runc|runsc [-runs N]
//	    `docker run --rm` of the same image without the magic cookie, to its first output byte
//	containerhost floor-api -image I -runtime runc|runsc [-runs N]
//	    the same through the Engine API, as a host does: create, attach, start, first output byte
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"github.com/hashicorp/go-secure-stdlib/plugincontainer"
	"github.com/hashicorp/go-secure-stdlib/plugincontainer/examples/container/shared"

	"goplugin4j.dev/benchmarks/internal/bench"
)

func main() {
	bench.Run("containerhost", map[string]func([]string) error{
		"coldstart": runColdStart, "floor": runFloor, "floor-api": runFloorAPI, "many": runMany,
	})
}

type flags struct {
	image   string
	tag     string
	runtime string
	warmups int
	runs    int
	mtls    bool
	mux     bool
	figure  string
	impl    string
	tempDir string
	phases  bool
}

func (f *flags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.image, "image", "", "image name without tag (required)")
	fs.StringVar(&f.tag, "tag", "latest", "image tag")
	fs.StringVar(&f.runtime, "runtime", "runc", "OCI runtime: runc or runsc")
	fs.IntVar(&f.warmups, "warmup-runs", 2, "runs not measured")
	fs.IntVar(&f.runs, "runs", 20, "measured runs")
	fs.BoolVar(&f.mtls, "mtls", true, "AutoMTLS on or off")
	fs.BoolVar(&f.mux, "mux", false, "multiplexed gRPC broker")
	fs.StringVar(&f.figure, "figure", "", "figure name (default per subcommand)")
	fs.StringVar(&f.impl, "impl", "go", "impl printed in the JSON line: go, or java when the image holds a Java plugin (plugincontainer_java_plugin figures)")
	fs.StringVar(&f.tempDir, "socket-temp-dir", "", "parent of the plugin socket dirs (default: the system temp dir)")
	fs.BoolVar(&f.phases, "phases", false, "coldstart: also print the medians of the start's phases")
}

// runTimes are one start's phase ends, since the start: the runner's Start returned, and its
// first stdout byte (the handshake line) arrived.
type runTimes struct {
	mu          sync.Mutex
	runnerStart time.Duration
	firstStdout time.Duration
}

// wrap times the runner made by newRunner.
func (t *runTimes) wrap(newRunner func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error),
	start time.Time) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(l hclog.Logger, cmd *exec.Cmd, dir string) (runner.Runner, error) {
		r, err := newRunner(l, cmd, dir)
		if err != nil {
			return nil, err
		}
		return &timedRunner{Runner: r, t: t, start: start}, nil
	}
}

type timedRunner struct {
	runner.Runner
	t     *runTimes
	start time.Time
}

func (r *timedRunner) Start(ctx context.Context) error {
	err := r.Runner.Start(ctx)
	r.t.mu.Lock()
	r.t.runnerStart = time.Since(r.start)
	r.t.mu.Unlock()
	return err
}

func (r *timedRunner) Stdout() io.ReadCloser {
	return &firstByte{ReadCloser: r.Runner.Stdout(), r: r}
}

type firstByte struct {
	io.ReadCloser
	r    *timedRunner
	seen bool
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if n > 0 && !f.seen {
		f.seen = true
		f.r.t.mu.Lock()
		f.r.t.firstStdout = time.Since(f.r.start)
		f.r.t.mu.Unlock()
	}
	return n, err
}

// phaseSamples collects the phase ends of the measured runs, in ns since each start.
type phaseSamples struct {
	runnerStart, firstStdout, ready, dispensed, firstCall []int64
}

func (p *phaseSamples) add(t *runTimes, ready, dispensed, total time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.runnerStart = append(p.runnerStart, t.runnerStart.Nanoseconds())
	p.firstStdout = append(p.firstStdout, t.firstStdout.Nanoseconds())
	p.ready = append(p.ready, ready.Nanoseconds())
	p.dispensed = append(p.dispensed, dispensed.Nanoseconds())
	p.firstCall = append(p.firstCall, total.Nanoseconds())
}

// medians: each phase's median end (ms since the start) over the measured runs.
func (p *phaseSamples) medians(figure, runtime string) map[string]any {
	ms := func(s []int64) float64 { return bench.Round(bench.Median(s) / 1e6) }
	return map[string]any{"figure": figure, "impl": "go", "runtime": runtime, "unit": "ms since the start, median",
		"runner_start_ms": ms(p.runnerStart), "first_stdout_ms": ms(p.firstStdout),
		"client_ready_ms": ms(p.ready), "dispensed_ms": ms(p.dispensed), "first_call_ms": ms(p.firstCall),
		"runs": len(p.firstCall)}
}

func (f *flags) parse(fs *flag.FlagSet, args []string) error {
	_ = fs.Parse(args)
	if f.image == "" {
		return errors.New("-image is required")
	}
	return nil
}

// memStorage is the in-memory Storage plugincontainer's own tests use.
type memStorage struct {
	mu   sync.Mutex
	data map[string]int64
}

func (s *memStorage) Put(key string, value int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = value
	return nil
}

func (s *memStorage) Get(key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[key], nil
}

func runColdStart(args []string) error {
	fs := flag.NewFlagSet("coldstart", flag.ExitOnError)
	var f flags
	f.register(fs)
	if err := f.parse(fs, args); err != nil {
		return err
	}
	if f.figure == "" {
		f.figure = "container_cold_start_" + f.runtime + bench.Suffix(f.mux, "_mux", "")
	}
	cfg := &plugincontainer.Config{Image: f.image, Tag: f.tag, Runtime: f.runtime, DisableNetwork: true,
		GroupAdd: os.Getgid()}
	// the socket dir's group is the host's, so a plugin image with a non-root user (goplugin4j
	// image's USER 65532:0) can create its socket, as examples/java-plugins' containerhost does
	sockets := &plugin.UnixSocketConfig{TempDir: f.tempDir, Group: strconv.Itoa(os.Getgid())}
	phases := f.phases
	var ph phaseSamples
	run := 0
	samples, err := bench.Runs(f.warmups, f.runs, func() (time.Duration, error) {
		run++
		start := time.Now()
		var t runTimes
		runnerFunc := cfg.NewContainerRunner
		if phases {
			runnerFunc = t.wrap(cfg.NewContainerRunner, start)
		}
		c := plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig:     bench.Handshake,
			Plugins:             map[string]plugin.Plugin{"counter": &shared.CounterPlugin{}},
			AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
			AutoMTLS:            f.mtls,
			GRPCBrokerMultiplex: f.mux,
			SkipHostEnv:         true,
			UnixSocketConfig:    sockets,
			RunnerFunc:          runnerFunc,
			Logger:              bench.HostLogger(),
		})
		defer c.Kill()
		// started and connected first, to time it: Dispense's own Client() then returns at once
		if _, err := c.Client(); err != nil {
			return 0, err
		}
		ready := time.Since(start)
		counter, err := bench.Dispense[shared.Counter](c, "counter")
		if err != nil {
			return 0, err
		}
		dispensed := time.Since(start)
		v, err := counter.Increment("bench", 1, &memStorage{data: map[string]int64{}})
		if err != nil {
			return 0, err
		}
		d := time.Since(start)
		if v != 1 {
			return 0, fmt.Errorf("first increment returned %d, want 1", v)
		}
		if phases && run > f.warmups {
			ph.add(&t, ready, dispensed, d)
		}
		return d, nil
	})
	if err != nil {
		return err
	}
	if phases {
		bench.Emit(ph.medians(f.figure+"_phases", f.runtime))
	}
	m := bench.PerRun(f.figure, samples, map[string]any{"runtime": f.runtime, "mtls": f.mtls, "mux": f.mux, "image": f.image + ":" + f.tag})
	m["impl"] = f.impl
	bench.Emit(m)
	return nil
}

// runFloor times `docker run --rm` of the image (no magic cookie: the plugin prints its "This
// binary is a plugin" notice and exits 1) from the command's start to the first output byte:
// CLI, create, start, runtime and process start. Waiting for exit and removal is not timed.
func runFloor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	var f flags
	f.register(fs)
	if err := f.parse(fs, args); err != nil {
		return err
	}
	if f.figure == "" {
		f.figure = "engine_floor_docker_run_" + f.runtime
	}
	ref := f.image + ":" + f.tag
	samples, err := bench.Runs(f.warmups, f.runs, func() (time.Duration, error) {
		cmd := exec.Command("docker", "run", "--rm", "--runtime", f.runtime, "--network", "none", ref)
		pr, pw := io.Pipe()
		cmd.Stdout = pw
		cmd.Stderr = pw
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		first := make(chan time.Duration, 1)
		go func() {
			var b [1]byte
			if n, _ := pr.Read(b[:]); n == 1 {
				first <- time.Since(start)
			} else {
				first <- 0
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
		d := <-first
		_ = cmd.Wait()
		_ = pw.Close()
		if d == 0 {
			return 0, fmt.Errorf("docker run %s printed nothing", ref)
		}
		return d, nil
	})
	if err != nil {
		return err
	}
	m := bench.PerRun(f.figure, samples, map[string]any{"runtime": f.runtime})
	m["impl"] = "engine"
	bench.Emit(m)
	return nil
}

// runFloorAPI: what any host must at least pay through the Engine API: create (auto-remove,
// networking off, the runtime), attach, start, and the container's first output byte. The wait
// for its removal is not timed.
func runFloorAPI(args []string) error {
	fs := flag.NewFlagSet("floor-api", flag.ExitOnError)
	var f flags
	f.register(fs)
	if err := f.parse(fs, args); err != nil {
		return err
	}
	if f.figure == "" {
		f.figure = "engine_floor_api_" + f.runtime
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx := context.Background()
	ref := f.image + ":" + f.tag
	samples, err := bench.Runs(f.warmups, f.runs, func() (time.Duration, error) {
		start := time.Now()
		created, err := cli.ContainerCreate(ctx,
			&container.Config{Image: ref, AttachStdout: true, AttachStderr: true, NetworkDisabled: true},
			&container.HostConfig{AutoRemove: true, Runtime: f.runtime, NetworkMode: "none"}, nil, nil, "")
		if err != nil {
			return 0, err
		}
		removed, waitErr := cli.ContainerWait(ctx, created.ID, container.WaitConditionRemoved)
		att, err := cli.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
		if err != nil {
			return 0, err
		}
		defer att.Close()
		if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
			return 0, err
		}
		var b [1]byte
		if _, err := io.ReadFull(att.Reader, b[:]); err != nil {
			return 0, fmt.Errorf("no output from %s: %w", ref, err)
		}
		d := time.Since(start)
		_, _ = io.Copy(io.Discard, att.Reader)
		select {
		case <-removed:
		case <-waitErr:
		case <-time.After(30 * time.Second):
			return 0, fmt.Errorf("container %s not removed within 30 s", created.ID)
		}
		return d, nil
	})
	if err != nil {
		return err
	}
	m := bench.PerRun(f.figure, samples, map[string]any{"runtime": f.runtime})
	m["impl"] = "engine"
	bench.Emit(m)
	return nil
}

// runMany starts -count containerized plugins at once (one goroutine each) and times the wall
// from the start until every one has answered its first brokered Increment (the Java side's
// containers_N_first_calls figure); stopping them is not timed.
func runMany(args []string) error {
	fs := flag.NewFlagSet("many", flag.ExitOnError)
	var f flags
	f.register(fs)
	count := fs.Int("count", 32, "plugins started at once")
	if err := f.parse(fs, args); err != nil {
		return err
	}
	if f.figure == "" {
		f.figure = fmt.Sprintf("containers_%d_first_calls_%s", *count, f.runtime)
	}
	cfg := &plugincontainer.Config{Image: f.image, Tag: f.tag, Runtime: f.runtime, DisableNetwork: true,
		GroupAdd: os.Getgid()}
	sockets := &plugin.UnixSocketConfig{Group: strconv.Itoa(os.Getgid())}
	samples, err := bench.Runs(f.warmups, f.runs, func() (time.Duration, error) {
		clients := make([]*plugin.Client, *count)
		for i := range clients {
			clients[i] = plugin.NewClient(&plugin.ClientConfig{
				HandshakeConfig:  bench.Handshake,
				Plugins:          map[string]plugin.Plugin{"counter": &shared.CounterPlugin{}},
				AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
				AutoMTLS:         f.mtls,
				SkipHostEnv:      true,
				UnixSocketConfig: sockets,
				RunnerFunc:       cfg.NewContainerRunner,
				Logger:           bench.HostLogger(),
			})
		}
		defer func() {
			var wg sync.WaitGroup
			for _, c := range clients {
				wg.Add(1)
				go func(c *plugin.Client) { defer wg.Done(); c.Kill() }(c)
			}
			wg.Wait()
		}()
		start := time.Now()
		errs := make(chan error, *count)
		for _, c := range clients {
			go func(c *plugin.Client) {
				counter, err := bench.Dispense[shared.Counter](c, "counter")
				if err == nil {
					var v int64
					v, err = counter.Increment("bench", 1, &memStorage{data: map[string]int64{}})
					if err == nil && v != 1 {
						err = fmt.Errorf("first increment returned %d, want 1", v)
					}
				}
				errs <- err
			}(c)
		}
		for range clients {
			if err := <-errs; err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	})
	if err != nil {
		return err
	}
	bench.Emit(bench.PerRun(f.figure, samples, map[string]any{"runtime": f.runtime, "mtls": f.mtls, "plugins": *count}))
	return nil
}
