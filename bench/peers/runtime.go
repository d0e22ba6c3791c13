// runtime.go: the runtime suite's Go peer (GOMAXPROCS=1): Gosched, go+join, idle RSS, 1M sleepers, timer churn.
//
// Usage: runtime_go WORKLOAD [N]; WORKLOAD is yield, spawn, idle, sleep1m or timers. Prints
// "metric=NAME value=X" lines, like the cio benchmarks in bench/runtime/.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func metric(name string, value float64) {
	fmt.Printf("metric=%s value=%.3f\n", name, value)
}

// statusKiB reads a field of /proc/self/status ("VmRSS", "VmHWM") in KiB.
func statusKiB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, key+":") {
			fields := strings.Fields(line[len(key)+1:])
			if len(fields) > 0 {
				v, _ := strconv.ParseInt(fields[0], 10, 64)
				return v
			}
		}
	}
	return -1
}

func yieldRound(n int) {
	var wg sync.WaitGroup
	wg.Add(2)
	for k := 0; k < 2; k++ {
		go func() {
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

func benchYield(n int) {
	yieldRound(n/10 + 1)
	t0 := time.Now()
	yieldRound(n)
	metric("yield_ns", float64(time.Since(t0).Nanoseconds())/float64(2*n))
}

func spawnJoin(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
}

func benchSpawn(n int) {
	spawnJoin(n/10 + 1)
	t0 := time.Now()
	spawnJoin(n)
	metric("spawn_join_ns", float64(time.Since(t0).Nanoseconds())/float64(n))
}

func benchIdle(n int) {
	gate := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	runtime.GC()
	rss0 := statusKiB("VmRSS")
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
			finished.Done()
		}()
	}
	started.Wait()
	rss1 := statusKiB("VmRSS")
	metric("idle_kib", float64(rss1-rss0)/float64(n))
	close(gate)
	finished.Wait()
}

func benchSleep1M(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(100 * time.Millisecond)
			wg.Done()
		}()
	}
	wg.Wait()
	metric("sleep1m_ms", float64(time.Since(t0).Nanoseconds())/1e6)
	metric("sleep1m_hwm_mib", float64(statusKiB("VmHWM"))/1024)
}

func never() {
	fmt.Fprintln(os.Stderr, "runtime_go: a stopped timer fired")
	os.Exit(1)
}

func churn(n int) {
	for i := 0; i < n; i++ {
		t := time.AfterFunc(10*time.Second, never)
		t.Stop()
	}
}

func benchTimers(n int) {
	churn(n/10 + 1)
	t0 := time.Now()
	churn(n)
	metric("timer_ns", float64(time.Since(t0).Nanoseconds())/float64(n))
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: runtime_go yield|spawn|idle|sleep1m|timers [N]")
		os.Exit(2)
	}
	arg := func(def int) int {
		if len(os.Args) < 3 {
			return def
		}
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "runtime_go: bad count", os.Args[2])
			os.Exit(2)
		}
		return n
	}
	switch os.Args[1] {
	case "yield":
		benchYield(arg(1000000))
	case "spawn":
		benchSpawn(arg(1000000))
	case "idle":
		benchIdle(arg(100000))
	case "sleep1m":
		benchSleep1M(arg(1000000))
	case "timers":
		benchTimers(arg(1000000))
	default:
		fmt.Fprintln(os.Stderr, "runtime_go: unknown workload", os.Args[1])
		os.Exit(2)
	}
}
