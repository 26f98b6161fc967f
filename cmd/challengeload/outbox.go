package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// outbox hands the one-time codes the servers send to the flows waiting
// for them. The servers append "time destination code" lines to its path
// as to a file (examples/server's -demo-outbox, the bare server's
// -outbox), but the path is a named pipe: each line reaches the reader as
// it is written, with no file growing and no polling, so reading costs
// the servers nothing beyond their write.
type outbox struct {
	path    string
	pipe    *os.File
	read    chan struct{} // closed when the reader stops
	mu      sync.Mutex
	waiting map[string]chan string // by destination
}

// openOutbox makes a named pipe at path unless one is there, and starts
// reading it.
func openOutbox(path string) (*outbox, error) {
	if err := syscall.Mkfifo(path, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("outbox: %s is not a named pipe", path)
	}
	// Read and write: the pipe then always has a writer, so that the
	// reader sees no end of file between two servers' writes, and opening
	// it does not wait for one.
	pipe, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o := &outbox{path: path, pipe: pipe, read: make(chan struct{}), waiting: map[string]chan string{}}
	go o.readLines()
	return o, nil
}

func (o *outbox) readLines() {
	defer close(o.read)
	lines := bufio.NewScanner(o.pipe)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 3 {
			continue
		}
		o.mu.Lock()
		ch := o.waiting[f[1]]
		delete(o.waiting, f[1])
		o.mu.Unlock()
		if ch != nil {
			ch <- f[2]
		}
	}
}

// close stops the reader, once the servers that write to the pipe have
// stopped.
func (o *outbox) close() {
	_ = o.pipe.Close()
	<-o.read
}

// pendingCode is a code a flow expects at a destination.
type pendingCode struct {
	o           *outbox
	destination string
	code        chan string
}

// expect registers a flow's wait for the next code to destination; it
// must come before the request that sends one.
func (o *outbox) expect(destination string) *pendingCode {
	p := &pendingCode{o: o, destination: destination, code: make(chan string, 1)}
	o.mu.Lock()
	o.waiting[destination] = p.code
	o.mu.Unlock()
	return p
}

// wait returns the code, or an error if none came within d.
func (p *pendingCode) wait(ctx context.Context, d time.Duration) (string, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case code := <-p.code:
		return code, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
		return "", fmt.Errorf("no code for %s in the outbox within %v", p.destination, d)
	}
}

// cancel forgets the wait, if no code came.
func (p *pendingCode) cancel() {
	p.o.mu.Lock()
	defer p.o.mu.Unlock()
	if p.o.waiting[p.destination] == p.code {
		delete(p.o.waiting, p.destination)
	}
}
