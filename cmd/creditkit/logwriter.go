package main

import (
	"io"
	"sync"
)

// lineBatcher sits between slog and the process's stderr. Write copies the
// line into a pending buffer and returns; one goroutine writes whatever has
// piled up in a single write call. Idle, a line goes out at once (there is no
// timer and no added delay); under load, the lines that arrive while one
// write is in progress go out together in the next, so a burst of a thousand
// requests costs a handful of syscalls instead of a thousand. Before this,
// the request log's write calls, made under slog's lock, were 7 % of the
// app's CPU on the webhook repeat path (`go run ./cmd/bench -profile`).
//
// Nothing is dropped: when more than limit bytes are pending (the reader of
// stderr is slower than the app), Write waits for room. What a SIGKILL loses
// is at most the lines accepted during the last write call; Close writes out
// everything accepted before it returns.
type lineBatcher struct {
	w     io.Writer
	limit int

	mu      sync.Mutex
	more    sync.Cond // the flusher waits here for lines
	room    sync.Cond // writers wait here while pending is full
	pending []byte
	spare   []byte // the buffer the flusher handed back, reused
	closed  bool
	done    chan struct{}
}

func newLineBatcher(w io.Writer, limit int) *lineBatcher {
	b := &lineBatcher{w: w, limit: limit, done: make(chan struct{})}
	b.more.L, b.room.L = &b.mu, &b.mu
	go b.flush()
	return b
}

func (b *lineBatcher) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) >= b.limit && !b.closed {
		b.room.Wait()
	}
	if b.closed {
		// After Close (the last lines of a shutdown), write straight through
		// once the flusher has written everything before them; the lock
		// keeps such lines whole and in order.
		b.mu.Unlock()
		<-b.done
		b.mu.Lock()
		return b.w.Write(p)
	}
	b.pending = append(b.pending, p...)
	b.more.Signal()
	return len(p), nil
}

func (b *lineBatcher) flush() {
	defer close(b.done)
	b.mu.Lock()
	for {
		for len(b.pending) == 0 && !b.closed {
			b.more.Wait()
		}
		if len(b.pending) == 0 {
			b.mu.Unlock()
			return
		}
		batch := b.pending
		b.pending = b.spare[:0]
		b.mu.Unlock()
		// A failed write (stderr closed) cannot be reported to anyone who
		// would read it; the lines are gone either way.
		_, _ = b.w.Write(batch)
		b.mu.Lock()
		b.spare = batch
		b.room.Broadcast()
	}
}

// Close writes out every line accepted so far and returns when it is written.
// Lines logged afterwards are written directly.
func (b *lineBatcher) Close() error {
	b.mu.Lock()
	b.closed = true
	b.more.Signal()
	b.room.Broadcast()
	b.mu.Unlock()
	<-b.done
	return nil
}
