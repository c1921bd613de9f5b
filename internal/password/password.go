// Package password hashes users' passwords with argon2id, as every store
// keeps them, so that a database moved from one store to another keeps
// its users' passwords.
package password

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/leadwire/leadwire"
	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id rather than bcrypt: it is memory-hard,
// so guessing on GPUs costs what it costs here, and it reads the whole
// password where bcrypt stops at 72 bytes. The parameters are OWASP's
// first choice (19 MiB, 2 passes, 1 lane): about 30 ms of one core a
// sign-in. They are written into each hash, so raising them later keeps
// old hashes readable.
var argonParams = argonCost{memoryKiB: 19 * 1024, passes: 2, lanes: 1}

type argonCost struct {
	memoryKiB uint32
	passes    uint32
	lanes     uint8
}

// hashing bounds how many hashes are computed at once: each takes 19 MiB,
// and a burst of sign-ins must not take the server's memory.
var hashing = make(chan struct{}, max(2, runtime.NumCPU()))

// Hash returns the PHC string of an argon2id hash of password
// with a new random salt: $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH.
func Hash(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	c := argonParams
	key := argonKey(password, salt, c, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.memoryKiB, c.passes, c.lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Check reports whether password matches the PHC string hash. A
// malformed hash matches nothing.
func Check(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var c argonCost
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &c.memoryKiB, &c.passes, &c.lanes); err != nil ||
		c.memoryKiB == 0 || c.memoryKiB > 1<<16 || c.passes == 0 || c.passes > 16 || c.lanes == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(argonKey(password, salt, c, uint32(len(want))), want) == 1
}

func argonKey(password string, salt []byte, c argonCost, size uint32) []byte {
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return argon2.IDKey([]byte(password), salt, c.passes, c.memoryKiB, c.lanes, size)
}

// Dummy is checked against when no user has the email given, so that
// an unknown email takes as long to refuse as a wrong password.
var Dummy = sync.OnceValue(func() string { return Hash("no user has this password") })

// Valid tells whether pw may become a password: EINVALID when it is
// shorter than leadwire.MinPasswordLength characters.
func Valid(pw string) error {
	if utf8.RuneCountInString(pw) < leadwire.MinPasswordLength {
		return leadwire.Errorf(leadwire.EINVALID, "the password is shorter than %d characters", leadwire.MinPasswordLength)
	}
	return nil
}

// TokenPrefix begins every API token, so a token pasted where it should
// not be (a chat, a repository) is recognised by secret scanners.
const TokenPrefix = "lw_"

// NewSecret returns 32 random bytes in URL-safe base64 after prefix (an
// API token, a session, a setup link), and the SHA-256 that is stored in
// its place: 256 bits leave nothing to guess, so a plain hash (no salt, no
// slow hash) is enough to make a stolen database useless for signing in.
func NewSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, SecretHash(secret)
}

// SecretHash is the hash NewSecret stores of secret.
func SecretHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
