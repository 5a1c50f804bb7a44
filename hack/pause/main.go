// Command pause is what a pod's sandbox container runs: it holds the pod's namespaces open,
// reaps the zombies of a shared process namespace (where it is process 1) and exits cleanly on
// SIGINT or SIGTERM. The local cluster's real node uses it as containerd's sandbox image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
