package servicetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Programs skips the test, or fails it when services are required, unless
// every program named is installed.
func Programs(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if Required() {
				t.Fatalf("%s is required (CHALLENGEKIT_REQUIRE_SERVICES=1) but not installed", name)
			}
			t.Skipf("%s is not installed; set CHALLENGEKIT_REQUIRE_SERVICES=1 to make this a failure", name)
		}
	}
}

// FreePort returns a TCP port of 127.0.0.1 that nothing listened on a
// moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBound is how long a private server may take to say it is ready.
const startBound = 30 * time.Second

// StartRedis runs a private redis-server on port (in dir, if not empty),
// with args added, and returns once it accepts connections. stop kills
// it; the test's end does too.
func StartRedis(t testing.TB, port int, dir string, args ...string) (stop func()) {
	t.Helper()
	Programs(t, "redis-server")
	all := []string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"}
	if dir != "" {
		all = append(all, "--dir", dir)
	}
	cmd := exec.Command("redis-server", append(all, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	// Redis says when it listens.
	if out, ok := waitForLine(cmd, stdout, "Ready to accept connections"); !ok {
		stop()
		t.Fatalf("private redis-server on port %d did not start:\n%s", port, out)
	}
	return stop
}

// waitForLine reads a started server's output until a line contains want,
// then discards the rest; it waits for that line, not for a time, but not
// forever: a server that has not said it by startBound is killed, which
// ends its output. It returns what it read, for a failure message.
func waitForLine(cmd *exec.Cmd, stdout io.Reader, want string) (string, bool) {
	wedged := time.AfterFunc(startBound, func() { _ = cmd.Process.Kill() })
	defer wedged.Stop()
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), want) {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return out.String(), true
		}
	}
	return out.String(), false
}

// RedisCluster starts a private Redis Cluster of three masters on free
// ports, each in a directory of its own, and returns their addresses once
// the cluster is ready (cluster_state:ok on every node). Everything is
// killed when the test ends.
func RedisCluster(t testing.TB) []string {
	t.Helper()
	Programs(t, "redis-server", "redis-cli")
	var addrs []string
	for range 3 {
		port := FreePort(t)
		// The bus port is drawn too: port+10000, Redis' default, may be
		// taken or past 65535.
		StartRedis(t, port, t.TempDir(), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000", "--cluster-port", fmt.Sprint(FreePort(t)))
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	create := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				_ = c.Close()
				t.Fatalf("cluster node %s not ready: %v\n%s", addr, err, info)
			}
			time.Sleep(20 * time.Millisecond) // polling, bounded by ctx
		}
		_ = c.Close()
	}
	return addrs
}

// RedisSentinel starts a private master and one Sentinel watching it as
// master, and returns the Sentinel's address once it knows the master.
func RedisSentinel(t testing.TB, master string) string {
	t.Helper()
	Programs(t, "redis-server", "redis-cli")
	masterPort := FreePort(t)
	StartRedis(t, masterPort, t.TempDir())
	port, dir := FreePort(t), t.TempDir()
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor %s 127.0.0.1 %d 1\n", port, master, masterPort)
	path := dir + "/sentinel.conf"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", path, "--sentinel")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The Sentinel says when it monitors the master.
	if out, ok := waitForLine(cmd, stdout, "+monitor master "+master); !ok {
		t.Fatalf("private Sentinel did not start:\n%s", out)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}
