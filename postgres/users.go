package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/password"
)

// tokenUseInterval is how stale a token's last-used time may be: it is
// written at most this often per token and process, so using a token is
// a read.
const tokenUseInterval = time.Minute

// ownerSetupSecret names the hash of the owner setup secret in secrets.
const ownerSetupSecret = "owner_setup"

const userColumns = "u.id::text, u.email, u.name, u.role, u.disabled, u.mls_id, u.created_at"

// ownerExists is the condition of the owner setup: an enabled owner.
const ownerExists = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'owner' AND NOT disabled)"

// errWrongPassword is one answer to a wrong password, an unknown email and
// a disabled user alike, so that signing in never tells whether an email
// has an account.
var errWrongPassword = leadwire.Errorf(leadwire.EUNAUTHORIZED, "wrong email or password")

// tokenUses holds, by token id, the last-used time last written (Unix
// milliseconds), for all stores of the process.
var tokenUses sync.Map

// CreateUser stores a new user; see leadwire.UserService.
func (s *Store) CreateUser(ctx context.Context, u *leadwire.User, pw string) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if err := password.Valid(pw); err != nil {
		return err
	}
	return s.createUser(ctx, u, password.Hash(pw), nil)
}

// createUser stores u with the password hash. With setupHash set it
// creates the owner only when the owner setup secret stored has that hash,
// and uses it up.
func (s *Store) createUser(ctx context.Context, u *leadwire.User, hash string, setupHash []byte) error {
	id, at := newID().String(), s.nowMillis()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if setupHash != nil {
			var stored []byte
			err := tx.QueryRow(ctx, "SELECT value FROM secrets WHERE name = $1 FOR UPDATE", ownerSetupSecret).Scan(&stored)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && subtle.ConstantTimeCompare(stored, setupHash) != 1) {
				return leadwire.Errorf(leadwire.EUNAUTHORIZED, "the setup link is wrong or was already used")
			}
			if err != nil {
				return err
			}
			var hasOwner bool
			if err := tx.QueryRow(ctx, ownerExists).Scan(&hasOwner); err != nil {
				return err
			}
			if hasOwner { // made meanwhile on the command line
				return leadwire.Errorf(leadwire.EUNAUTHORIZED, "the setup link is wrong or was already used")
			}
			if _, err := tx.Exec(ctx, "DELETE FROM secrets WHERE name = $1", ownerSetupSecret); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO users (id, email, email_key, name, role, mls_id, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (email_key) DO NOTHING`,
			id, u.Email, leadwire.EmailKey(u.Email), u.Name, string(u.Role), u.MLSID, hash, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return leadwire.Errorf(leadwire.ECONFLICT, "a user with email %s exists", u.Email)
		}
		return nil
	})
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt = id, fromMillis(at)
	return nil
}

// FindUsers returns every user, oldest first.
func (s *Store) FindUsers(ctx context.Context) ([]*leadwire.User, error) {
	return s.queryUsers(ctx, "SELECT "+userColumns+" FROM users u ORDER BY u.created_at, u.id")
}

// queryUsers returns the users a query of userColumns selects.
func (s *Store) queryUsers(ctx context.Context, query string, args ...any) ([]*leadwire.User, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, storageFault(err)
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
	return users, storageFault(rows.Err())
}

func scanUser(row pgx.Row, more ...any) (*leadwire.User, error) {
	var u leadwire.User
	var created int64
	if err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.MLSID, &created}, more...)...); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

func userNotFound(email string) error {
	return leadwire.Errorf(leadwire.ENOTFOUND, "no user has the email %q", email)
}

// userID returns the id of the user with email, locked until tx ends.
func userID(ctx context.Context, tx pgx.Tx, email string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, "SELECT id::text FROM users WHERE email_key = $1 FOR UPDATE", leadwire.EmailKey(email)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", userNotFound(email)
	}
	return id, err
}

// DisableUser disables a user and ends their sessions; see
// leadwire.UserService.
func (s *Store) DisableUser(ctx context.Context, email string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := userID(ctx, tx, email)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET disabled = true WHERE id = $1", id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", id)
		return err
	})
}

// Authenticate checks an email and password; see leadwire.UserService.
func (s *Store) Authenticate(ctx context.Context, email, pw string) (*leadwire.User, error) {
	var hash string
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+", u.password_hash FROM users u WHERE u.email_key = $1",
		leadwire.EmailKey(email)), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		password.Check(password.Dummy(), pw) // as long as a wrong password takes
		return nil, errWrongPassword
	}
	if err != nil {
		return nil, storageFault(err)
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
	t := &leadwire.Token{ID: newID().String(), Name: name}
	at := s.nowMillis()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var userID string
		err := tx.QueryRow(ctx, "SELECT id::text, email FROM users WHERE email_key = $1", leadwire.EmailKey(email)).Scan(&userID, &t.UserEmail)
		if errors.Is(err, pgx.ErrNoRows) {
			return userNotFound(email)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "INSERT INTO tokens (id, user_id, name, hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
			t.ID, userID, name, hash, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return leadwire.Errorf(leadwire.ECONFLICT, "a token named %q exists", name)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	t.CreatedAt = fromMillis(at)
	return secret, t, nil
}

// FindTokens returns every token, oldest first, never a secret.
func (s *Store) FindTokens(ctx context.Context) ([]*leadwire.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id::text, t.name, u.email, t.created_at, t.last_used_at
		FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id`)
	if err != nil {
		return nil, storageFault(err)
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
	return tokens, storageFault(rows.Err())
}

// RevokeToken deletes a token; see leadwire.UserService.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM tokens WHERE name = $1", strings.TrimSpace(name))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return leadwire.Errorf(leadwire.ENOTFOUND, "no token is named %q", name)
		}
		return nil
	})
}

// UserByToken returns the user a token acts as; see leadwire.UserService.
// It reads the database on every call, so a token revoked or a user
// disabled by another process stops at once.
func (s *Store) UserByToken(ctx context.Context, secret string) (*leadwire.User, error) {
	if !strings.HasPrefix(secret, password.TokenPrefix) {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the token is not a leadwire API token (they begin with %s)", password.TokenPrefix)
	}
	var tokenID string
	var used int64
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+", t.id::text, t.last_used_at FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
		password.SecretHash(secret)), &tokenID, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the token is unknown or was revoked")
	}
	if err != nil {
		return nil, storageFault(err)
	}
	if u.Disabled {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the token's user is disabled")
	}
	s.tokenUsed(tokenID, used)
	return u, nil
}

// tokenUsed records that a token was used now, when its recorded time is
// older than tokenUseInterval, in the background: the request does not
// wait for it, and one that fails only leaves the time stale.
func (s *Store) tokenUsed(id string, stored int64) {
	now := s.nowMillis()
	if now-stored < tokenUseInterval.Milliseconds() {
		return
	}
	prev, loaded := tokenUses.LoadOrStore(id, now)
	if loaded {
		last := prev.(int64)
		if now-last < tokenUseInterval.Milliseconds() || !tokenUses.CompareAndSwap(id, prev, now) {
			return
		}
	}
	go s.inTx(context.Background(), func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), "UPDATE tokens SET last_used_at = greatest(last_used_at, $1) WHERE id = $2", now, id)
		return err
	})
}

// CreateSession starts an inbox session; see leadwire.UserService.
// Sessions that expired are deleted with it.
func (s *Store) CreateSession(ctx context.Context, userID string) (string, error) {
	if !leadwire.IsCanonicalID(userID) {
		return "", leadwire.Errorf(leadwire.EUNAUTHORIZED, "no enabled user has the id %q", userID)
	}
	secret, hash := password.NewSecret("")
	now := s.Now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var disabled bool
		err := tx.QueryRow(ctx, "SELECT disabled FROM users WHERE id = $1", userID).Scan(&disabled)
		if errors.Is(err, pgx.ErrNoRows) || disabled {
			return leadwire.Errorf(leadwire.EUNAUTHORIZED, "no enabled user has the id %q", userID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1", now.UnixMilli()); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
			hash, userID, now.UnixMilli(), now.Add(leadwire.SessionLifetime).UnixMilli())
		return err
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// UserBySession returns the user of a live session; see
// leadwire.UserService.
func (s *Store) UserBySession(ctx context.Context, secret string) (*leadwire.User, error) {
	var expires int64
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+", s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = $1",
		password.SecretHash(secret)), &expires)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && u.Disabled) {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the session ended; sign in again")
	}
	if err != nil {
		return nil, storageFault(err)
	}
	if s.nowMillis() >= expires {
		return nil, leadwire.Errorf(leadwire.EUNAUTHORIZED, "the session expired; sign in again")
	}
	return u, nil
}

// DeleteSession ends a session; see leadwire.UserService.
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE hash = $1", password.SecretHash(secret))
		return err
	})
}

// OwnerSetupLink returns a new owner setup secret while there is no
// enabled owner; see leadwire.UserService.
func (s *Store) OwnerSetupLink(ctx context.Context) (string, bool, error) {
	secret, hash := password.NewSecret("")
	var hasOwner bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, ownerExists).Scan(&hasOwner); err != nil || hasOwner {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, ownerSetupSecret, hash)
		return err
	})
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
	return s.createUser(ctx, u, password.Hash(pw), password.SecretHash(secret))
}

// AddChannelMember makes a user a member of a channel; see
// leadwire.UserService.
func (s *Store) AddChannelMember(ctx context.Context, channelID, email string) error {
	if _, err := s.channel(ctx, channelID); err != nil {
		return err
	}
	at := s.nowMillis()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := userID(ctx, tx, email)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO channel_members (channel_id, user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, channelID, id, at)
		return err
	})
}

// ChannelMembers returns a channel's members; see leadwire.UserService.
func (s *Store) ChannelMembers(ctx context.Context, channelID string) ([]*leadwire.User, error) {
	if _, err := s.channel(ctx, channelID); err != nil {
		return nil, err
	}
	return s.queryUsers(ctx, "SELECT "+userColumns+` FROM channel_members m
		JOIN users u ON u.id = m.user_id WHERE m.channel_id = $1 ORDER BY u.email_key COLLATE "C"`, channelID)
}

// RemoveChannelMember ends a user's membership of a channel; see
// leadwire.UserService.
func (s *Store) RemoveChannelMember(ctx context.Context, channelID, email string) error {
	if _, err := s.channel(ctx, channelID); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := userID(ctx, tx, email)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2", channelID, id)
		return err
	})
}
