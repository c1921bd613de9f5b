package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadwire/leadwire"
)

// maxPassword bounds what --password-stdin reads.
const maxPassword = 4096

// printList prints items as one JSON array, or as a table of header and
// one row each.
func printList[T any](w io.Writer, asJSON bool, items []T, header string, row func(T) string) error {
	if asJSON {
		if items == nil {
			items = []T{} // an empty array, not null
		}
		return printJSON(w, items)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		fmt.Fprintln(tw, row(it))
	}
	return tw.Flush()
}

func userCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user create", "Creates a user who signs in to work leads and prints the user's id. The password is read from stdin.", stderr)
	dbPath := dbFlag(fs)
	u := &leadwire.User{}
	fs.StringVar(&u.Email, "email", "", "the user's email, which they sign in with (required)")
	fs.StringVar(&u.Name, "name", "", "the user's name")
	fs.StringVar(&u.MLSID, "mls-id", "", "the agent's id in their MLS: leads whose assignee names it go to them")
	role := fs.String("role", string(leadwire.RoleAgent), "owner (sees and does everything) or agent (sees their leads and their channels')")
	fromStdin := fs.Bool("password-stdin", false, "read the password from stdin (required: a password is never a flag, which other users could see)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	if !*fromStdin {
		return errors.New("user create: give the password on stdin with --password-stdin")
	}
	b, err := io.ReadAll(io.LimitReader(os.Stdin, maxPassword+1))
	if err != nil {
		return err
	}
	if len(b) > maxPassword {
		return fmt.Errorf("user create: the password is longer than %d bytes", maxPassword)
	}
	// One line, as echo and a password manager give it.
	password := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	u.Role = leadwire.Role(*role)
	// Like channel create, it creates the database: the owner can be made
	// before the server first runs.
	return onStore(ctx, *dbPath, true, func(store store) error {
		if err := store.CreateUser(ctx, u, password); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, u.ID)
		return err
	})
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user list", "Lists the users, oldest first.", stderr)
	dbPath := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error {
		users, err := store.FindUsers(ctx)
		if err != nil {
			return err
		}
		return printList(stdout, *asJSON, users, "ID\tEMAIL\tNAME\tROLE\tMLS ID\tSTATE\tCREATED", func(u *leadwire.User) string {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			return strings.Join([]string{u.ID, u.Email, u.Name, string(u.Role), u.MLSID, state, u.CreatedAt.Local().Format(time.DateTime)}, "\t")
		})
	})
}

func userDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user disable", "Disables a user: their tokens and sessions stop working at once, also on a running server.", stderr)
	dbPath := dbFlag(fs)
	email := fs.String("email", "", "the user's email (required)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error { return store.DisableUser(ctx, *email) })
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", "Creates an API token that acts as a user and prints it. It is shown this once: only a hash of it is stored.", stderr)
	dbPath := dbFlag(fs)
	email := fs.String("user", "", "email of the user the token acts as (required)")
	name := fs.String("name", "", "a name saying what uses the token, unique (required)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error {
		secret, _, err := store.CreateToken(ctx, *email, *name)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, secret)
		return err
	})
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", "Lists the API tokens, oldest first, with when each was last used (to the minute); never their secrets.", stderr)
	dbPath := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error {
		tokens, err := store.FindTokens(ctx)
		if err != nil {
			return err
		}
		return printList(stdout, *asJSON, tokens, "NAME\tUSER\tCREATED\tLAST USED", func(t *leadwire.Token) string {
			used := "never"
			if !t.LastUsedAt.IsZero() {
				used = t.LastUsedAt.Local().Format(time.DateTime)
			}
			return strings.Join([]string{t.Name, t.UserEmail, t.CreatedAt.Local().Format(time.DateTime), used}, "\t")
		})
	})
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", "Revokes an API token: it stops working at once, also on a running server.", stderr)
	dbPath := dbFlag(fs)
	name := fs.String("name", "", "the token's name (required)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error { return store.RevokeToken(ctx, *name) })
}

func channelAddMember(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel add-member", "Makes a user a member of a channel: an agent then sees the channel's leads.", stderr)
	dbPath := dbFlag(fs)
	channel := fs.String("channel", "", "the channel's id (required)")
	email := fs.String("email", "", "the user's email (required)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error { return store.AddChannelMember(ctx, *channel, *email) })
}

func channelMembers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel members", "Lists the members of a channel, by email.", stderr)
	dbPath := dbFlag(fs)
	channel := fs.String("channel", "", "the channel's id (required)")
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error {
		users, err := store.ChannelMembers(ctx, *channel)
		if err != nil {
			return err
		}
		return printList(stdout, *asJSON, users, "EMAIL\tNAME\tROLE", func(u *leadwire.User) string {
			return strings.Join([]string{u.Email, u.Name, string(u.Role)}, "\t")
		})
	})
}

func channelRemoveMember(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel remove-member", "Removes a user from a channel's members: an agent then no longer sees the channel's leads.", stderr)
	dbPath := dbFlag(fs)
	channel := fs.String("channel", "", "the channel's id (required)")
	email := fs.String("email", "", "the user's email (required)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onStore(ctx, *dbPath, false, func(store store) error { return store.RemoveChannelMember(ctx, *channel, *email) })
}
