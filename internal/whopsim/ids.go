package whopsim

import (
	"encoding/hex"
	"io"
	"sync"
)

const (
	base62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	// idBodyLen is the length of the random part of an id: Whop's observed
	// ids are prefix + 14 base62 characters (pay_6dWDN0kA5QW2hm).
	idBodyLen = 14
)

// idGen draws ids and secrets from one random source. The source is
// injectable so the seed is the same on every run and tests can predict ids.
type idGen struct {
	mu sync.Mutex
	r  io.Reader
}

// read fills b from the source. A failing source is a programming error (a
// reader that ran dry), so it panics rather than minting a weak id.
func (g *idGen) read(b []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, err := io.ReadFull(g.r, b); err != nil {
		panic("whopsim: random source failed: " + err.Error())
	}
}

// id returns prefix + "_" + 14 base62 characters.
func (g *idGen) id(prefix string) string {
	return prefix + "_" + g.base62(idBodyLen)
}

// base62 returns n characters drawn without bias: a byte's low six bits give
// 0..63 and the two values past the alphabet are drawn again.
func (g *idGen) base62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		g.read(buf)
		for _, b := range buf {
			if v := b & 63; v < 62 && len(out) < n {
				out = append(out, base62[v])
			}
		}
	}
	return string(out)
}

// hex returns n random bytes as lowercase hex.
func (g *idGen) hex(n int) string {
	b := make([]byte, n)
	g.read(b)
	return hex.EncodeToString(b)
}

// float returns a number in [0, 1), for fault rates.
func (g *idGen) float() float64 {
	var b [8]byte
	g.read(b[:])
	var u uint64
	for _, x := range b {
		u = u<<8 | uint64(x)
	}
	return float64(u>>11) / (1 << 53)
}

// shuffle permutes n items with Fisher–Yates, calling swap like sort.Slice.
func (g *idGen) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		j := int(g.float() * float64(i+1))
		swap(i, j)
	}
}
