package rechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrQueueFull is returned by captures and tracking calls that could not
// reach the API while the outbox already holds MaxQueueSize items. The
// lead was neither sent nor kept: the caller still has it.
var ErrQueueFull = errors.New("rechat: offline outbox is full")

// Kinds of queued items.
const (
	KindLead     = "lead"     // a lead capture
	KindActivity = "activity" // a tracking event for a lead's timeline
)

// QueuedItem is a capture or tracking event waiting in the outbox.
type QueuedItem struct {
	ID             string    // the item's file name, ordered by queueing time
	Kind           string    // KindLead or KindActivity
	QueuedAt       time.Time // when the API could not be reached
	IdempotencyKey string    // sent with every delivery attempt of the item
}

// DeadLetter is a queued item the API refused (a 4xx answer). It is kept
// in the outbox's dead folder, never retried and never deleted by the SDK.
type DeadLetter struct {
	QueuedItem
	Status   int    // the API's HTTP status
	Code     string // the API's error code
	Message  string // the API's error message
	FailedAt time.Time
}

// item is the content of one outbox file. It never changes once written,
// so a reader never sees it half-updated.
type item struct {
	Kind     string    `json:"kind"`
	QueuedAt time.Time `json:"queued_at"`
	request
}

// queued describes the item stored under the file name id.
func (it *item) queued(id string) QueuedItem {
	return QueuedItem{ID: id, Kind: it.Kind, QueuedAt: it.QueuedAt, IdempotencyKey: it.IdempotencyKey}
}

// deadItem is the content of a dead-letter file.
type deadItem struct {
	Item     item      `json:"item"`
	Status   int       `json:"status"`
	Code     string    `json:"code,omitempty"`
	Message  string    `json:"message"`
	FailedAt time.Time `json:"failed_at"`
}

// outbox is a directory of queued requests shared by every process that
// opens it:
//
//	queue/  one file per item, named so that names sort by queueing time
//	dead/   items the API refused, with its answer
//	tmp/    items being written; never read back
//	lock    held while an item is added, so MaxQueueSize holds across processes
//
// A sender claims an item with an exclusive flock on its file; the kernel
// drops the lock when the process dies, so a crashed sender's claim
// recovers by itself.
type outbox struct {
	dir      string
	maxItems int
	token    string // tells this outbox's file names from other processes'

	mu       sync.Mutex // guards lastNano
	lastNano int64
}

// staleTemp is how old a tmp/ file must be to be a leftover of a crash
// rather than an item being written right now.
const staleTemp = 10 * time.Minute

func openOutbox(dir string, maxItems int) (*outbox, error) {
	if err := checkLocking(); err != nil {
		return nil, err
	}
	for _, sub := range []string{"queue", "dead", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("rechat: outbox: %w", err)
		}
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	o := &outbox{dir: dir, maxItems: maxItems, token: hex.EncodeToString(b[:])}
	o.removeStaleTemp()
	return o, nil
}

// removeStaleTemp deletes half-written items left by crashed processes.
func (o *outbox) removeStaleTemp() {
	entries, _ := os.ReadDir(filepath.Join(o.dir, "tmp"))
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(o.dir, "tmp", e.Name()))
		}
	}
}

// nextName returns a new item name: queueing time in nanoseconds, strictly
// increasing for this outbox, and this outbox's token, which keeps its
// names apart from those of other processes sharing the directory.
func (o *outbox) nextName(now time.Time) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastNano = max(now.UnixNano(), o.lastNano+1)
	return fmt.Sprintf("%020d-%s.json", o.lastNano, o.token)
}

// add stores r durably and returns its id. When add returns, the item is
// on disk and in queue/ (file and directory fsynced); a crash before that
// leaves at most a tmp/ file, which is never read.
func (o *outbox) add(kind string, r request) (string, error) {
	unlock, err := lockFile(filepath.Join(o.dir, "lock"))
	if err != nil {
		return "", fmt.Errorf("rechat: outbox: %w", err)
	}
	defer unlock()
	names, err := o.names()
	if err != nil {
		return "", err
	}
	if len(names) >= o.maxItems {
		return "", fmt.Errorf("%w (%d items in %s)", ErrQueueFull, len(names), o.dir)
	}
	now := time.Now()
	name := o.nextName(now)
	body, err := json.Marshal(item{Kind: kind, QueuedAt: now.UTC(), request: r})
	if err != nil {
		return "", err
	}
	if err := writeDurably(filepath.Join(o.dir, "tmp"), filepath.Join(o.dir, "queue"), name, body); err != nil {
		return "", fmt.Errorf("rechat: outbox: %w", err)
	}
	return name, nil
}

// writeDurably writes body to tmpDir, fsyncs it, renames it to dir/name
// and fsyncs dir, so the file appears whole or not at all.
func writeDurably(tmpDir, dir, name string, body []byte) error {
	f, err := os.CreateTemp(tmpDir, name+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// names lists queue/ in delivery order.
func (o *outbox) names() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(o.dir, "queue"))
	if err != nil {
		return nil, fmt.Errorf("rechat: outbox: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// pending lists the queued items, oldest first.
func (o *outbox) pending() ([]QueuedItem, error) {
	names, err := o.names()
	if err != nil {
		return nil, err
	}
	items := make([]QueuedItem, 0, len(names))
	for _, name := range names {
		it, err := readItem(filepath.Join(o.dir, "queue", name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered meanwhile
		}
		if err != nil {
			return nil, err
		}
		items = append(items, it.queued(name))
	}
	return items, nil
}

func readItem(path string) (*item, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeItem(b)
}

// decodeItem parses an outbox file.
func decodeItem(b []byte) (*item, error) {
	var it item
	if err := json.Unmarshal(b, &it); err != nil {
		return nil, fmt.Errorf("rechat: outbox item: %w", err)
	}
	if (it.Kind != KindLead && it.Kind != KindActivity) || !strings.HasPrefix(it.Path, "/") || it.IdempotencyKey == "" {
		return nil, errors.New("rechat: outbox item: missing kind, path or idempotency key")
	}
	return &it, nil
}

// deadLetters lists the items the API refused, oldest first.
func (o *outbox) deadLetters() ([]DeadLetter, error) {
	entries, err := os.ReadDir(filepath.Join(o.dir, "dead"))
	if err != nil {
		return nil, fmt.Errorf("rechat: outbox: %w", err)
	}
	var out []DeadLetter
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(o.dir, "dead", e.Name()))
		if err != nil {
			return nil, err
		}
		var d deadItem
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("rechat: dead letter %s: %w", e.Name(), err)
		}
		out = append(out, DeadLetter{
			QueuedItem: d.Item.queued(e.Name()),
			Status:     d.Status, Code: d.Code, Message: d.Message, FailedAt: d.FailedAt,
		})
	}
	return out, nil
}

// claim is an item this process holds the lock of.
type claim struct {
	o    *outbox
	name string
	item *item // nil when the file could not be decoded
	err  error // why item is nil
	file *os.File
}

// claimPoll is how often a waiting claim looks whether the other sender
// is done with an item.
const claimPoll = 10 * time.Millisecond

// claim locks the named item. It returns nil when the item was delivered
// since it was listed, or, unless wait is set, when another sender holds
// it. With wait it waits for the other sender (until ctx is done).
func (o *outbox) claim(ctx context.Context, name string, wait bool) (*claim, error) {
	path := filepath.Join(o.dir, "queue", name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for {
		locked, err := tryLock(f)
		if err != nil || (!locked && !wait) {
			f.Close()
			return nil, err
		}
		if locked {
			break
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(claimPoll):
		}
	}
	// The previous holder may have delivered and removed the file between
	// our open and our lock: only the file still at path is the item, and
	// then the descriptor we hold the lock on reads it.
	held, err1 := f.Stat()
	current, err2 := os.Stat(path)
	if err1 != nil || err2 != nil || !os.SameFile(held, current) {
		f.Close()
		return nil, nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &claim{o: o, name: name, file: f}
	c.item, c.err = decodeItem(b)
	return c, nil
}

// done removes a delivered item.
func (c *claim) done() error {
	defer c.file.Close()
	if err := os.Remove(filepath.Join(c.o.dir, "queue", c.name)); err != nil {
		return err
	}
	return syncDir(filepath.Join(c.o.dir, "queue"))
}

// release gives the item back for a later attempt.
func (c *claim) release() { c.file.Close() }

// bury moves a refused item to dead/ with the API's answer. The dead
// letter is durable before the item leaves queue/, so a crash in between
// at worst leaves both.
func (c *claim) bury(status int, code, message string) error {
	d := deadItem{Status: status, Code: code, Message: message, FailedAt: time.Now().UTC()}
	if c.item != nil {
		d.Item = *c.item
	}
	body, err := json.Marshal(d)
	if err != nil {
		c.release()
		return err
	}
	if err := writeDurably(filepath.Join(c.o.dir, "tmp"), filepath.Join(c.o.dir, "dead"), c.name, body); err != nil {
		c.release()
		return err
	}
	return c.done()
}
