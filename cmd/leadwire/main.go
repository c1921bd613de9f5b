// Command leadwire runs the lead-capture server and manages its database.
//
//	leadwire serve [--addr 127.0.0.1:8080] [--db ./leadwire.db | postgres://USER@HOST/DB] [--max-body 65536] [--max-leads 100] [--write-timeout 10s] [--secure-cookies] [--trusted-proxy CIDR ...] [--disposable-domains FILE]
//	               [--delivery-timeout 10s] [--delivery-first-retry 10s]
//	               [--smtp-host HOST] [--smtp-port 587] [--smtp-user USER] [--smtp-from ADDRESS] [--smtp-starttls mandatory] [--inbox-url URL]
//	leadwire channel create --db PATH --name NAME [--brand-id ID] [--user-id ID] [--allowed-origin ORIGIN ...]
//	leadwire channel list --db PATH [--json]
//	leadwire channel update --db PATH --channel ID [--screening on|off] [--address-rate N] [--channel-burst N] [--channel-rate N] [--min-form-time 2s] [--disable SIGNAL ...] [--enable SIGNAL ...] [--captcha turnstile|hcaptcha|recaptcha|none --captcha-secret KEY [--captcha-verify-url URL]]
//	leadwire leads list --db PATH [--channel ID] [--limit N] [--json]
//	leadwire channel add-member --db PATH --channel ID --email EMAIL
//	leadwire channel members --db PATH --channel ID [--json]
//	leadwire channel remove-member --db PATH --channel ID --email EMAIL
//	leadwire user create --db PATH --email EMAIL [--name NAME] [--role owner|agent] [--mls-id ID] --password-stdin
//	leadwire user list --db PATH [--json]
//	leadwire user disable --db PATH --email EMAIL
//	leadwire token create --db PATH --user EMAIL --name NAME
//	leadwire token list --db PATH [--json]
//	leadwire token revoke --db PATH --name NAME
//	leadwire migrate --from PATH.db --to postgres://USER@HOST/DB
//	leadwire user pause|resume --db PATH --email EMAIL
//	leadwire destination add --db PATH --kind webhook|rechat|followupboss|mail --url URL [--channel ID] [--api-key-stdin]
//	leadwire destination list --db PATH [--json]
//	leadwire destination remove ID --db PATH
//	leadwire destination rotate-secret ID --db PATH
//	leadwire deliveries list --db PATH [--failed] [--status S] [--lead ID] [--limit N] [--json]
//	leadwire deliveries attempts ID --db PATH [--json]
//	leadwire deliveries retry ID --db PATH
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `leadwire captures leads from website forms into a CRM database.

Usage:
  leadwire serve [--addr 127.0.0.1:8080] [--db ./leadwire.db | postgres://USER@HOST/DB] [--max-body 65536] [--max-leads 100] [--write-timeout 10s] [--secure-cookies] [--trusted-proxy CIDR ...] [--disposable-domains FILE]
                 [--delivery-timeout 10s] [--delivery-first-retry 10s]
                 [--smtp-host HOST] [--smtp-port 587] [--smtp-user USER] [--smtp-from ADDRESS] [--smtp-starttls mandatory] [--inbox-url URL]
  leadwire channel create --db PATH --name NAME [--brand-id ID] [--user-id ID] [--allowed-origin ORIGIN ...]
  leadwire channel list --db PATH [--json]
  leadwire channel update --db PATH --channel ID [--screening on|off] [--address-rate N] [--channel-burst N] [--channel-rate N] [--min-form-time 2s] [--disable SIGNAL ...] [--enable SIGNAL ...] [--captcha turnstile|hcaptcha|recaptcha|none --captcha-secret KEY [--captcha-verify-url URL]]
  leadwire leads list --db PATH [--channel ID] [--limit N] [--json]
  leadwire channel add-member --db PATH --channel ID --email EMAIL
  leadwire channel members --db PATH --channel ID [--json]
  leadwire channel remove-member --db PATH --channel ID --email EMAIL
  leadwire user create --db PATH --email EMAIL [--name NAME] [--role owner|agent] [--mls-id ID] --password-stdin
  leadwire user list --db PATH [--json]
  leadwire user disable --db PATH --email EMAIL
  leadwire token create --db PATH --user EMAIL --name NAME
  leadwire token list --db PATH [--json]
  leadwire token revoke --db PATH --name NAME
  leadwire migrate --from PATH.db --to postgres://USER@HOST/DB
  leadwire user pause|resume --db PATH --email EMAIL
  leadwire destination add --db PATH --kind webhook|rechat|followupboss|mail --url URL [--channel ID] [--api-key-stdin]
  leadwire destination list --db PATH [--json]
  leadwire destination remove ID --db PATH
  leadwire destination rotate-secret ID --db PATH
  leadwire deliveries list --db PATH [--failed] [--status S] [--lead ID] [--limit N] [--json]
  leadwire deliveries attempts ID --db PATH [--json]
  leadwire deliveries retry ID --db PATH

Run "leadwire COMMAND --help" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "leadwire:", err)
		os.Exit(1)
	}
}

// run dispatches to the command named by args.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve":                     serve,
		"channel create":            channelCreate,
		"channel list":              channelList,
		"channel update":            channelUpdate,
		"leads list":                leadsList,
		"user create":               userCreate,
		"user list":                 userList,
		"user disable":              userDisable,
		"token create":              tokenCreate,
		"token list":                tokenList,
		"token revoke":              tokenRevoke,
		"channel add-member":        channelAddMember,
		"channel members":           channelMembers,
		"channel remove-member":     channelRemoveMember,
		"migrate":                   migrateCmd,
		"destination add":           destinationAdd,
		"destination list":          destinationList,
		"destination remove":        destinationRemove,
		"destination rotate-secret": destinationRotateSecret,
		"deliveries list":           deliveriesList,
		"deliveries attempts":       deliveriesAttempts,
		"deliveries retry":          deliveriesRetry,
		"user pause":                userPause,
		"user resume":               userResume,
	}
	for n := 2; n >= 1; n-- {
		if len(args) >= n {
			if cmd, ok := commands[strings.Join(args[:n], " ")]; ok {
				return cmd(ctx, args[n:], stdout, stderr)
			}
		}
	}
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" || (len(args) == 2 && isHelp(args[1])) {
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", strings.Join(args, " "))
}

// newFlags returns a flag set for a command; its errors go to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: leadwire %s\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, sending --help to stdout. Flags not given on the
// command line take the value of their environment variable in env
// (flag name -> variable), when it is set.
func parse(fs *flag.FlagSet, args []string, stdout io.Writer, env map[string]string) error {
	for _, a := range args {
		if isHelp(a) {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, variable := range env {
		if v, ok := os.LookupEnv(variable); ok && !given[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s=%q: %v", variable, v, err)
			}
		}
	}
	return nil
}

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }
