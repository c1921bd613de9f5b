//go:build !unix

package rechat

import (
	"errors"
	"os"
)

var errNoLocking = errors.New("rechat: offline sync needs file locks (a Unix system); set DisableOfflineSync")

func checkLocking() error                             { return errNoLocking }
func lockFile(path string) (unlock func(), err error) { return nil, errNoLocking }
func tryLock(f *os.File) (bool, error)                { return false, errNoLocking }
