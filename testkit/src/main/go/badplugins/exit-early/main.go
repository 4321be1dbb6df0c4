// exit-early explains itself on stderr and exits with status 3 before any
// handshake. A host must report that the plugin exited before it could
// connect, with the exit status and the stderr text.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "exit-early: cannot start: required setting EXIT_EARLY_CONFIG is missing")
	os.Exit(3)
}
