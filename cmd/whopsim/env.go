package main

import (
	"context"
	"fmt"
	"io"

	"github.com/creditkit/creditkit/internal/whopsim/simctl"
)

const envHelp = `Usage: whopsim env [--format dotenv|json]

Prints what an app needs to talk to the running sandbox instead of Whop:
the API base URL and key, the app id, the company that owns the app and
receives its payments, the webhook secret, the user-token key set URL and
the key itself (as a JWK and as PEM), and, in JSON, the seeded
experiences, users and plans. The .env form sets the variables Whop's
official SDKs (@whop/sdk reads WHOP_BASE_URL, WHOP_API_KEY, WHOP_APP_ID,
WHOP_WEBHOOK_SECRET, WHOP_USER_TOKEN_JWKS_URL) and the Next.js template
(NEXT_PUBLIC_WHOP_APP_ID) read, and Creditkit's.

Examples:
  whopsim env >> .env
  whopsim env --format json | jq -r .user_token_pem

Flags:
`

func envCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("env", envHelp, stderr)
	client := sandboxFlag(fs)
	format := fs.String("format", "dotenv", "dotenv or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	if *format != "dotenv" && *format != "json" {
		return fmt.Errorf("--format %q: want dotenv or json", *format)
	}
	env, err := client().Env(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		return simctl.WriteJSON(stdout, env)
	}
	return simctl.WriteDotenv(stdout, env)
}
