package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/deliver"
	"github.com/leadwire/leadwire/deliver/followupboss"
	"github.com/leadwire/leadwire/deliver/mail"
	"github.com/leadwire/leadwire/deliver/rechat"
	"github.com/leadwire/leadwire/deliver/webhook"
	"github.com/leadwire/leadwire/postgres"
	"github.com/leadwire/leadwire/screen"
	"github.com/leadwire/leadwire/server"
	"github.com/leadwire/leadwire/sqlite"
	"github.com/leadwire/leadwire/wire"
)

// shutdownGrace is how long in-flight requests may take to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 30 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Runs the lead-capture HTTP API on a SQLite database (created when missing) or a PostgreSQL one, which several servers may share.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (env LEADWIRE_ADDR)")
	dbPath := dbFlag(fs)
	maxBody := fs.Int64("max-body", server.DefaultMaxBody, "largest accepted request body in bytes (env LEADWIRE_MAX_BODY)")
	maxLeads := fs.Int("max-leads", wire.DefaultMaxLeads, "most leads one request (an XML lead list) may create (env LEADWIRE_MAX_LEADS)")
	writeTimeout := fs.Duration("write-timeout", sqlite.DefaultWriteTimeout,
		"longest a capture waits to be stored before it answers 503 (env LEADWIRE_WRITE_TIMEOUT)")
	deliveryTimeout := fs.Duration("delivery-timeout", deliver.DefaultTimeout,
		"longest one delivery attempt may take before it is retried (env LEADWIRE_DELIVERY_TIMEOUT)")
	firstRetry := fs.Duration("delivery-first-retry", deliver.DefaultFirstRetry,
		"wait before a failed delivery's first retry; each next wait doubles (env LEADWIRE_DELIVERY_FIRST_RETRY)")
	smtp := mail.Config{}
	fs.StringVar(&smtp.Host, "smtp-host", "", "SMTP server that sends lead alerts; none sends no mail (env LEADWIRE_SMTP_HOST)")
	fs.IntVar(&smtp.Port, "smtp-port", 587, "its port (env LEADWIRE_SMTP_PORT)")
	fs.StringVar(&smtp.Username, "smtp-user", "", "user name to authenticate with; its password comes from the env LEADWIRE_SMTP_PASSWORD (env LEADWIRE_SMTP_USER)")
	fs.StringVar(&smtp.From, "smtp-from", "", "sender address of the alerts (env LEADWIRE_SMTP_FROM)")
	fs.StringVar(&smtp.TLS, "smtp-starttls", mail.TLSMandatory, "mandatory, opportunistic or none (env LEADWIRE_SMTP_STARTTLS)")
	fs.StringVar(&smtp.InboxURL, "inbox-url", "", "the inbox's public base URL, for the links in alerts; the listening address when none (env LEADWIRE_INBOX_URL)")
	secureCookies := fs.Bool("secure-cookies", false,
		"send the session cookie over HTTPS only, behind a proxy that terminates TLS (env LEADWIRE_SECURE_COOKIES)")
	var proxies stringList
	fs.Var(&proxies, "trusted-proxy", "CIDR (10.0.0.0/8) or address of a reverse proxy whose X-Forwarded-For names the client; repeat for several")
	disposable := fs.String("disposable-domains", "",
		"file of throwaway mail domains, one a line, to use instead of the built-in list (env LEADWIRE_DISPOSABLE_DOMAINS)")
	if err := parse(fs, args, stdout, map[string]string{
		"disposable-domains": "LEADWIRE_DISPOSABLE_DOMAINS",
		"addr":               "LEADWIRE_ADDR", "db": "LEADWIRE_DB", "max-body": "LEADWIRE_MAX_BODY", "max-leads": "LEADWIRE_MAX_LEADS",
		"write-timeout": "LEADWIRE_WRITE_TIMEOUT", "secure-cookies": "LEADWIRE_SECURE_COOKIES",
		"delivery-timeout": "LEADWIRE_DELIVERY_TIMEOUT", "delivery-first-retry": "LEADWIRE_DELIVERY_FIRST_RETRY",
		"smtp-host": "LEADWIRE_SMTP_HOST", "smtp-port": "LEADWIRE_SMTP_PORT", "smtp-user": "LEADWIRE_SMTP_USER",
		"smtp-from": "LEADWIRE_SMTP_FROM", "smtp-starttls": "LEADWIRE_SMTP_STARTTLS", "inbox-url": "LEADWIRE_INBOX_URL",
	}); err != nil {
		return err
	}
	if *maxBody <= 0 {
		return errors.New("--max-body must be a positive number of bytes")
	}
	if *maxLeads <= 0 {
		return errors.New("--max-leads must be a positive number of leads")
	}
	for name, d := range map[string]time.Duration{"write-timeout": *writeTimeout, "delivery-timeout": *deliveryTimeout,
		"delivery-first-retry": *firstRetry} {
		if d <= 0 {
			return fmt.Errorf("--%s must be a positive duration, like 10s", name)
		}
	}
	smtp.Password = os.Getenv("LEADWIRE_SMTP_PASSWORD")
	if smtp.Host != "" && smtp.From == "" {
		return errors.New("--smtp-from: give the sender address of the alerts")
	}
	switch smtp.TLS {
	case mail.TLSMandatory, mail.TLSOpportunistic, mail.TLSNone:
	default:
		return fmt.Errorf("--smtp-starttls %q is not one of mandatory, opportunistic, none", smtp.TLS)
	}
	trusted, err := parsePrefixes(proxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	screenCfg := screen.Config{}
	if *disposable != "" {
		if screenCfg.Disposable, err = readDomains(*disposable); err != nil {
			return fmt.Errorf("--disposable-domains: %w", err)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	started := time.Now()
	store, err := openStore(ctx, *dbPath, true)
	if err != nil {
		return err
	}
	defer store.Close()
	ensureDefaultChannel := func() (*leadwire.Channel, bool, error) { return leadwire.EnsureDefaultChannel(ctx, store) }
	switch s := store.(type) {
	case *sqlite.Store:
		s.WriteTimeout = *writeTimeout
	case *postgres.Store:
		s.WriteTimeout = *writeTimeout
		// Servers starting together on a new database make one.
		ensureDefaultChannel = func() (*leadwire.Channel, bool, error) { return s.EnsureDefaultChannel(ctx) }
	}
	// Before the claim, whose memory load would make a new channel wait.
	ch, created, err := ensureDefaultChannel()
	if err != nil {
		return err
	}
	// No owner yet: a one-time link lets the first person set one up,
	// rather than a default password anyone could try. Each start makes a
	// new one. Failing to store it (a full disk) must not keep the server
	// from taking leads.
	setupSecret, needsOwner, setupErr := store.OwnerSetupLink(ctx)
	// A SQLite file is captured into by this one process: the claim loads
	// the writer's memory in the background (seconds for a million
	// contacts), so the port opens at once, /healthz says "starting" and
	// captures wait for the load within the write timeout. PostgreSQL
	// needs no claim: any number of servers share it.
	ready := make(chan error, 1)
	if s, ok := store.(*sqlite.Store); ok {
		if err := s.ClaimWriter(); err != nil {
			return err
		}
		go func() {
			<-s.Ready()
			ready <- s.ReadyErr()
		}()
	} else {
		ready <- nil
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if created {
		log.Info("created the default channel", "name", ch.Name, "id", ch.ID)
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", dbName(*dbPath), "demo", base+"/", "inbox", base+"/inbox/",
		"channel", ch.ID, "capture_url", base+"/leads/channels/"+ch.ID+"/webhook")
	if setupErr != nil {
		log.Error("cannot make the owner setup link; restart to try again, or use leadwire user create --role owner", "err", setupErr)
	}
	if needsOwner {
		log.Warn("no owner yet: open the one-time setup link to create the owner account (or POST its token to /api/setup); "+
			"it works once, and only until the server restarts", "setup_url", base+"/inbox/setup?token="+setupSecret)
	}
	go func() {
		if err := <-ready; err != nil {
			log.Error("loading the contact index failed; the first capture loads it again", "err", err)
			return
		}
		log.Info("ready", "took", time.Since(started).Round(time.Millisecond))
	}()

	handler := server.New(server.Config{
		Leads: store, Channels: store, Contacts: store, Users: store, DemoChannelID: ch.ID, MaxBody: *maxBody, MaxLeads: *maxLeads,
		SecureCookies: *secureCookies, Health: store.Health, Logger: log,
		Screener: screen.New(screenCfg), TrustedProxies: trusted, Deliveries: store,
	})
	srv := &http.Server{
		Handler:           handler,
		MaxHeaderBytes:    server.MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long enough for a capture that waits the whole write timeout.
		WriteTimeout: max(30*time.Second, *writeTimeout+10*time.Second),
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// The inbox's event streams stay open; a shutdown ends them.
	srv.RegisterOnShutdown(handler.CloseEvents)
	// Deliveries go out from their own goroutines: a destination that
	// hangs holds its own attempts, never a capture.
	deliverers := map[string]deliver.Deliverer{
		leadwire.KindWebhook:      &webhook.Deliverer{},
		leadwire.KindRechat:       &rechat.Deliverer{},
		leadwire.KindFollowUpBoss: &followupboss.Deliverer{},
	}
	if smtp.Host != "" {
		if smtp.InboxURL == "" {
			smtp.InboxURL = base
		}
		deliverers[leadwire.KindMail] = &mail.Deliverer{Config: smtp, Router: store}
	}
	dispatcher := deliver.New(deliver.Config{
		Deliveries: store, Leads: store, Logger: log, Deliverers: deliverers,
		Timeout: *deliveryTimeout, FirstRetry: *firstRetry,
	})
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		// A SQLite store's claims on deliveries are those of a process
		// that died, since this one holds the writer's claim: due again
		// at once. In the background, as it waits for the writer's
		// memory to load.
		if sole, ok := store.(interface{ ReleaseDeliveryClaims(context.Context) error }); ok {
			if err := sole.ReleaseDeliveryClaims(dispatchCtx); err != nil && dispatchCtx.Err() == nil {
				log.Warn("releasing the deliveries of a previous run failed; they are attempted when their claims expire", "err", err)
			}
		}
		dispatcher.Run(dispatchCtx)
	}()
	defer func() { stopDispatch(); <-dispatched }() // before the store closes

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go deleteSpam(ctx, store, log)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// spamSweep is how often serve deletes the spam older than
// leadwire.SpamRetention.
const spamSweep = time.Hour

// deleteSpam deletes old spam once the store is ready and every spamSweep
// after, until ctx ends.
func deleteSpam(ctx context.Context, store store, log *slog.Logger) {
	if s, ok := store.(*sqlite.Store); ok {
		select {
		case <-s.Ready():
		case <-ctx.Done():
			return
		}
	}
	tick := time.NewTicker(spamSweep)
	defer tick.Stop()
	for {
		n, err := store.DeleteSpam(ctx, time.Now().Add(-leadwire.SpamRetention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("deleting old spam failed; trying again in an hour", "err", err)
		case n > 0:
			log.Info("deleted old spam", "leads", n, "older_than", leadwire.SpamRetention)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// parsePrefixes reads CIDRs, or single addresses, as prefixes.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, v := range list {
		v = strings.TrimSpace(v)
		if p, err := netip.ParsePrefix(v); err == nil {
			prefixes = append(prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR like 10.0.0.0/8 nor an IP address", v)
		}
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return prefixes, nil
}

// readDomains reads a domain list file.
func readDomains(path string) (*screen.Domains, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return screen.ParseDomains(f)
}
