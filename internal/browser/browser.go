// Package browser runs one headless Chromium per test binary and gives each
// test its own tab in a fresh browser profile, so tests share the cost of
// starting the browser but never its cookies or storage.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Path is where Debian installs Chromium.
const Path = "/usr/bin/chromium"

// install tells a person how to get the browser the tests need.
const install = "the browser tests need Chromium at " + Path + "; install it with: sudo apt-get install -y chromium"

var shared struct {
	once    sync.Once
	ctx     context.Context // the browser's first tab; cancelling it ends the browser
	cancel  context.CancelFunc
	dataDir string
	err     error
}

// Run runs the tests of m and then stops the browser if a test started it.
// Call it from TestMain: os.Exit(browser.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	if shared.dataDir != "" {
		os.RemoveAll(shared.dataDir)
	}
	return code
}

// start launches Chromium once for the test binary.
func start() (context.Context, error) {
	shared.once.Do(func() {
		if _, err := exec.LookPath(Path); err != nil {
			shared.err = fmt.Errorf("%s (%w)", install, err)
			return
		}
		// TestMain has no t.TempDir, so Run removes this directory.
		shared.dataDir, shared.err = os.MkdirTemp("", "leadwire-chromium-")
		if shared.err != nil {
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(Path),
			chromedp.UserDataDir(shared.dataDir),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			// A page left for another is unloaded, never kept in the
			// back/forward cache, where its requests would go on anyway:
			// tests of leaving a page see the worst case.
			chromedp.Flag("disable-back-forward-cache", true),
		)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		shared.cancel = func() { cancelCtx(); cancelAlloc() }
		if err := chromedp.Do(ctx); err != nil {
			shared.err = fmt.Errorf("starting %s: %w (%s)", Path, err, install)
			return
		}
		shared.ctx = ctx
	})
	return shared.ctx, shared.err
}

// NewTab returns the context of a new tab in a fresh browser profile (its
// own cookies and storage), closed when the test ends. The page's console
// messages and uncaught exceptions go to the test log. A missing Chromium
// fails the test, saying how to install it.
func NewTab(t testing.TB) context.Context {
	t.Helper()
	browserCtx, err := start()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	return open(t, ctx, cancel)
}

// OpenTab returns the context of another tab in the profile of tab, so the
// two share cookies and storage, like two tabs of one visitor.
func OpenTab(t testing.TB, tab context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(tab)
	return open(t, ctx, cancel)
}

func open(t testing.TB, ctx context.Context, cancel context.CancelFunc) context.Context {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for m, err := range messages {
			if err != nil {
				return
			}
			t.Logf("page console %s: %s", m.Type, m.Text)
		}
	}()
	// The log goroutine must end before the test does: a log line after
	// the end of a test is a panic.
	t.Cleanup(func() { cancel(); <-logged })
	return ctx
}

// SetOffline makes the tab offline (navigator.onLine false, and the offline
// event) or online again. While offline, requests to URLs matching pattern
// (a URLPattern string, e.g. "http://127.0.0.1:4000/leads/*") fail as when
// the network is down; an empty pattern fails every request.
func SetOffline(ctx context.Context, offline bool, pattern string) error {
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		return err
	}
	rule := &network.Conditions{URLPattern: pattern, Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{rule},
	}); err != nil {
		return err
	}
	_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
	})
	return err
}
