// http.go: the http-server suite's Go peer (run with GOMAXPROCS=1): net/http answering a 13-byte plaintext body
// on keep-alive, through a ServeMux route, as Go's "hello world" server does.
//
// Usage: http_go PORT [DIR]. With DIR, its files are served under /static/ (http.FileServer). Listens on 127.0.0.1 until killed; prints "listening on ..." once ready.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

var hello = []byte("Hello, World!")

func plaintext(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write(hello)
}

func main() {
	if len(os.Args) != 2 && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: http_go PORT [DIR]")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/plaintext", plaintext)
	if len(os.Args) == 3 {
		mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir(os.Args[2]))))
	}
	fmt.Printf("listening on 127.0.0.1:%s\n", os.Args[1])
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
