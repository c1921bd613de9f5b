package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/wire"
)

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
	return onStore(ctx, *dbPath, true, func(store store) error {
		if err := store.CreateChannel(ctx, c); err != nil {
			return err
		}
		_, err := fmt.Fprintln(stdout, c.ID)
		return err
	})
}

func channelList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("channel list", "Lists the lead channels, oldest first.", stderr)
	dbPath := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON array")
	if err := parse(fs, args, stdout, dbEnv); err != nil {
		return err
	}
	store, err := openStore(ctx, *dbPath, false)
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
		for _, c := range channels {
			hideSecrets(c)
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

// hideSecrets replaces the channel's CAPTCHA secret, before it is
// printed, by whether one is set.
func hideSecrets(c *leadwire.Channel) {
	if c.Screening.CaptchaSecret != "" {
		c.Screening.CaptchaSecret = "(set)"
	}
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
	store, err := openStore(ctx, *dbPath, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if f.ChannelID != "" {
		if _, err := store.FindChannelByID(ctx, f.ChannelID); err != nil {
			return fmt.Errorf("--channel: %s", leadwire.ErrorMessage(err))
		}
	}
	out := bufio.NewWriter(stdout)
	if *asJSON {
		err = writeLeadsJSON(ctx, store, f, out)
	} else {
		err = writeLeadsTable(ctx, store, f, out)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// writeLeadsJSON writes the leads f selects as one JSON array in the API's
// lead shape, indented as printJSON indents, one lead at a time as the
// store reads them: listing every lead of a large CRM takes the memory of
// a few hundred.
func writeLeadsJSON(ctx context.Context, store leadwire.LeadService, f leadwire.LeadFilter, w io.Writer) error {
	n := 0
	err := store.WalkLeads(ctx, f, func(l *leadwire.Lead) error {
		doc, err := wire.NewLeadDoc(l)
		if err != nil {
			return err
		}
		listed := listedLead{LeadDoc: doc, Timeline: doc.Timeline}
		if listed.Timeline == nil {
			listed.Timeline = []wire.ActivityDoc{}
		}
		b, err := json.MarshalIndent(listed, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n" // an empty array, not null
	}
	_, err = io.WriteString(w, end)
	return err
}

// tableBlock is how many rows of the lead table are aligned together: the
// table is written a block at a time, so that its memory stays flat too.
const tableBlock = 500

// writeLeadsTable writes the leads f selects as a table, one row a lead.
func writeLeadsTable(ctx context.Context, store leadwire.LeadService, f leadwire.LeadFilter, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tID\tNAME\tEMAIL\tPHONE\tADDRESS\tSOURCE\tACTIVITIES")
	n := 0
	err := store.WalkLeads(ctx, f, func(l *leadwire.Lead) error {
		p := l.Payload
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", l.CreatedAt.Local().Format(time.DateTime), l.ID,
			strings.TrimSpace(p.FirstName+" "+p.LastName), p.Email, p.PhoneNumber, p.Address.Line(), p.SourceType,
			len(l.Timeline))
		if n++; n%tableBlock == 0 {
			return tw.Flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// listedLead is a lead in the API's shape with its timeline always
// present, an empty list for a lead with no activity.
type listedLead struct {
	wire.LeadDoc
	Timeline []wire.ActivityDoc `json:"timeline"`
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
