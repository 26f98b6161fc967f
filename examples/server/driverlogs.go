package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/tracelog"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// The store clients' own messages go through the server's zerolog logger,
// as JSON like every other line on stderr: go-redis's (its pool's dial
// failures, among others) through redis.SetLogger, pgx's through a
// tracelog.TraceLog at warn level (failed statements and connections).

// redisLogger is go-redis's logger: one for the process, as go-redis has
// one, writing to the logger of the last server opened.
type redisLogger struct {
	log    atomic.Pointer[zerolog.Logger]
	redact atomic.Pointer[func(string) string]
}

var (
	goRedisLogger     redisLogger
	goRedisLoggerOnce sync.Once
)

// logRedisTo sends go-redis's messages to log, with redact applied.
func logRedisTo(log zerolog.Logger, redact func(string) string) {
	goRedisLogger.log.Store(&log)
	goRedisLogger.redact.Store(&redact)
	goRedisLoggerOnce.Do(func() { redis.SetLogger(&goRedisLogger) })
}

func (l *redisLogger) Printf(_ context.Context, format string, v ...any) {
	log, redact := l.log.Load(), l.redact.Load()
	if log == nil {
		return
	}
	log.Warn().Str("component", "go-redis").Msg((*redact)(fmt.Sprintf(format, v...)))
}

// pgxLogger is a tracelog.Logger on zerolog. It logs the statement and
// the error, never the statement's arguments, which may hold records'
// data.
type pgxLogger struct {
	log    zerolog.Logger
	redact func(string) string
}

// pgxTracer returns the tracer to put in a pool's ConnConfig.Tracer.
func pgxTracer(log zerolog.Logger, redact func(string) string) *tracelog.TraceLog {
	return &tracelog.TraceLog{Logger: pgxLogger{log: log, redact: redact}, LogLevel: tracelog.LogLevelWarn}
}

func (l pgxLogger) Log(_ context.Context, level tracelog.LogLevel, msg string, data map[string]any) {
	var ev *zerolog.Event
	switch level {
	case tracelog.LogLevelError:
		ev = l.log.Error()
	case tracelog.LogLevelWarn:
		ev = l.log.Warn()
	case tracelog.LogLevelInfo:
		ev = l.log.Info()
	default:
		ev = l.log.Debug()
	}
	ev = ev.Str("component", "pgx")
	for k, v := range data {
		switch k {
		case "args":
			continue // the statement's arguments: records' data, digests
		case "time":
			k = "duration" // how long it took; "time" is the log line's
		case "err":
			if err, ok := v.(error); ok {
				ev = ev.Str("error", l.redact(err.Error()))
				continue
			}
		}
		ev = ev.Str(k, l.redact(fmt.Sprint(v)))
	}
	ev.Msg(msg)
}
