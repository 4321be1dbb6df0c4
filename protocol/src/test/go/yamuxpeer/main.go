// Command yamuxpeer is the conformance peer for goplugin4j's Java yamux: HashiCorp's
// github.com/hashicorp/yamux on a Unix socket, driven by commands the Java tests send.
//
// Usage: yamuxpeer -role server|client -socket PATH [-closetimeout D] [-backlog N]
//
// As server it listens on PATH, prints "ready" to stdout and serves one connection; as client it
// dials PATH. Either way it accepts every stream the Java side opens and reads one command line:
//
//	echo                 copy everything back, then close (FIN)
//	sink                 read to EOF, answer "<bytes> <sha256 hex>\n", close
//	source N             write N pattern bytes, close
//	expectreset TOKEN    answer "reading\n", read until an error; remember under TOKEN whether
//	                     it was a reset
//	query TOKEN          answer what TOKEN saw ("reset", "eof", "error: ...") once known
//	closewithoutreading  close at once (FIN) without reading; the Java side keeps writing
//	ping                 ping the Java side, answer "ok <nanoseconds>\n"
//	goaway               send GoAway, answer "ok\n"
//	open K N             open K streams to the Java side (which must echo), send N pattern bytes
//	                     on each, half-close, check the echo; answer "ok\n" or "error: ...\n"
//	numstreams           answer "<open streams>\n"
//	exit                 close the session
//
// When the session ends the process prints "closed" and exits 0.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

var (
	results   = map[string]string{}
	resultsMu sync.Mutex
	resultsCv = sync.NewCond(&resultsMu)
)

func pattern(n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func main() {
	role := flag.String("role", "server", "server or client")
	socket := flag.String("socket", "", "unix socket path")
	closeTimeout := flag.Duration("closetimeout", 5*time.Minute, "StreamCloseTimeout")
	backlog := flag.Int("backlog", 256, "AcceptBacklog")
	flag.Parse()

	cfg := yamux.DefaultConfig()
	cfg.StreamCloseTimeout = *closeTimeout
	cfg.AcceptBacklog = *backlog
	cfg.LogOutput = os.Stderr

	var conn net.Conn
	var err error
	if *role == "server" {
		l, lerr := net.Listen("unix", *socket)
		if lerr != nil {
			fmt.Fprintln(os.Stderr, "listen:", lerr)
			os.Exit(2)
		}
		fmt.Println("ready")
		conn, err = l.Accept()
		l.Close()
	} else {
		conn, err = net.Dial("unix", *socket)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	var sess *yamux.Session
	if *role == "server" {
		sess, err = yamux.Server(conn, cfg)
	} else {
		sess, err = yamux.Client(conn, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "session:", err)
		os.Exit(2)
	}
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			break
		}
		go handle(sess, st)
	}
	<-sess.CloseChan()
	fmt.Println("closed")
}

func readLine(st *yamux.Stream) (string, *bufio.Reader, error) {
	r := bufio.NewReader(st)
	line, err := r.ReadString('\n')
	return strings.TrimSpace(line), r, err
}

func handle(sess *yamux.Session, st *yamux.Stream) {
	line, r, err := readLine(st)
	if err != nil {
		st.Close()
		return
	}
	f := strings.Fields(line)
	switch f[0] {
	case "echo":
		io.Copy(st, r)
		st.Close()
	case "sink":
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			fmt.Fprintf(st, "error: %v\n", err)
		} else {
			fmt.Fprintf(st, "%d %s\n", n, hex.EncodeToString(h.Sum(nil)))
		}
		st.Close()
	case "source":
		n, _ := strconv.ParseInt(f[1], 10, 64)
		st.Write(pattern(n))
		st.Close()
	case "expectreset":
		// Tell the Java side we are reading, so its reset cannot overtake the command line.
		fmt.Fprintf(st, "reading\n")
		_, err := io.Copy(io.Discard, r)
		res := "eof"
		if errors.Is(err, yamux.ErrConnectionReset) {
			res = "reset"
		} else if err != nil {
			res = "error: " + err.Error()
		}
		resultsMu.Lock()
		results[f[1]] = res
		resultsCv.Broadcast()
		resultsMu.Unlock()
		st.Close()
	case "query":
		resultsMu.Lock()
		for results[f[1]] == "" {
			resultsCv.Wait()
		}
		res := results[f[1]]
		resultsMu.Unlock()
		fmt.Fprintf(st, "%s\n", res)
		st.Close()
	case "closewithoutreading":
		st.Close()
	case "ping":
		rtt, err := sess.Ping()
		if err != nil {
			fmt.Fprintf(st, "error: %v\n", err)
		} else {
			fmt.Fprintf(st, "ok %d\n", rtt.Nanoseconds())
		}
		st.Close()
	case "goaway":
		if err := sess.GoAway(); err != nil {
			fmt.Fprintf(st, "error: %v\n", err)
		} else {
			fmt.Fprintf(st, "ok\n")
		}
		st.Close()
	case "open":
		k, _ := strconv.Atoi(f[1])
		n, _ := strconv.ParseInt(f[2], 10, 64)
		fmt.Fprintf(st, "%s\n", openMany(sess, k, n))
		st.Close()
	case "numstreams":
		fmt.Fprintf(st, "%d\n", sess.NumStreams())
		st.Close()
	case "exit":
		sess.Close()
	default:
		fmt.Fprintf(st, "error: unknown command %q\n", line)
		st.Close()
	}
}

func openMany(sess *yamux.Session, k int, n int64) string {
	want := pattern(n)
	errs := make(chan error, k)
	for i := 0; i < k; i++ {
		go func() {
			st, err := sess.OpenStream()
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			werr := make(chan error, 1)
			go func() {
				_, err := st.Write(want)
				if err == nil {
					err = st.Close()
				}
				werr <- err
			}()
			got, err := io.ReadAll(st)
			if err != nil {
				errs <- err
				return
			}
			if err := <-werr; err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, want) {
				errs <- fmt.Errorf("echo mismatch: got %d bytes, want %d", len(got), len(want))
				return
			}
			errs <- nil
		}()
	}
	for i := 0; i < k; i++ {
		if err := <-errs; err != nil {
			return "error: " + err.Error()
		}
	}
	return "ok"
}
