package mailtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// TCPServer accepts loopback connections and hands each to a function: a
// peer that misbehaves on purpose below the protocol, such as a server
// that never greets.
type TCPServer struct {
	Addr  string
	conns atomic.Int64
}

// StartTCP listens on a loopback port and runs handle for each connection
// until the test ends, when the listener and every connection are closed.
func StartTCP(tb testing.TB, handle func(net.Conn)) *TCPServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &TCPServer{Addr: ln.Addr().String()}
	var mu sync.Mutex
	var open []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			go handle(c)
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	return s
}

// Connections returns how many connections the server accepted.
func (s *TCPServer) Connections() int { return int(s.conns.Load()) }

// Silent reads whatever the client sends and never answers: a server that
// accepted the connection and then hung.
func Silent(c net.Conn) { io.Copy(io.Discard, c) }
