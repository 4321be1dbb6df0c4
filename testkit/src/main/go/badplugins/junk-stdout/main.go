// junk-stdout prints a line that is not a handshake before a valid-looking
// handshake line, like a plugin that logs to stdout during start-up. A host
// must fail the start and name the junk line as the likely cause.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("junk-stdout: loading configuration before serving")
	fmt.Println("1|1|unix|/tmp/goplugin4j-junk-stdout-no-such.sock|grpc|")
	// Wait for the host to give up and kill us; exit on our own eventually.
	time.Sleep(5 * time.Minute)
}
