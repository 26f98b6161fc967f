package netfault_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/challengekit/challengekit/internal/netfault"
)

// echo serves lines back, and counts those it received.
func echo(t *testing.T) (addr string, received chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	received = make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					received <- line
					_, _ = io.WriteString(c, line)
				}
			}()
		}
	}()
	return ln.Addr().String(), received
}

func TestTheProxyRelaysHoldsAndDrops(t *testing.T) {
	addr, received := echo(t)
	p, err := netfault.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Inspect(func(req []byte) netfault.Fault {
		switch {
		case strings.HasPrefix(string(req), "hold"):
			return netfault.Fault{Hold: 200 * time.Millisecond}
		case strings.HasPrefix(string(req), "drop"):
			return netfault.Fault{Drop: true}
		}
		return netfault.Fault{}
	})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ask := func(line string) (string, error) {
		if _, err := io.WriteString(c, line+"\n"); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}
	if got, err := ask("plain"); err != nil || got != "plain\n" {
		t.Fatalf("relayed: %q, %v", got, err)
	}
	// The held answer must come after the hold; no deadline of ours
	// would pass otherwise (the test's timeout bounds a broken proxy).
	begin := time.Now()
	if got, err := ask("hold"); err != nil || got != "hold\n" || time.Since(begin) < 200*time.Millisecond {
		t.Fatalf("held: %q, %v after %v", got, err, time.Since(begin))
	}
	if got, err := ask("drop"); err == nil {
		t.Fatalf("dropped: got %q; want the connection closed", got)
	}
	for _, want := range []string{"plain\n", "hold\n", "drop\n"} {
		if got := <-received; got != want {
			t.Fatalf("the server received %q; want %q: every request reaches it, whatever befalls its answer", got, want)
		}
	}
}
