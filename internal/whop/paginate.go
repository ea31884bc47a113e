package whop

import (
	"context"
	"errors"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// queryBuilder writes v1 query strings the way Whop's official client does:
// arrays as repeated "key[]" parameters, times as ISO 8601 with milliseconds.
type queryBuilder url.Values

func (q queryBuilder) set(key, value string) {
	if value != "" {
		url.Values(q).Set(key, value)
	}
}

func (q queryBuilder) list(key string, values []string) {
	for _, v := range values {
		if v != "" {
			url.Values(q).Add(key+"[]", v)
		}
	}
}

func (q queryBuilder) time(key string, t time.Time) {
	if !t.IsZero() {
		url.Values(q).Set(key, t.UTC().Format(isoMillis))
	}
}

// isoMillis is the timestamp layout v1 uses: "2023-12-01T05:00:00.401Z".
const isoMillis = "2006-01-02T15:04:05.000Z07:00"

func stringsOf[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// errCursorLoop stops a listing whose server hands back the cursor it was
// given, which would otherwise page forever.
var errCursorLoop = errors.New("whop: pagination cursor did not advance")

// page is v1's list envelope.
type page[W any] struct {
	Data     []W `json:"data"`
	PageInfo struct {
		EndCursor   *string `json:"end_cursor"`
		HasNextPage bool    `json:"has_next_page"`
	} `json:"page_info"`
}

// ItemError is one listed item that did not convert: the listing goes on
// past it, where any other error a listing yields ends it.
type ItemError struct{ Err error }

func (e *ItemError) Error() string { return e.Err.Error() }
func (e *ItemError) Unwrap() error { return e.Err }

// paginate lazily walks a v1 list. Like the official client it stops only
// when end_cursor is null or empty, not on has_next_page, because that is
// the contract Whop's own SDK relies on.
func paginate[W, T any](ctx context.Context, c *Client, endpoint string, q queryBuilder, pageSize int,
	convert func(*W) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		query := maps.Clone(url.Values(q)) // each range starts from the first page
		if query == nil {
			query = url.Values{}
		}
		if pageSize > 0 {
			query.Set("first", strconv.Itoa(pageSize))
		}
		cursor := ""
		for {
			if cursor != "" {
				query.Set("after", cursor)
			}
			var pg page[W]
			if err := c.do(ctx, request{method: http.MethodGet, url: endpoint, query: query}, &pg); err != nil {
				yield(zero, err)
				return
			}
			for i := range pg.Data {
				// One item that does not convert is yielded as an error, and
				// paging goes on if the caller does: a reconciler must not
				// stall behind one odd payment.
				item, err := convert(&pg.Data[i])
				if err != nil {
					err = &ItemError{Err: err}
				}
				if !yield(item, err) {
					return
				}
			}
			next := ""
			if pg.PageInfo.EndCursor != nil {
				next = *pg.PageInfo.EndCursor
			}
			if next == "" {
				return
			}
			if next == cursor {
				yield(zero, errCursorLoop)
				return
			}
			cursor = next
		}
	}
}
