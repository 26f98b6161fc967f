package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCPU returns a reader of the CPU time the Redis at redisURL has
// used (INFO cpu: used_cpu_user and used_cpu_sys, all its threads, not
// the children it forks to save), and a function closing its connection.
// Read around a measurement, it is what the requests cost Redis: the
// share a fleet's one Redis spends, which no server's own CPU shows.
// Other clients of the same Redis count too, so measure on a Redis of
// its own. The error says why the CPU time cannot be read (a Redis that
// refuses INFO, say).
func redisCPU(redisURL string) (read func() time.Duration, closeFn func(), err error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis CPU: %w", err)
	}
	client := redis.NewClient(opts)
	read = func() time.Duration {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		info, err := client.Info(ctx, "cpu").Result()
		if err != nil {
			return 0
		}
		d, err := parseRedisCPU(info)
		if err != nil {
			return 0
		}
		return d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := client.Info(ctx, "cpu").Result()
	if err == nil {
		_, err = parseRedisCPU(info)
	}
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("redis CPU: %w", err)
	}
	return read, func() { _ = client.Close() }, nil
}

// parseRedisCPU sums used_cpu_user and used_cpu_sys (seconds, with a
// fraction) in the text of INFO cpu.
func parseRedisCPU(info string) (time.Duration, error) {
	var total time.Duration
	found := 0
	lines := bufio.NewScanner(strings.NewReader(info))
	for lines.Scan() {
		name, value, ok := strings.Cut(strings.TrimSpace(lines.Text()), ":")
		if !ok || (name != "used_cpu_user" && name != "used_cpu_sys") {
			continue
		}
		s, err := strconv.ParseFloat(value, 64)
		if err != nil || s < 0 {
			return 0, fmt.Errorf("INFO cpu: %s is %q", name, value)
		}
		total += time.Duration(s * float64(time.Second))
		found++
	}
	if found != 2 {
		return 0, errors.New("INFO cpu: want used_cpu_user and used_cpu_sys")
	}
	return total, nil
}
