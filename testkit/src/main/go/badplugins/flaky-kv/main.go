// flaky-kv serves the examples/grpc KV service from memory and misbehaves on
// demand, for supervision tests:
//
//   - Put("crash", code): writes "[ERROR] flaky-kv: crashing with <code> as
//     asked" to stderr and exits with that code (default 3) before answering;
//   - Put("hang", _): from then on every unary call, the health check included,
//     blocks until its caller gives up: the plugin hangs but stays alive;
//   - Put("warn", text): writes "[WARN] <text>" to stderr;
//   - Put("sleep", ms): answers after ms milliseconds (an in-flight call);
//   - Get("version"): the value of FLAKY_VERSION (default "1");
//   - Get("pid"): the process id.
//
// With FLAKY_EXIT_AFTER_MS=n in its environment it exits with status 3 by
// itself, n ms after a host's first call reached it (a host opens its stdio and
// broker streams as it connects). Counting from the process start instead made
// a slow start (a loaded machine) fail before the host had connected, which
// tests then saw as a failed restart rather than a restarted plugin that died.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"google.golang.org/grpc"

	"goplugin4j.dev/testkit/badplugins/internal/memkv"
)

var hung atomic.Bool

type flakyKV struct {
	store  *memkv.Store
	stderr *os.File
}

func (f *flakyKV) Put(key string, value []byte) error {
	switch key {
	case "crash":
		code := 3
		if n, err := strconv.Atoi(string(value)); err == nil {
			code = n
		}
		fmt.Fprintf(f.stderr, "[ERROR] flaky-kv: crashing with %d as asked\n", code)
		os.Exit(code)
	case "hang":
		hung.Store(true)
		return nil
	case "warn":
		fmt.Fprintf(f.stderr, "[WARN] %s\n", value)
		return nil
	case "sleep":
		ms, _ := strconv.Atoi(string(value))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return f.store.Put(key, value)
}

func (f *flakyKV) Get(key string) ([]byte, error) {
	switch key {
	case "version":
		v := os.Getenv("FLAKY_VERSION")
		if v == "" {
			v = "1"
		}
		return []byte(v), nil
	case "pid":
		return []byte(strconv.Itoa(os.Getpid())), nil
	}
	return f.store.Get(key)
}

// hangWhenAsked blocks every unary call once Put("hang") was called.
func hangWhenAsked(ctx context.Context, req interface{}, _ *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (interface{}, error) {
	if hung.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return handler(ctx, req)
}

// exitTimer starts, once, the countdown of FLAKY_EXIT_AFTER_MS (if set).
type exitTimer struct {
	once   sync.Once
	ms     int
	stderr *os.File
}

func (t *exitTimer) start() {
	if t.ms <= 0 {
		return
	}
	t.once.Do(func() {
		go func() {
			time.Sleep(time.Duration(t.ms) * time.Millisecond)
			fmt.Fprintln(t.stderr, "[ERROR] flaky-kv: exiting by itself as configured")
			os.Exit(3)
		}()
	})
}

func (t *exitTimer) unary(ctx context.Context, req interface{}, _ *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler) (interface{}, error) {
	t.start()
	return handler(ctx, req)
}

func (t *exitTimer) stream(srv interface{}, ss grpc.ServerStream, _ *grpc.StreamServerInfo,
	handler grpc.StreamHandler) error {
	t.start()
	return handler(srv, ss)
}

func main() {
	// go-plugin points os.Stderr at its stdio forwarding while Serve runs: keep the real one.
	stderr := os.Stderr
	timer := &exitTimer{stderr: stderr}
	if ms, err := strconv.Atoi(os.Getenv("FLAKY_EXIT_AFTER_MS")); err == nil && ms > 0 {
		timer.ms = ms
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins: map[string]plugin.Plugin{
			"kv": &shared.KVGRPCPlugin{Impl: &flakyKV{store: memkv.New(), stderr: stderr}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts,
				grpc.ChainUnaryInterceptor(timer.unary, hangWhenAsked),
				grpc.ChainStreamInterceptor(timer.stream))...)
		},
	})
}
