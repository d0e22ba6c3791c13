// sync.go: the sync suite's Go peer (GOMAXPROCS=1): sync.Mutex Lock+Unlock, buffered channel hand-off.
//
// Usage: sync_go WORKLOAD [N [CAP]]; WORKLOAD is lock or queue (CAP: the channel's capacity, default 128).
// Prints "metric=NAME value=X" lines, like the cio benchmarks in bench/sync/.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func metric(name string, value float64) {
	fmt.Printf("metric=%s value=%.3f\n", name, value)
}

var mu sync.Mutex

func lockUnlock(n int) {
	for i := 0; i < n; i++ {
		mu.Lock()
		mu.Unlock()
	}
}

func benchLock(n int) {
	lockUnlock(n/10 + 1)
	t0 := time.Now()
	lockUnlock(n)
	metric("lock_ns", float64(time.Since(t0).Nanoseconds())/float64(n))
}

// handoff sends n items from a producer goroutine to a consumer goroutine through ch, and waits for both.
func handoff(ch chan int, n int) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		for i := 0; i < n; i++ {
			if <-ch != i+1 {
				fmt.Fprintln(os.Stderr, "sync_go: item out of order")
				os.Exit(1)
			}
		}
		wg.Done()
	}()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i + 1
		}
		wg.Done()
	}()
	wg.Wait()
}

func benchQueue(n, capacity int) {
	ch := make(chan int, capacity)
	handoff(ch, n/10+1)
	t0 := time.Now()
	handoff(ch, n)
	metric("queue_ns", float64(time.Since(t0).Nanoseconds())/float64(n))
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sync_go lock|queue [N [CAP]]")
		os.Exit(2)
	}
	arg := func(i, def int) int {
		if len(os.Args) <= i {
			return def
		}
		n, err := strconv.Atoi(os.Args[i])
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "sync_go: bad count", os.Args[i])
			os.Exit(2)
		}
		return n
	}
	switch os.Args[1] {
	case "lock":
		benchLock(arg(2, 20000000))
	case "queue":
		benchQueue(arg(2, 2000000), arg(3, 128))
	default:
		fmt.Fprintln(os.Stderr, "sync_go: unknown workload", os.Args[1])
		os.Exit(2)
	}
}
