// wrong-core prints a handshake with core protocol version 2. A host must
// reject it as an incompatible core version.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("2|1|unix|/tmp/x.sock|grpc|")
	time.Sleep(5 * time.Minute)
}
