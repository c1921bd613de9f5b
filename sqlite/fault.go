package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/leadwire/leadwire"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A capture is acknowledged only once it is durable in the database file
// at the store's path. When that cannot happen for a reason the client did
// not cause (a full disk, an I/O error, a read-only file, a database file
// deleted or replaced under the server, a write that takes too long) the
// store answers leadwire.EUNAVAILABLE: the SDKs keep the lead and send it
// again later, where an internal error would tell them to give up. The
// messages go to clients, so they name the fault but not the file; the
// wrapped cause, which does, is for the server's log.

// DefaultWriteTimeout is how long a write may wait for the writer before it
// answers EUNAVAILABLE.
const DefaultWriteTimeout = 10 * time.Second

// minFreeBytes is the free space below which the store reports that it
// cannot take captures: a full batch of 256 leads of a few kilobytes each,
// with their contacts and index pages, fits in it.
const minFreeBytes = 1 << 20

// unavailable returns an EUNAVAILABLE error whose message is for the
// client, wrapping cause (when not nil) for the log.
func unavailable(cause error, format string, args ...any) error {
	e := leadwire.Errorf(leadwire.EUNAVAILABLE, format, args...)
	if cause == nil {
		return e
	}
	return fmt.Errorf("%w: %w", e, cause)
}

// storageFaults are the SQLite result codes (primary, without the
// extended byte) that come from the machine, not from the request.
var storageFaults = map[int]string{
	sqlite3.SQLITE_FULL:     "the disk is full",
	sqlite3.SQLITE_IOERR:    "the disk reported an I/O error",
	sqlite3.SQLITE_READONLY: "the database is read-only",
	sqlite3.SQLITE_CANTOPEN: "the database files cannot be opened",
	sqlite3.SQLITE_BUSY:     "the database is locked by another process",
}

// storageFault turns an error of the database that the client did not
// cause into EUNAVAILABLE and returns any other error as it is.
func storageFault(err error) error {
	var e *msqlite.Error
	if errors.As(err, &e) {
		if reason, ok := storageFaults[e.Code()&0xff]; ok {
			return unavailable(err, "cannot store now: %s; retry later", reason)
		}
	}
	return err
}

// dbFile is the database file as the store opened it. SQLite keeps writing
// into the file it opened even after it was deleted (with its directory)
// or replaced, and everything acknowledged from then on is gone at the
// next start; comparing the file at the path with the open one (device
// and inode, one stat) tells.
type dbFile struct {
	path   string
	opened os.FileInfo
}

func openedFile(path string) (*dbFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &dbFile{path: path, opened: fi}, nil
}

// check returns EUNAVAILABLE when the file at the path is not the open one.
func (f *dbFile) check() error {
	fi, err := os.Stat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return unavailable(err, "cannot store now: the database file was deleted; restart leadwire")
	case err != nil:
		return unavailable(err, "cannot store now: the database file cannot be read")
	case !os.SameFile(fi, f.opened):
		return unavailable(fmt.Errorf("%s is another file than the one opened", f.path),
			"cannot store now: the database file was replaced; restart leadwire")
	}
	return nil
}

// writable returns EUNAVAILABLE when the database or its write-ahead log
// cannot be written (a read-only mount, an immutable file, permissions),
// or when the disk holding them has almost no free space left.
func (f *dbFile) writable() error {
	for _, p := range []string{f.path, f.path + "-wal"} {
		err := syscall.Access(p, 2 /* W_OK */)
		if err != nil && !(p != f.path && errors.Is(err, fs.ErrNotExist)) {
			return unavailable(&fs.PathError{Op: "access", Path: p, Err: err}, "cannot store now: the database is read-only")
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(f.path, &st); err != nil {
		return unavailable(err, "cannot store now: the database's disk cannot be read")
	}
	if free := uint64(st.Bavail) * uint64(st.Bsize); free < minFreeBytes {
		return unavailable(fmt.Errorf("%d bytes free on the disk of %s", free, f.path), "cannot store now: the disk is full")
	}
	return nil
}
