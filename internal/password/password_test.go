package password

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := Hash("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct") {
		t.Errorf("hash %q is not an argon2id PHC string hiding the password", h)
	}
	if h == Hash("correct horse") {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !Check(h, "correct horse") {
		t.Error("the password does not match its hash")
	}
	// A hash made with other parameters is read with its own.
	defer func(c argonCost) { argonParams = c }(argonParams)
	argonParams = argonCost{memoryKiB: 8 * 1024, passes: 1, lanes: 2}
	cheap := Hash("correct horse")
	if !strings.Contains(cheap, "$m=8192,t=1,p=2$") || !Check(cheap, "correct horse") {
		t.Errorf("a hash with other parameters %q does not match", cheap)
	}
	for _, bad := range []string{"correct horse ", "Correct horse", "", strings.Repeat("correct horse", 10)} {
		if Check(h, bad) {
			t.Errorf("%q matches the hash of another password", bad)
		}
	}
	for _, malformed := range []string{"", "$", h[:len(h)-3], strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "m=19456", "m=0", 1), strings.Replace(h, "m=19456", "m=99999999", 1), strings.Replace(h, "v=19", "v=16", 1)} {
		if Check(malformed, "correct horse") {
			t.Errorf("the malformed hash %q matches", malformed)
		}
	}
}

// FuzzCheckPassword: a stored hash that is not one Hash made
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
		Check(hash, password)
	})
}
