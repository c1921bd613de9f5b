package sqlite

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := hashPassword("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct") {
		t.Errorf("hash %q is not an argon2id PHC string hiding the password", h)
	}
	if h == hashPassword("correct horse") {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !checkPassword(h, "correct horse") {
		t.Error("the password does not match its hash")
	}
	// A hash made with other parameters is read with its own.
	defer func(c argonCost) { argonParams = c }(argonParams)
	argonParams = argonCost{memoryKiB: 8 * 1024, passes: 1, lanes: 2}
	cheap := hashPassword("correct horse")
	if !strings.Contains(cheap, "$m=8192,t=1,p=2$") || !checkPassword(cheap, "correct horse") {
		t.Errorf("a hash with other parameters %q does not match", cheap)
	}
	for _, bad := range []string{"correct horse ", "Correct horse", "", strings.Repeat("correct horse", 10)} {
		if checkPassword(h, bad) {
			t.Errorf("%q matches the hash of another password", bad)
		}
	}
	for _, malformed := range []string{"", "$", h[:len(h)-3], strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "m=19456", "m=0", 1), strings.Replace(h, "m=19456", "m=99999999", 1), strings.Replace(h, "v=19", "v=16", 1)} {
		if checkPassword(malformed, "correct horse") {
			t.Errorf("the malformed hash %q matches", malformed)
		}
	}
}

// FuzzCheckPassword: a stored hash that is not one hashPassword made
// matches no password and never panics, nor makes the check take more
// than the memory cap.
func FuzzCheckPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "pw")
	f.Add("$argon2id$v=19$m=19456,t=2,p=255$$", "pw")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$AA$AA", "")
	f.Fuzz(func(t *testing.T, hash, password string) {
		if strings.Contains(hash, "m=") && !strings.Contains(hash, "t=1,") {
			return // keep each run cheap: the cost parameters are the hash's own
		}
		checkPassword(hash, password)
	})
}
