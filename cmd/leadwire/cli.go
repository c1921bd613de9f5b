package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/sqlite"
	"github.com/leadwire/leadwire/wire"
)

// dbFlag adds the --db flag every command has; dbEnv lets it come from
// LEADWIRE_DB.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "./leadwire.db", "SQLite database file (env LEADWIRE_DB)")
}

var dbEnv = map[string]string{"db": "LEADWIRE_DB"}

// stringList is a flag that may be repeated.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func channelCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel create", "Creates a lead channel and prints its id.", stderr)
	dbPath := dbFlag(fs)
	c := &leadwire.Channel{}
	fs.StringVar(&c.Name, "name", "", "name of the channel (required)")
	fs.StringVar(&c.BrandID, "brand-id", "", "brand whose contacts the channel's leads join")
	fs.StringVar(&c.UserID, "user-id", "", "user who owns the channel's leads")
	var origins stringList
	fs.Var(&origins, "allowed-origin", "origin (https://example.com) whose pages may post; repeat for several; none means any")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	c.AllowedOrigins = origins
	store, err := sqlite.Open(*dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CreateChannel(ctx, c); err != nil {
		return errors.New(leadwire.ErrorMessage(err))
	}
	_, err = fmt.Fprintln(stdout, c.ID)
	return err
}

func channelList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel list", "Lists the lead channels, oldest first.", stderr)
	dbPath := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	store, err := openExisting(*dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	channels, err := store.FindChannels(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if channels == nil {
			channels = []*leadwire.Channel{} // an empty array, not null
		}
		return printJSON(stdout, channels)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tBRAND\tUSER\tALLOWED ORIGINS\tCREATED")
	for _, c := range channels {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.BrandID, c.UserID,
			strings.Join(c.AllowedOrigins, " "), c.CreatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func leadsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("leads list", "Lists leads, newest first, with their timelines.", stderr)
	dbPath := dbFlag(fs)
	var f leadwire.LeadFilter
	fs.StringVar(&f.ChannelID, "channel", "", "only leads of this channel id")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many leads; 0 for all")
	asJSON := fs.Bool("json", false, "print one JSON array of leads in the API's lead shape")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	if f.Limit < 0 {
		return errors.New("--limit must not be negative")
	}
	store, err := openExisting(*dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	if f.ChannelID != "" {
		if _, err := store.FindChannelByID(ctx, f.ChannelID); err != nil {
			return fmt.Errorf("--channel: %s", leadwire.ErrorMessage(err))
		}
	}
	leads, err := store.FindLeads(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		docs := make([]listedLead, len(leads))
		for i, l := range leads {
			doc, err := wire.NewLeadDoc(l)
			if err != nil {
				return err
			}
			docs[i] = listedLead{LeadDoc: doc, Timeline: doc.Timeline}
			if docs[i].Timeline == nil {
				docs[i].Timeline = []wire.ActivityDoc{}
			}
		}
		return printJSON(stdout, docs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tID\tNAME\tEMAIL\tPHONE\tADDRESS\tSOURCE\tACTIVITIES")
	for _, l := range leads {
		p := l.Payload
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", l.CreatedAt.Local().Format(time.DateTime), l.ID,
			strings.TrimSpace(p.FirstName+" "+p.LastName), p.Email, p.PhoneNumber, p.Address.Line(), p.SourceType,
			len(l.Timeline))
	}
	return tw.Flush()
}

// listedLead is a lead in the API's shape with its timeline always
// present, an empty list for a lead with no activity.
type listedLead struct {
	wire.LeadDoc
	Timeline []wire.ActivityDoc `json:"timeline"`
}

// openExisting opens the database at path for reading, refusing to create
// an empty one where the user mistyped the path.
func openExisting(path string) (*sqlite.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s (give --db or LEADWIRE_DB the file leadwire serve uses)", path)
	}
	return sqlite.Open(path)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
