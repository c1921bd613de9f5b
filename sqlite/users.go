package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/password"
)

// tokenUseInterval is how stale a token's last-used time may be: it is
// written at most this often per token, so using a token is a read, not a
// write to the database's single writer.
const tokenUseInterval = time.Minute

// ownerSetupSecret names the hash of the owner setup secret in the
// secrets table.
const ownerSetupSecret = "owner_setup"

const userColumns = "u.id, u.email, u.name, u.role, u.disabled, u.mls_id, u.created_at"

// errWrongPassword is one answer to a wrong password, an unknown email and
// a disabled user alike, so that signing in never tells whether an email
// has an account.
var errWrongPassword = leadwire.Errorf(leadwire.EUNAUTHORIZED, "wrong email or password")

// CreateUser stores a new user; see leadwire.UserService.
func (s *Store) CreateUser(ctx context.Context, u *leadwire.User, pw string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if err := password.Valid(pw); err != nil {
		return err
	}
	o := &userOp{user: *u, hash: password.Hash(pw)}
	if err := s.w.do(ctx, o); err != nil {
		return err
	}
	*u = o.user
	return nil
}

// userOp stores a new user. With setupHash set it creates the owner only
// when the owner setup secret stored has that hash, and uses it up.
type userOp struct {
	user      leadwire.User
	hash      string
	setupHash []byte
}

func (o *userOp) apply(w *writer, now time.Time) error {
	ctx := context.Background() // as in run: the batch's commit is not one caller's
	if o.setupHash != nil {
		var stored []byte
		err := w.conn.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = ?", ownerSetupSecret).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && subtle.ConstantTimeCompare(stored, o.setupHash) != 1) {
			return leadwire.Errorf(leadwire.EUNAUTHORIZED, "the setup link is wrong or was already used")
		}
		if err != nil {
			return err
		}
		var hasOwner bool
		if err := w.conn.QueryRowContext(ctx, ownerExists).Scan(&hasOwner); err != nil {
			return err
		}
		if hasOwner { // made meanwhile on the command line
			return leadwire.Errorf(leadwire.EUNAUTHORIZED, "the setup link is wrong or was already used")
		}
	}
	var taken bool
	if err := w.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM users WHERE email_key = ?)",
		leadwire.EmailKey(o.user.Email)).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return leadwire.Errorf(leadwire.ECONFLICT, "a user with email %s exists", o.user.Email)
	}
	o.user.ID, o.user.CreatedAt = newID().String(), fromMillis(now.UnixMilli())
	if _, err := w.conn.ExecContext(ctx, `INSERT INTO users (id, email, email_key, name, role, mls_id, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, o.user.ID, o.user.Email, leadwire.EmailKey(o.user.Email), o.user.Name,
		string(o.user.Role), o.user.MLSID, o.hash, now.UnixMilli()); err != nil {
		return err
	}
	if o.setupHash != nil {
		_, err := w.conn.ExecContext(ctx, "DELETE FROM secrets WHERE name = ?", ownerSetupSecret)
		return err
	}
	return nil
}

// FindUsers returns every user, oldest first.
func (s *Store) FindUsers(ctx context.Context) ([]*leadwire.User, error) {
	return s.queryUsers(ctx, "SELECT "+userColumns+" FROM users u ORDER BY u.created_at, u.id")
}

// queryUsers returns the users a query of userColumns selects.
func (s *Store) queryUsers(ctx context.Context, query string, args ...any) ([]*leadwire.User, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []*leadwire.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

func scanUser(row interface{ Scan(...any) error }, more ...any) (*leadwire.User, error) {
	var u leadwire.User
	var created int64
	if err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.MLSID, &created}, more...)...); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// userID returns the id of the user with email. Errors: ENOTFOUND.
func (w *writer) userID(email string) (string, error) {
	var id string
	err := w.conn.QueryRowContext(context.Background(), "SELECT id FROM users WHERE email_key = ?", leadwire.EmailKey(email)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", userNotFound(email)
	}
	return id, err
}

// DisableUser disables a user and ends their sessions; see
// leadwire.UserService.
func (s *Store) DisableUser(ctx context.Context, email string) error {
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		id, err := w.userID(email)
		if err != nil {
			return err
		}
		if _, err := w.conn.ExecContext(ctx, "UPDATE users SET disabled = 1 WHERE id = ?", id); err != nil {
			return err
		}
		_, err = w.conn.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", id)
		return err
	}))
}

func userNotFound(email string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "no user has the email %q", email)
}

// execOp is a write given as a function.
type execOp func(w *writer, now time.Time) error

func (f execOp) apply(w *writer, now time.Time) error { return f(w, now) }

// Authenticate checks an email and password; see leadwire.UserService.
func (s *Store) Authenticate(ctx context.Context, email, pw string) (*leadwire.User, error) {
	var hash string
	u, err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+", u.password_hash FROM users u WHERE u.email_key = ?",
		leadwire.EmailKey(email)), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		password.Check(password.Dummy(), pw) // as long as a wrong password takes
		return nil, errWrongPassword
	}
	if err != nil {
		return nil, err
	}
	if !password.Check(hash, pw) || u.Disabled {
		return nil, errWrongPassword
	}
	return u, nil
}

// CreateToken creates an API token; see leadwire.UserService.
func (s *Store) CreateToken(ctx context.Context, email, name string) (string, *leadwire.Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, leadwire.Errorf(leadwire.EINVALID, "a token needs a name, saying what uses it")
	}
	secret, hash := password.NewSecret(password.TokenPrefix)
	t := &leadwire.Token{Name: name}
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		var userID string
		err := w.conn.QueryRowContext(ctx, "SELECT id, email FROM users WHERE email_key = ?", leadwire.EmailKey(email)).Scan(&userID, &t.UserEmail)
		if errors.Is(err, sql.ErrNoRows) {
			return userNotFound(email)
		}
		if err != nil {
			return err
		}
		var taken bool
		if err := w.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM tokens WHERE name = ?)", name).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return leadwire.Errorf(leadwire.ECONFLICT, "a token named %q exists", name)
		}
		t.ID, t.CreatedAt = newID().String(), fromMillis(now.UnixMilli())
		_, err = w.conn.ExecContext(ctx, "INSERT INTO tokens (id, user_id, name, hash, created_at) VALUES (?, ?, ?, ?, ?)",
			t.ID, userID, name, hash, now.UnixMilli())
		return err
	}))
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// FindTokens returns every token, oldest first, never a secret.
func (s *Store) FindTokens(ctx context.Context) ([]*leadwire.Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT t.id, t.name, u.email, t.created_at, t.last_used_at
		FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tokens []*leadwire.Token
	for rows.Next() {
		var t leadwire.Token
		var created, used int64
		if err := rows.Scan(&t.ID, &t.Name, &t.UserEmail, &created, &used); err != nil {
			return nil, err
		}
		t.CreatedAt = fromMillis(created)
		if used != 0 {
			t.LastUsedAt = fromMillis(used)
		}
		tokens = append(tokens, &t)
	}
	return tokens, rows.Err()
}

// RevokeToken deletes a token; see leadwire.UserService.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		res, err := w.conn.ExecContext(context.Background(), "DELETE FROM tokens WHERE name = ?", strings.TrimSpace(name))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return leadwire.Errorf(leadwire.ENOTFOUND, "no token is named %q", name)
		}
		return nil
	}))
}

// UserByToken returns the user a token acts as; see leadwire.UserService.
// It reads the database on every call, so a token revoked or a user
// disabled by another process (the command line) stops at once.
func (s *Store) UserByToken(ctx context.Context, secret string) (*leadwire.User, error) {
	if !strings.HasPrefix(secret, password.TokenPrefix) {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the token is not a leadwire API token (they begin with %s)", password.TokenPrefix)
	}
	var tokenID string
	var used int64
	u, err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+", t.id, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
		password.SecretHash(secret)), &tokenID, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the token is unknown or was revoked")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the token's user is disabled")
	}
	s.tokenUsed(tokenID, used)
	return u, nil
}

// tokenUsed records that a token was used now, when its recorded time is
// older than tokenUseInterval. The write goes to the writer in the
// background: the request does not wait for it, and one that fails (a
// full disk) only leaves the time stale.
func (s *Store) tokenUsed(id string, stored int64) {
	now := s.Now().UnixMilli()
	if now-stored < tokenUseInterval.Milliseconds() {
		return
	}
	// One write per token per interval, whatever the number of requests
	// that see the stale time before it lands.
	prev, loaded := s.tokenUses.LoadOrStore(id, now)
	if loaded {
		last := prev.(int64)
		if now-last < tokenUseInterval.Milliseconds() || !s.tokenUses.CompareAndSwap(id, prev, now) {
			return
		}
	}
	go s.w.do(context.Background(), execOp(func(w *writer, _ time.Time) error {
		_, err := w.conn.ExecContext(context.Background(), "UPDATE tokens SET last_used_at = max(last_used_at, ?) WHERE id = ?", now, id)
		return err
	}))
}

// CreateSession starts an inbox session; see leadwire.UserService.
// Sessions that expired are deleted with it.
func (s *Store) CreateSession(ctx context.Context, userID string) (string, error) {
	secret, hash := password.NewSecret("")
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		var disabled bool
		err := w.conn.QueryRowContext(ctx, "SELECT disabled FROM users WHERE id = ?", userID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) || disabled {
			return leadwire.Errorf(leadwire.EUNAUTHORIZED, "no enabled user has the id %q", userID)
		}
		if err != nil {
			return err
		}
		if _, err := w.conn.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", now.UnixMilli()); err != nil {
			return err
		}
		_, err = w.conn.ExecContext(ctx, "INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
			hash, userID, now.UnixMilli(), now.Add(leadwire.SessionLifetime).UnixMilli())
		return err
	}))
	if err != nil {
		return "", err
	}
	return secret, nil
}

// UserBySession returns the user of a live session; see
// leadwire.UserService.
func (s *Store) UserBySession(ctx context.Context, secret string) (*leadwire.User, error) {
	var expires int64
	u, err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+", s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?",
		password.SecretHash(secret)), &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && u.Disabled) {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the session ended; sign in again")
	}
	if err != nil {
		return nil, err
	}
	if s.Now().UnixMilli() >= expires {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the session expired; sign in again")
	}
	return u, nil
}

// DeleteSession ends a session; see leadwire.UserService.
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		_, err := w.conn.ExecContext(context.Background(), "DELETE FROM sessions WHERE hash = ?", password.SecretHash(secret))
		return err
	}))
}

// ownerExists is the condition of the owner setup: an enabled owner.
const ownerExists = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'owner' AND disabled = 0)"

// OwnerSetupLink returns a new owner setup secret while there is no
// enabled owner; see leadwire.UserService.
func (s *Store) OwnerSetupLink(ctx context.Context) (string, bool, error) {
	secret, hash := password.NewSecret("")
	var hasOwner bool
	err := s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		ctx := context.Background()
		if err := w.conn.QueryRowContext(ctx, ownerExists).Scan(&hasOwner); err != nil || hasOwner {
			return err
		}
		_, err := w.conn.ExecContext(ctx, "INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)", ownerSetupSecret, hash)
		return err
	}))
	if err != nil || hasOwner {
		return "", false, err
	}
	return secret, true, nil
}

// SetupOwner creates the owner with the one-time setup secret; see
// leadwire.UserService.
func (s *Store) SetupOwner(ctx context.Context, secret string, u *leadwire.User, pw string) error {
	u.Role = leadwire.RoleOwner
	if err := u.Validate(); err != nil {
		return err
	}
	if err := password.Valid(pw); err != nil {
		return err
	}
	o := &userOp{user: *u, hash: password.Hash(pw), setupHash: password.SecretHash(secret)}
	if err := s.w.do(ctx, o); err != nil {
		return err
	}
	*u = o.user
	return nil
}

// AddChannelMember makes a user a member of a channel; see
// leadwire.UserService.
func (s *Store) AddChannelMember(ctx context.Context, channelID, email string) error {
	return s.changeMembership(ctx, channelID, email, func(w *writer, userID string, now time.Time) error {
		_, err := w.conn.ExecContext(context.Background(), "INSERT OR IGNORE INTO channel_members (channel_id, user_id, created_at) VALUES (?, ?, ?)",
			channelID, userID, now.UnixMilli())
		return err
	})
}

// ChannelMembers returns a channel's members; see leadwire.UserService.
func (s *Store) ChannelMembers(ctx context.Context, channelID string) ([]*leadwire.User, error) {
	if _, err := s.channel(ctx, channelID); err != nil {
		return nil, err
	}
	return s.queryUsers(ctx, "SELECT "+userColumns+` FROM channel_members m
		JOIN users u ON u.id = m.user_id WHERE m.channel_id = ? ORDER BY u.email_key`, channelID)
}

// RemoveChannelMember ends a user's membership of a channel; see
// leadwire.UserService.
func (s *Store) RemoveChannelMember(ctx context.Context, channelID, email string) error {
	return s.changeMembership(ctx, channelID, email, func(w *writer, userID string, now time.Time) error {
		_, err := w.conn.ExecContext(context.Background(), "DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?", channelID, userID)
		return err
	})
}

// changeMembership runs change on the writer with the id of the user with
// email, when the channel exists. Errors: ENOTFOUND for an unknown channel
// or user.
func (s *Store) changeMembership(ctx context.Context, channelID, email string, change func(w *writer, userID string, now time.Time) error) error {
	if _, err := s.channel(ctx, channelID); err != nil {
		return err
	}
	return s.w.do(ctx, execOp(func(w *writer, now time.Time) error {
		userID, err := w.userID(email)
		if err != nil {
			return err
		}
		return change(w, userID, now)
	}))
}
