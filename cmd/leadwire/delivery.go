package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
)

// idArg takes the id a command names as its first argument ("deliveries
// retry ID") off args.
func idArg(name string, args []string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		for _, a := range args {
			if isHelp(a) {
				return "", args, nil // the flags print the usage
			}
		}
		return "", nil, fmt.Errorf("%s: give the id, as in leadwire %s ID", name, name)
	}
	return args[0], args[1:], nil
}

func destinationAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("destination add", "Adds a destination every new lead of a channel (or of every channel) is delivered to "+
		"and prints its id; for a webhook, then its signing secret, shown this once.", stderr)
	dbPath := dbFlag(fs)
	d := &leadwire.Destination{}
	fs.StringVar(&d.Kind, "kind", "", "webhook, rechat, followupboss or mail (required)")
	fs.StringVar(&d.URL, "url", "", "where leads are sent: the receiver, a Rechat channel's webhook, Follow Up Boss's API "+
		"(its events API when none); for mail, mailto:ADDRESS,... of who hears of every lead beside its agents")
	fs.StringVar(&d.ChannelID, "channel", "", "only the leads of this channel id; none means every channel")
	keyStdin := fs.Bool("api-key-stdin", false, "read the API key (Follow Up Boss) from stdin, never a flag other users could see")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	if *keyStdin {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, maxPassword+1))
		if err != nil {
			return err
		}
		if len(b) > maxPassword {
			return fmt.Errorf("destination add: the API key is longer than %d bytes", maxPassword)
		}
		d.Secret = strings.TrimSpace(string(b))
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error {
		if err := store.CreateDestination(ctx, d); err != nil {
			return err
		}
		fmt.Fprintln(stdout, d.ID)
		if d.Kind == leadwire.KindWebhook {
			fmt.Fprintln(stdout, d.Secret)
		}
		return nil
	})
}

func destinationList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("destination list", "Lists the destinations, oldest first, without their secrets.", stderr)
	dbPath := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error {
		all, err := store.FindDestinations(ctx)
		if err != nil {
			return err
		}
		return printList(stdout, *asJSON, all, "ID\tKIND\tURL\tCHANNEL\tCREATED", func(d *leadwire.Destination) string {
			channel := d.ChannelID
			if channel == "" {
				channel = "all"
			}
			return strings.Join([]string{d.ID, d.Kind, d.URL, channel, d.CreatedAt.Local().Format(time.DateTime)}, "\t")
		})
	})
}

func destinationRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	id, args, err := idArg("destination remove", args)
	if err != nil {
		return err
	}
	fs := newFlags("destination remove ID", "Removes a destination with its deliveries and their attempts.", stderr)
	dbPath := dbFlag(fs)
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error { return store.RemoveDestination(ctx, id) })
}

func destinationRotateSecret(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	id, args, err := idArg("destination rotate-secret", args)
	if err != nil {
		return err
	}
	fs := newFlags("destination rotate-secret ID", fmt.Sprintf("Gives a webhook destination a new signing secret and prints it; "+
		"the previous one signs too for %s, so the receiver can change to the new one meanwhile.", leadwire.SecretGrace), stderr)
	dbPath := dbFlag(fs)
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error {
		d, err := store.RotateSecret(ctx, id)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, d.Secret)
		return err
	})
}

func deliveriesList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("deliveries list", "Lists deliveries, newest first.", stderr)
	dbPath := dbFlag(fs)
	var f leadwire.DeliveryFilter
	failed := fs.Bool("failed", false, "only those that failed for good (send one again with deliveries retry ID)")
	fs.StringVar(&f.Status, "status", "", "only those of this status: pending, delivered, failed or canceled")
	fs.StringVar(&f.LeadID, "lead", "", "only those of this lead id")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many; 0 for all")
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	if *failed {
		if f.Status != "" && f.Status != leadwire.DeliveryFailed {
			return errors.New("deliveries list: --failed and --status " + f.Status + " contradict each other")
		}
		f.Status = leadwire.DeliveryFailed
	}
	if f.Limit < 0 {
		return errors.New("--limit must not be negative")
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error {
		all, err := store.FindDeliveries(ctx, f)
		if err != nil {
			return err
		}
		return printList(stdout, *asJSON, all, "ID\tLEAD\tDESTINATION\tSTATUS\tATTEMPTS\tUPDATED\tLAST ERROR", func(d *leadwire.Delivery) string {
			return strings.Join([]string{d.ID, d.LeadID, d.DestinationID, d.Status, strconv.Itoa(d.Attempts),
				d.UpdatedAt.Local().Format(time.DateTime), d.LastError}, "\t")
		})
	})
}

func deliveriesAttempts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	id, args, err := idArg("deliveries attempts", args)
	if err != nil {
		return err
	}
	fs := newFlags("deliveries attempts ID", "Lists a delivery's attempts, oldest first: time, status, duration, the first bytes of the answer, the error.", stderr)
	dbPath := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error {
		all, err := store.FindAttempts(ctx, id)
		if err != nil {
			return err
		}
		return printList(stdout, *asJSON, all, "AT\tSTATUS\tDURATION\tANSWER\tERROR", func(a *leadwire.Attempt) string {
			return strings.Join([]string{a.At.Local().Format(time.DateTime), strconv.Itoa(a.StatusCode), a.Duration.String(),
				strconv.Quote(a.Response), a.Error}, "\t")
		})
	})
}

func deliveriesRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	id, args, err := idArg("deliveries retry", args)
	if err != nil {
		return err
	}
	fs := newFlags("deliveries retry ID", "Sends a failed or canceled delivery again: a running server attempts it within a second, "+
		"retrying as for a new one.", stderr)
	dbPath := dbFlag(fs)
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error { return store.RetryDelivery(ctx, id) })
}

func userPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return setPaused(ctx, "user pause", "Pauses an agent: they get no lead in turn until resumed; leads assigned to them by name still reach them.", true, args, stdout, stderr)
}

func userResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return setPaused(ctx, "user resume", "Resumes a paused agent: they get leads in turn again.", false, args, stdout, stderr)
}

func setPaused(ctx context.Context, name, synopsis string, paused bool, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(name, synopsis, stderr)
	dbPath := dbFlag(fs)
	email := fs.String("email", "", "the user's email (required)")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	return onDeliveries(ctx, *dbPath, func(store leadwire.DeliveryService) error { return store.PauseUser(ctx, *email, paused) })
}
