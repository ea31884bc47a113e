package billing

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivershared/uniquestates"
	"github.com/riverqueue/river/rivertype"
)

// The ledger's settle statement writes the revenue-share job's river_job
// row itself, in the one statement that fulfils a purchase (no transaction
// held open across round trips for River's insert). RiverJobRow computes
// that row as River's InsertTx would; TestRiverJobRowIsRiversOwn inserts a
// job both ways and compares the rows, so an upgrade of River that changes
// its unique keys fails a test instead of letting a job in twice. (It could
// not pay twice anyway: a share is UNIQUE by its payment, and Whop
// deduplicates its transfer by the share's idempotence key.)

// errJobRowOptions is an insert option RiverJobRow does not reproduce.
var errJobRowOptions = errors.New("billing: RiverJobRow covers MaxAttempts and UniqueOpts{ByArgs: true} only")

// RiverJobRow is the river_job row River's InsertTx writes for args with
// opts to run now, on a client whose MaxAttempts is clientMaxAttempts: its
// kind, JSON arguments, attempts, priority and queue and, with
// UniqueOpts{ByArgs: true}, River's unique key (SHA-256 of "&kind=" and the
// kind, "&args=" and the arguments' JSON object with its keys sorted) and
// unique states (River's default set).
func RiverJobRow(args river.JobArgs, opts river.InsertOpts, clientMaxAttempts int) (ledger.JobRow, error) {
	u := opts.UniqueOpts
	if !opts.ScheduledAt.IsZero() || opts.Pending || opts.Queue != "" || opts.Priority != 0 || opts.Tags != nil ||
		len(opts.Metadata) > 0 || u.ByPeriod != 0 || u.ByQueue || u.ByState != nil || u.ExcludeKind {
		return ledger.JobRow{}, errJobRowOptions
	}
	if _, ok := args.(river.JobArgsWithInsertOpts); ok {
		return ledger.JobRow{}, errJobRowOptions
	}
	encoded, err := json.Marshal(args)
	if err != nil {
		return ledger.JobRow{}, fmt.Errorf("billing: job row: %w", err)
	}
	row := ledger.JobRow{Kind: args.Kind(), Args: encoded, MaxAttempts: int16(cmp.Or(opts.MaxAttempts, clientMaxAttempts)),
		Priority: 1, Queue: river.QueueDefault}
	if u.ByArgs {
		sorted, err := sortedObject(encoded)
		if err != nil {
			return ledger.JobRow{}, fmt.Errorf("billing: job row: %w", err)
		}
		sum := sha256.Sum256([]byte("&kind=" + row.Kind + "&args=" + sorted))
		row.UniqueKey = sum[:]
		row.UniqueStates = int32(uniquestates.UniqueStatesToBitmask(rivertype.UniqueOptsByStateDefault()))
	}
	return row, nil
}

// sortedObject is a JSON object with its keys in order and its values as
// they were encoded (compact), each key quoted as River quotes it: as is,
// unless it holds a byte JSON must escape.
func sortedObject(encoded []byte) (string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(encoded, &fields); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendKey(out, k)
		out = append(out, ':')
		out = append(out, fields[k]...)
	}
	return string(append(out, '}')), nil
}

func appendKey(out []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < ' ' || c > 0x7f || c == '"' || c == '\\' {
			quoted, _ := json.Marshal(k) // a string always encodes
			return append(out, quoted...)
		}
	}
	out = append(out, '"')
	out = append(out, k...)
	return append(out, '"')
}
