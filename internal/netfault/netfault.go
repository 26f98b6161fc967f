// Package netfault is a TCP proxy that makes answers come late or never,
// on demand: the faults of a store's network, for tests and attacks that
// need a write applied and its answer lost.
package netfault

import (
	"net"
	"sync"
	"time"
)

// Fault is what happens to the next answer on a connection. The zero
// Fault relays it.
type Fault struct {
	// Drop closes the client's connection instead of relaying the answer.
	Drop bool
	// Hold relays the answer this late.
	Hold time.Duration
}

// Proxy relays TCP connections to a target, and applies the faults its
// inspect function chooses. It is safe for concurrent use.
type Proxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	inspect func(request []byte) Fault
}

// Listen starts a proxy to target on a free loopback port.
func Listen(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target}
	go p.serve()
	return p, nil
}

// Addr is the address clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting connections; open ones end with their peers.
func (p *Proxy) Close() error { return p.ln.Close() }

// Inspect sets the function that sees each chunk a client sends (a request,
// or part of one) and chooses the fault for the next answer on that
// connection. nil relays everything.
func (p *Proxy) Inspect(fn func(request []byte) Fault) {
	p.mu.Lock()
	p.inspect = fn
	p.mu.Unlock()
}

func (p *Proxy) fault(request []byte) Fault {
	p.mu.Lock()
	fn := p.inspect
	p.mu.Unlock()
	if fn == nil {
		return Fault{}
	}
	return fn(request)
}

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		faults := make(chan Fault, 64)
		go p.requests(client, server, faults)
		go answers(server, client, faults)
	}
}

// requests relays what the client sends, noting each chunk's fault.
func (p *Proxy) requests(client, server net.Conn, faults chan<- Fault) {
	defer server.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			return
		}
		if f := p.fault(buf[:n]); f != (Fault{}) {
			select {
			case faults <- f:
			default: // more faults pending than answers: this one is lost
			}
		}
		if _, err := server.Write(buf[:n]); err != nil {
			return
		}
	}
}

// answers relays what the server answers, applying the pending fault to
// the next answer.
func answers(server, client net.Conn, faults <-chan Fault) {
	defer client.Close()
	defer server.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if err != nil {
			return
		}
		select {
		case f := <-faults:
			if f.Drop {
				return
			}
			time.Sleep(f.Hold)
		default:
		}
		if _, err := client.Write(buf[:n]); err != nil {
			return
		}
	}
}
