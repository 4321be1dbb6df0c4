// hang never prints a handshake. A host must time out and kill it.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Fprintln(os.Stderr, "hang: warming up (this never finishes)")
	// Exit on our own eventually so a host that fails to kill us leaks only for a while.
	time.Sleep(5 * time.Minute)
}
