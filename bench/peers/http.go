// http.go: the http-server suite's Go peer (run with GOMAXPROCS=1): net/http answering a 13-byte plaintext body
// on keep-alive, through a ServeMux route, as Go's "hello world" server does.
//
// Usage: http_go PORT. Listens on 127.0.0.1 until killed; prints "listening on ..." once ready.
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
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: http_go PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/plaintext", plaintext)
	fmt.Printf("listening on 127.0.0.1:%s\n", os.Args[1])
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
