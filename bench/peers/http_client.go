// http_client.go: the http-client suite's Go peer: net/http's Client with a Transport keeping up to C idle
// connections per host (MaxIdleConnsPerHost), and C goroutines each looping Get + read the body + Close, as the
// cio client's tasks do.
//
// Usage: http_client_go URL N [C] [--cafile FILE] [-o FILE]. N requests in all, C (default 100) at once. Bodies
// are read and dropped (io.Copy to io.Discard), or with -o written to FILE (created, truncated for each
// response: meant for N = 1). --cafile trusts the PEM CA certificates in FILE for https. Prints the same
// "metric=NAME value=X" lines as bench/http_client/cio_http_client.c: requests, errors, bytes, wall_s,
// req_per_s, mib_per_s, cpu_us_per_req (getrusage over the requests). Exit status 1 if a request failed.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func cpuUs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec)*1e6 + float64(ru.Utime.Usec+ru.Stime.Usec)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: http_client_go URL N [C] [--cafile FILE] [-o FILE]")
	os.Exit(2)
}

func main() {
	var pos []string
	cafile, out := "", ""
	for i := 1; i < len(os.Args); i++ {
		switch os.Args[i] {
		case "--cafile", "-o":
			if i+1 >= len(os.Args) {
				usage()
			}
			if os.Args[i] == "-o" {
				out = os.Args[i+1]
			} else {
				cafile = os.Args[i+1]
			}
			i++
		default:
			pos = append(pos, os.Args[i])
		}
	}
	if len(pos) < 2 || len(pos) > 3 {
		usage()
	}
	url := pos[0]
	n, err := strconv.Atoi(pos[1])
	if err != nil || n <= 0 {
		usage()
	}
	conc := 100
	if len(pos) == 3 {
		if conc, err = strconv.Atoi(pos[2]); err != nil || conc <= 0 {
			usage()
		}
	}
	if conc > n {
		conc = n
	}
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	if cafile != "" {
		pem, err := os.ReadFile(cafile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fmt.Fprintln(os.Stderr, "no certificate in", cafile)
			os.Exit(1)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	client := &http.Client{Transport: tr}

	var next, errors, bytes int64
	var first atomic.Value
	fail := func(e error) {
		atomic.AddInt64(&errors, 1)
		first.CompareAndSwap(nil, e)
	}
	var wg sync.WaitGroup
	t0, c0 := time.Now(), cpuUs()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(n) {
				resp, err := client.Get(url)
				if err != nil {
					fail(err)
					continue
				}
				var dst io.Writer = io.Discard
				var f *os.File
				if out != "" {
					if f, err = os.Create(out); err != nil {
						fail(err)
						resp.Body.Close()
						continue
					}
					dst = f
				}
				got, err := io.Copy(dst, resp.Body)
				resp.Body.Close()
				if f != nil {
					f.Close()
				}
				atomic.AddInt64(&bytes, got)
				if err != nil {
					fail(err)
				} else if resp.StatusCode != 200 {
					fail(fmt.Errorf("status %d", resp.StatusCode))
				}
			}
		}()
	}
	wg.Wait()
	wall, cpu := time.Since(t0).Seconds(), cpuUs()-c0
	fmt.Printf("metric=requests value=%d\nmetric=errors value=%d\nmetric=bytes value=%d\n", n, errors, bytes)
	fmt.Printf("metric=wall_s value=%.6f\nmetric=req_per_s value=%.3f\n", wall, float64(n)/wall)
	fmt.Printf("metric=mib_per_s value=%.3f\nmetric=cpu_us_per_req value=%.3f\n", float64(bytes)/1048576/wall,
		cpu/float64(n))
	if e := first.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "http_client_go: %d of %d failed, the first: %v\n", errors, n, e)
		os.Exit(1)
	}
}
