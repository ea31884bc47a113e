package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/simctl"
)

const tokenHelp = `Usage: whopsim token [--user @alice] [--experience exp_…] [flags]

Prints a user token as Whop's proxy sends it to your app in the
x-whop-user-token header: an ES256 JWT from the running sandbox's key
(iss urn:whopcom:exp-proxy, aud the app id, sub the user id), which an app
verifies with the key set at <sandbox>/.well-known/jwks.json or the key
` + "`whopsim env`" + ` prints. Only the token goes to stdout, so it can be captured;
what it says goes to stderr. With --experience it also says what access
the user has there, as the app's access check will find.

Examples:
  curl -H "x-whop-user-token: $(whopsim token --user @alice)" http://localhost:3000/experiences/exp_…
  whopsim token --user @nina --experience exp_… --format json
  whopsim token --fault expired     # a token an app must refuse

Flags:
`

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", tokenHelp, stderr)
	client := sandboxFlag(fs)
	var req simctl.TokenRequest
	fs.StringVar(&req.User, "user", "", "@username or user id (default: the user selected on the sandbox's page)")
	fs.StringVar(&req.ExperienceID, "experience", "", "also report the user's access to this experience")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the token is valid (at most 24h; Whop's last minutes)")
	fault := fs.String("fault", "", "spoil it: expired, wrong_aud, wrong_iss, no_kid or unknown_kid")
	format := fs.String("format", "token", "token (just the JWT), header (x-whop-user-token: …) or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	if *ttl < time.Second {
		return errors.New("--ttl must be at least 1s")
	}
	req.TTLSeconds, req.Fault = int64(*ttl/time.Second), whopsim.TokenFault(*fault)
	tok, err := client().Token(ctx, req)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return simctl.WriteJSON(stdout, tok)
	case "header":
		fmt.Fprintf(stdout, "%s: %s\n", whopsim.HeaderUserToken, tok.Token)
	case "token":
		fmt.Fprintln(stdout, tok.Token)
	default:
		return fmt.Errorf("--format %q: want token, header or json", *format)
	}
	// The expiry is the token's own exp, which for a spoiled token is not
	// a promise that it works.
	switch whopsim.TokenFault(*fault) {
	case whopsim.TokenOK, whopsim.TokenNoKID:
		fmt.Fprintf(stderr, "A token for @%s (%s), app %s, valid until %s.\n", tok.Username, tok.UserID, tok.AppID, tok.ExpiresAt)
	case whopsim.TokenExpired:
		fmt.Fprintf(stderr, "An expired token for @%s (%s), app %s: it expired at %s.\n", tok.Username, tok.UserID, tok.AppID, tok.ExpiresAt)
	default:
		fmt.Fprintf(stderr, "A token for @%s (%s), app %s, spoiled (%s), which an app must refuse; exp %s.\n",
			tok.Username, tok.UserID, tok.AppID, *fault, tok.ExpiresAt)
	}
	if tok.ExperienceID != "" {
		fmt.Fprintf(stderr, "Access to %s: %s.\n", tok.ExperienceID, tok.AccessLevel)
	}
	return nil
}
