// socket-bridge is not a plugin: it is the sidecar of the remote-runner test. It listens on a
// TCP address and forwards every connection, byte for byte, to the Unix socket a go-plugin plugin
// created in a directory it shares with this process (the first socket there whose name starts
// with "plugin"). TLS runs end to end inside the forwarded bytes, so the bridge sees only
// ciphertext.
//
// Usage: socket-bridge <socket dir> <listen address>
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: socket-bridge <socket dir> <listen address>")
		os.Exit(2)
	}
	dir, listen := os.Args[1], os.Args[2]
	l, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socket-bridge:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "socket-bridge: listening on", l.Addr(), "for sockets in", dir)
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "socket-bridge:", err)
			os.Exit(1)
		}
		go forward(c, dir)
	}
}

// pluginSocket waits up to 10 s for the plugin's socket to appear.
func pluginSocket(dir string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, err := os.ReadDir(dir)
		if err == nil {
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "plugin") && e.Type()&os.ModeSocket != 0 {
					return filepath.Join(dir, e.Name()), nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no plugin socket in %s", dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func forward(c net.Conn, dir string) {
	defer c.Close()
	path, err := pluginSocket(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socket-bridge:", err)
		return
	}
	u, err := net.Dial("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socket-bridge:", err)
		return
	}
	defer u.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(u, c)
		u.(*net.UnixConn).CloseWrite()
	}()
	go func() {
		defer wg.Done()
		io.Copy(c, u)
		c.(*net.TCPConn).CloseWrite()
	}()
	wg.Wait()
}
