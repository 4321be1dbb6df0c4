// Command yamuxbulk is the Go side of goplugin4j's bulk-transfer figure: HashiCorp's yamux on a
// Unix socket, one transfer per stream.
//
//	yamuxbulk server -socket P      the server peer (for the Java and the Go client alike)
//	yamuxbulk bulk [-size-mib N]    a Go client against a server child process, MiB/s
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/yamux"

	"goplugin4j.dev/benchmarks/internal/bench"
)

func main() {
	bench.Run("yamuxbulk", map[string]func([]string) error{"server": runYamuxServer, "bulk": runYamuxBulk})
}

// Bulk protocol, one transfer per yamux stream, the client (yamux client) opens the stream and
// writes a 9-byte request: an op byte and a big-endian uint64 size.
//
//	'U' upload:   the client then writes size bytes; the server reads them all and answers 'K'.
//	'D' download: the server writes size bytes and closes its side.
//
// The server is the same Go process for the Java and the Go client, with yamux.DefaultConfig()
// (256 KiB stream window), as go-plugin's multiplexed broker uses.
const (
	opUpload   = 'U'
	opDownload = 'D'
	chunkSize  = 64 * 1024
)

func yamuxConfig() *yamux.Config {
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = io.Discard
	return cfg
}

// runYamuxServer listens on -socket, prints "ready", and serves bulk streams on every connection
// until its stdin closes (the parent is gone) or it is killed.
func runYamuxServer(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket path to listen on (required)")
	_ = fs.Parse(args)
	if *socket == "" {
		return errors.New("-socket is required")
	}
	_ = os.Remove(*socket)
	l, err := net.Listen("unix", *socket)
	if err != nil {
		return err
	}
	defer l.Close()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = l.Close()
		os.Exit(0)
	}()
	fmt.Println("ready")
	for {
		conn, err := l.Accept()
		if err != nil {
			return nil
		}
		go serveSession(conn)
	}
}

func serveSession(conn net.Conn) {
	sess, err := yamux.Server(conn, yamuxConfig())
	if err != nil {
		_ = conn.Close()
		return
	}
	defer sess.Close()
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			return
		}
		go serveBulk(st)
	}
}

func serveBulk(st *yamux.Stream) {
	defer st.Close()
	var req [9]byte
	if _, err := io.ReadFull(st, req[:]); err != nil {
		return
	}
	size := int64(binary.BigEndian.Uint64(req[1:]))
	switch req[0] {
	case opUpload:
		if n, err := io.CopyBuffer(io.Discard, io.LimitReader(st, size), make([]byte, chunkSize)); err != nil || n != size {
			return
		}
		_, _ = st.Write([]byte{'K'})
	case opDownload:
		buf := make([]byte, chunkSize)
		for size > 0 {
			n := int64(len(buf))
			if size < n {
				n = size
			}
			if _, err := st.Write(buf[:n]); err != nil {
				return
			}
			size -= n
		}
	}
}

// startYamuxServer runs "<this binary> server" in a child process and waits for "ready".
func startYamuxServer(dir string) (socket string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	socket = filepath.Join(dir, fmt.Sprintf("gobench-yamux-%d.sock", os.Getpid()))
	cmd := exec.Command(self, "server", "-socket", socket)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.Remove(socket)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		stop()
		return "", nil, fmt.Errorf("yamux server did not get ready: %q %v", line, err)
	}
	return socket, stop, nil
}

// runYamuxBulk: a Go yamux client against a yamux-server child process, MiB/s per direction.
func runYamuxBulk(args []string) error {
	fs := flag.NewFlagSet("bulk", flag.ExitOnError)
	sizeMiB := fs.Int("size-mib", 256, "MiB per transfer")
	warmups := fs.Int("warmup-runs", 3, "transfers not measured, per direction")
	runs := fs.Int("runs", 10, "measured transfers, per direction")
	dir := fs.String("dir", os.TempDir(), "where the server's socket goes")
	_ = fs.Parse(args)
	socket, stop, err := startYamuxServer(*dir)
	if err != nil {
		return err
	}
	defer stop()
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return err
	}
	sess, err := yamux.Client(conn, yamuxConfig())
	if err != nil {
		return err
	}
	defer sess.Close()
	size := int64(*sizeMiB) << 20
	for _, op := range []byte{opUpload, opDownload} {
		samples, err := bench.Runs(*warmups, *runs, func() (time.Duration, error) {
			return bulkOnce(sess, op, size)
		})
		if err != nil {
			return err
		}
		bench.Emit(throughputFigure(op, size, samples))
	}
	return nil
}

func bulkOnce(sess *yamux.Session, op byte, size int64) (time.Duration, error) {
	st, err := sess.OpenStream()
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var req [9]byte
	req[0] = op
	binary.BigEndian.PutUint64(req[1:], uint64(size))
	start := time.Now()
	if _, err := st.Write(req[:]); err != nil {
		return 0, err
	}
	buf := make([]byte, chunkSize)
	switch op {
	case opUpload:
		for left := size; left > 0; {
			n := int64(len(buf))
			if left < n {
				n = left
			}
			if _, err := st.Write(buf[:n]); err != nil {
				return 0, err
			}
			left -= n
		}
		var ack [1]byte
		if _, err := io.ReadFull(st, ack[:]); err != nil || ack[0] != 'K' {
			return 0, fmt.Errorf("upload not acknowledged: %v", err)
		}
	case opDownload:
		n, err := io.CopyBuffer(io.Discard, io.LimitReader(st, size), buf)
		if err != nil || n != size {
			return 0, fmt.Errorf("download got %d of %d bytes: %v", n, size, err)
		}
	}
	return time.Since(start), nil
}

// throughputFigure: MiB/s of the median and of the mean transfer time.
func throughputFigure(op byte, size int64, samples []int64) map[string]any {
	name := map[byte]string{opUpload: "yamux_bulk_upload", opDownload: "yamux_bulk_download"}[op]
	m := bench.PerRun(name, samples, nil)
	mib := float64(size) / (1 << 20)
	m["size_mib"] = mib
	m["mib_per_s"] = bench.Round(mib / (m["p50_ms"].(float64) / 1e3))
	m["mib_per_s_mean"] = bench.Round(mib / (m["mean_ms"].(float64) / 1e3))
	return m
}
