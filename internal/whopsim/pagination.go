package whopsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Cursor pagination as REST v1 does it: first/last/after/before in,
// {data, page_info{end_cursor, start_cursor, has_next_page,
// has_previous_page}} out. The last page has end_cursor null, because the
// official client stops paging only on an empty end_cursor.
//
// A cursor carries a position in the list's order (the sort values of the
// record it was cut at), not the record: a record that stops matching the
// filter while a client pages (a payment refunded, a membership cancelled)
// leaves its position behind, and the next page goes on from there instead
// of from the top, so nothing is listed twice or skipped.

const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// position is where a record sits in a list's order: At and Seq are
// whichever sort values the list uses (the zero value when it uses none),
// ID is the record's and the last tie-break.
type position struct {
	At  time.Time `json:"t,omitzero"`
	Seq int64     `json:"n,omitempty"`
	ID  string    `json:"id"`
}

// listOrder is how one list sorts its records, and so what its cursors
// mean: a cursor names the order it was given out for, and another order
// refuses it rather than reading its position as one of its own.
type listOrder struct {
	name    string // e.g. "payments/paid_at/desc"
	compare func(a, b position) int
}

// cursor is a position as the API hands it out, opaque to clients.
type cursor struct {
	Order string `json:"o"`
	position
}

func (o listOrder) encode(p position) string {
	raw, _ := json.Marshal(cursor{Order: o.name, position: p})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (o listOrder) decode(c string) (position, error) {
	var cur cursor
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		err = json.Unmarshal(raw, &cur)
	}
	if err != nil || cur.ID == "" {
		return position{}, badRequest("cursor %q is not one this API gave out", c)
	}
	if cur.Order != o.name {
		return position{}, badRequest("cursor %q was given out for another list or order (%s, not %s)", c, cur.Order, o.name)
	}
	return cur.position, nil
}

// paginate cuts one page out of ps (already filtered and in o's order) and
// returns the ids on it with its page_info.
func paginate(r *http.Request, o listOrder, ps []position) ([]string, obj, error) {
	q := r.URL.Query()
	size := func(name string) (int, error) {
		v := q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, badRequest("%s must be a positive integer", name)
		}
		return min(n, maxPageSize), nil
	}
	first, err := size("first")
	if err != nil {
		return nil, nil, err
	}
	last, err := size("last")
	if err != nil {
		return nil, nil, err
	}
	lo, hi := 0, len(ps)
	// after: the records past the position, whether or not its record is
	// still listed; before: those short of it.
	if c := q.Get("after"); c != "" {
		at, err := o.decode(c)
		if err != nil {
			return nil, nil, err
		}
		lo = sort.Search(len(ps), func(i int) bool { return o.compare(ps[i], at) > 0 })
	}
	if c := q.Get("before"); c != "" {
		at, err := o.decode(c)
		if err != nil {
			return nil, nil, err
		}
		hi = sort.Search(len(ps), func(i int) bool { return o.compare(ps[i], at) >= 0 })
	}
	switch {
	case last > 0 && first == 0:
		lo = max(lo, hi-last)
	default:
		if first == 0 {
			first = defaultPageSize
		}
		hi = min(hi, lo+first)
	}
	if lo > hi {
		lo = hi
	}
	page := ps[lo:hi]
	info := obj{"has_next_page": hi < len(ps), "has_previous_page": lo > 0,
		"start_cursor": nil, "end_cursor": nil}
	if len(page) > 0 {
		info["start_cursor"] = o.encode(page[0])
		if hi < len(ps) {
			info["end_cursor"] = o.encode(page[len(page)-1])
		}
	}
	ids := make([]string, len(page))
	for i, p := range page {
		ids[i] = p.ID
	}
	return ids, info, nil
}
