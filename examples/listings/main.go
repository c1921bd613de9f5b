// Command listings is a small real-estate website rendered in Go that
// captures leads with the rechat Go SDK: a listing page with a contact
// form bound by Leads.Form, and listing views tracked on the visitor's
// timeline once they are a lead.
//
// Run a leadwire server, then point the site at it:
//
//	go run ./cmd/leadwire serve --db ./leadwire.db
//	go run ./cmd/leadwire channel list --db ./leadwire.db     # the Website channel id
//	go run ./examples/listings -api http://127.0.0.1:8080 -channel CHANNEL_ID
//
// Flags (each also read from an environment variable):
//
//	-addr     LISTINGS_ADDR     where the site listens (default 127.0.0.1:3000)
//	-api      LEADWIRE_API      the API base URL (default http://127.0.0.1:8080)
//	-channel  LEADWIRE_CHANNEL  the lead-channel id (required)
//	-outbox   LEADWIRE_OUTBOX   the offline outbox directory (default: under the user cache dir)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leadwire/leadwire/rechat"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "listings:", err)
		os.Exit(1)
	}
}

// run parses args (with defaults from getenv), serves the site until ctx
// is done and sends its base URL on listening once it accepts requests.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, listening chan<- string) error {
	fs := flag.NewFlagSet("listings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	orDefault := func(env, def string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	addr := fs.String("addr", orDefault("LISTINGS_ADDR", "127.0.0.1:3000"), "where the site listens [LISTINGS_ADDR]")
	api := fs.String("api", orDefault("LEADWIRE_API", "http://127.0.0.1:8080"), "API base URL [LEADWIRE_API]")
	channel := fs.String("channel", getenv("LEADWIRE_CHANNEL"), "lead-channel id [LEADWIRE_CHANNEL]")
	outbox := fs.String("outbox", getenv("LEADWIRE_OUTBOX"), "offline outbox directory [LEADWIRE_OUTBOX]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *channel == "" {
		fs.Usage()
		return errors.New("-channel (or LEADWIRE_CHANNEL) is required: see `leadwire channel list`")
	}

	sdk, err := rechat.NewSdk(rechat.Settings{APIURL: *api, OfflineSync: rechat.OfflineSyncSettings{Dir: *outbox}})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sdk.Close(closeCtx); err != nil {
			log.Warn("leads left in the outbox for the next start", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newSite(sdk, rechat.Channel{LeadChannel: *channel}, log), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	log.Info("listings site", "url", url, "api", *api)
	if listening != nil {
		listening <- url
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
