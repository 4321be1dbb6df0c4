// streamhost measures gRPC streaming throughput against go-plugin's examples/streaming plugin
// through the example's own Go client (shared.StreamerGRPCClient), as the Java side's
// grpc_streaming figures do: Configure(file, chunk), a client-streaming Write of -size-mib MiB,
// a server-streaming Read of the file back; one JSON line per direction (MiB/s of the median, and
// host_cpu_ms_per_mib: this process's CPU time, user and system, per MiB, median of the runs).
//
//	streamhost stream -plugin P [-size-mib N] [-chunk BYTES] [-warmup-runs N] [-runs N]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/streaming/shared"

	"goplugin4j.dev/benchmarks/internal/bench"
)

func main() {
	bench.Run("streamhost", map[string]func([]string) error{"stream": runStream})
}

func runStream(args []string) error {
	fs := flag.NewFlagSet("stream", flag.ExitOnError)
	var pf bench.PluginFlags
	pf.Register(fs)
	sizeMib := fs.Int("size-mib", 64, "MiB per write and read")
	chunk := fs.Int("chunk", 65536, "bytes per stream message")
	warmups := fs.Int("warmup-runs", 2, "runs not measured")
	runs := fs.Int("runs", 10, "measured runs")
	_ = fs.Parse(args)
	if err := pf.Check(); err != nil {
		return err
	}
	c := pf.Client(map[string]plugin.Plugin{"streamer": &shared.StreamerPlugin{}})
	defer c.Kill()
	s, err := bench.Dispense[shared.Streamer](c, "streamer")
	if err != nil {
		return err
	}
	data := make([]byte, *sizeMib<<20)
	for i := range data {
		data[i] = byte(i * 31)
	}
	file, err := filepath.Abs(filepath.Join(pf.Workdir, "streaming_data_go"))
	if err != nil {
		return err
	}
	defer os.Remove(file)
	ctx := context.Background()
	var writes, reads, writeCPU, readCPU []int64
	for i := 0; i < *warmups+*runs; i++ {
		_ = os.Remove(file)
		if err := s.Configure(ctx, file, int64(*chunk)); err != nil {
			return err
		}
		c0 := processCPU()
		t0 := time.Now()
		if err := s.Write(ctx, data); err != nil {
			return err
		}
		t1 := time.Now()
		c1 := processCPU()
		back, err := s.Read(ctx)
		if err != nil {
			return err
		}
		t2 := time.Now()
		c2 := processCPU()
		if !bytes.Equal(back, data) {
			return fmt.Errorf("read back %d bytes, not the %d written", len(back), len(data))
		}
		if i >= *warmups {
			writes = append(writes, t1.Sub(t0).Nanoseconds())
			reads = append(reads, t2.Sub(t1).Nanoseconds())
			writeCPU = append(writeCPU, c1-c0)
			readCPU = append(readCPU, c2-c1)
		}
	}
	for _, f := range []struct {
		name    string
		samples []int64
		cpu     []int64
	}{{"grpc_streaming_write", writes, writeCPU}, {"grpc_streaming_read", reads, readCPU}} {
		m := bench.PerRun(f.name+bench.Suffix(pf.MTLS, "", "_plain"), f.samples, map[string]any{
			"size_mib": float64(*sizeMib), "chunk_bytes": *chunk, "mtls": pf.MTLS,
		})
		m["mib_per_s"] = bench.Round(float64(*sizeMib) / (m["p50_ms"].(float64) / 1e3))
		m["mib_per_s_mean"] = bench.Round(float64(*sizeMib) / (m["mean_ms"].(float64) / 1e3))
		m["host_cpu_ms_per_mib"] = bench.Round(bench.Median(f.cpu) / 1e6 / float64(*sizeMib))
		bench.Emit(m)
	}
	return nil
}

// processCPU is this process's CPU time so far (all threads, user and system), in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
