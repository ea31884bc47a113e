package whopsim

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
)

// Cursor pagination as REST v1 does it: first/last/after/before in,
// {data, page_info{end_cursor, start_cursor, has_next_page,
// has_previous_page}} out. The last page has end_cursor null, because the
// official client stops paging only on an empty end_cursor.

const (
	defaultPageSize = 25
	maxPageSize     = 100
)

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", badRequest("cursor %q is not one this API gave out", c)
	}
	return string(b), nil
}

// paginate cuts one page out of ids (already filtered and ordered) and
// returns it with its page_info.
func paginate(r *http.Request, ids []string) ([]string, obj, error) {
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
	lo, hi := 0, len(ids)
	if c := q.Get("after"); c != "" {
		id, err := decodeCursor(c)
		if err != nil {
			return nil, nil, err
		}
		// A cursor past a record that no longer matches starts from the top
		// of what is left rather than failing; records are never deleted.
		if i := slices.Index(ids, id); i >= 0 {
			lo = i + 1
		}
	}
	if c := q.Get("before"); c != "" {
		id, err := decodeCursor(c)
		if err != nil {
			return nil, nil, err
		}
		if i := slices.Index(ids, id); i >= 0 {
			hi = i
		}
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
	page := ids[lo:hi]
	info := obj{"has_next_page": hi < len(ids), "has_previous_page": lo > 0,
		"start_cursor": nil, "end_cursor": nil}
	if len(page) > 0 {
		info["start_cursor"] = encodeCursor(page[0])
		if hi < len(ids) {
			info["end_cursor"] = encodeCursor(page[len(page)-1])
		}
	}
	return page, info, nil
}
