// A reference executor for the benchmarks, written the way ColonyOS's own Go executors are:
// pkg/client from the pinned colonies module, assign -> close with output, two RPCs per process.
// It serves `echo` (output = args) until it receives SIGTERM/SIGINT, then removes itself.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/colonyos/colonies/pkg/client"
	"github.com/colonyos/colonies/pkg/core"
	"github.com/colonyos/colonies/pkg/security/crypto"
)

func main() {
	host := flag.String("host", "127.0.0.1", "server host")
	port := flag.Int("port", 50080, "server port")
	colony := flag.String("colony", "", "colony name")
	colonyKey := flag.String("colonyprvkey", "", "colony owner's private key (to add and approve this executor)")
	execType := flag.String("type", "gobench", "executor type")
	name := flag.String("name", "gobench", "executor name")
	flag.Parse()

	c := client.CreateColoniesClient(*host, *port, true, false)
	cr := crypto.CreateCrypto()
	prvKey, err := cr.GeneratePrivateKey()
	check(err)
	id, err := cr.GenerateID(prvKey)
	check(err)
	executor := core.CreateExecutor(id, *execType, *name, *colony, time.Now(), time.Now())
	_, err = c.AddExecutor(executor, *colonyKey)
	check(err)
	check(c.ApproveExecutor(*colony, *name, *colonyKey))
	fmt.Println("polling")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		<-stop
		close(done)
	}()
	served := 0
	for {
		select {
		case <-done:
			_ = c.RemoveExecutor(*colony, *name, *colonyKey)
			fmt.Printf("served %d\n", served)
			return
		default:
		}
		process, err := c.Assign(*colony, 1, "", "", prvKey)
		if err != nil || process == nil {
			continue // empty poll: the server answers after the timeout
		}
		output := make([]interface{}, len(process.FunctionSpec.Args))
		copy(output, process.FunctionSpec.Args)
		if err := c.CloseWithOutput(process.ID, output, prvKey); err != nil {
			fmt.Fprintln(os.Stderr, "close:", err)
		}
		served++
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "goexecutor:", err)
		os.Exit(1)
	}
}
