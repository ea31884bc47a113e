package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowSink records each Write call separately and takes its time, like a
// pipe whose reader is busy.
type slowSink struct {
	mu     sync.Mutex
	writes [][]byte
	delay  time.Duration
}

func (s *slowSink) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (s *slowSink) all() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(bytes.Join(s.writes, nil)), len(s.writes)
}

func TestLineBatcherKeepsEveryLineWholeAndInOrder(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit int
	}{
		{"roomy buffer", 1 << 20},
		{"small buffer: writers wait for room", 256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sink := &slowSink{delay: 200 * time.Microsecond}
			b := newLineBatcher(sink, tt.limit)
			const writers, lines = 8, 300
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 0, 64)
					for i := range lines {
						// The caller reuses its buffer, as slog does.
						buf = fmt.Appendf(buf[:0], "writer=%d line=%d\n", w, i)
						if n, err := b.Write(buf); n != len(buf) || err != nil {
							t.Errorf("Write = %d, %v", n, err)
						}
					}
				}()
			}
			wg.Wait()
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			out, calls := sink.all()
			got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(got) != writers*lines {
				t.Fatalf("%d lines written, want %d", len(got), writers*lines)
			}
			next := make([]int, writers)
			for _, line := range got {
				var w, i int
				if _, err := fmt.Sscanf(line, "writer=%d line=%d", &w, &i); err != nil {
					t.Fatalf("torn line %q: %v", line, err)
				}
				if i != next[w] {
					t.Fatalf("writer %d: line %d after line %d", w, i, next[w]-1)
				}
				next[w]++
			}
			// 2400 lines into a sink that takes 200 µs a call: one call a
			// line would take half a second; batching must cut the calls.
			if calls >= writers*lines/4 {
				t.Fatalf("%d write calls for %d lines: lines were not batched", calls, writers*lines)
			}
			t.Logf("%d lines in %d write calls", len(got), calls)
		})
	}
}

func TestLineBatcherWritesAnIdleLineAtOnce(t *testing.T) {
	sink := &slowSink{}
	b := newLineBatcher(sink, 1<<20)
	defer b.Close()
	b.Write([]byte("first\n"))
	deadline := time.Now().Add(2 * time.Second)
	for {
		if out, _ := sink.all(); out == "first\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an idle line was not written within 2 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLineBatcherAfterClose(t *testing.T) {
	sink := &slowSink{delay: time.Millisecond}
	b := newLineBatcher(sink, 1<<20)
	for i := range 50 {
		fmt.Fprintf(b, "before %d\n", i)
	}
	b.Close()
	out, _ := sink.all()
	if strings.Count(out, "before") != 50 {
		t.Fatalf("Close returned with %d of 50 lines written", strings.Count(out, "before"))
	}
	// Shutdown's last lines still arrive, after everything before them.
	fmt.Fprintln(b, "after")
	out, _ = sink.all()
	if !strings.HasSuffix(out, "before 49\nafter\n") {
		t.Fatalf("output ends %q", out[max(0, len(out)-40):])
	}
}

// BenchmarkRequestLogLine measures one request-log line from many goroutines
// into a real file, written directly (one write call per line, under slog's
// lock) and through the batcher.
func BenchmarkRequestLogLine(b *testing.B) {
	for _, batched := range []bool{false, true} {
		b.Run(fmt.Sprintf("batched=%t", batched), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var w io.Writer = f
			var lb *lineBatcher
			if batched {
				lb = newLineBatcher(f, 1<<20)
				w = lb
			}
			log := slog.New(slog.NewJSONHandler(w, nil))
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					log.LogAttrs(context.Background(), slog.LevelInfo, "request",
						slog.String("request_id", "01JDXQ5V9M3S8W2K7F4H6T1N0B"), slog.String("method", "POST"),
						slog.String("route", "/api/webhook"), slog.String("path", "/api/webhook"),
						slog.Int("status", 200), slog.Int("bytes", 64), slog.Duration("duration", 1234567))
				}
			})
			if lb != nil {
				lb.Close()
			}
		})
	}
}
