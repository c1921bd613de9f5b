package leadwire

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Role says what a user may see and do.
type Role string

const (
	// RoleOwner sees and does everything: every lead, channel and user,
	// and erasure.
	RoleOwner Role = "owner"
	// RoleAgent sees the leads assigned to them (an assignee whose email is
	// theirs) and the leads of the channels they are a member of; any other
	// lead does not exist for them (ENOTFOUND, never EFORBIDDEN).
	RoleAgent Role = "agent"
)

// MinPasswordLength is the shortest password a user may have.
const MinPasswordLength = 8

// SessionLifetime is how long an inbox session lasts from sign-in.
const SessionLifetime = 30 * 24 * time.Hour

// User is a person who signs in to work leads: an agent or an owner of the
// brokerage.
type User struct {
	ID       string `json:"id"`
	Email    string `json:"email"` // unique, compared case-insensitively
	Name     string `json:"name,omitempty"`
	Role     Role   `json:"role"`
	Disabled bool   `json:"disabled"` // a disabled user's tokens and sessions stop working at once
	// MLSID is the agent's id in their MLS: a lead's assignee that names
	// it (Assignee.MLSID) routes the lead to them.
	MLSID     string    `json:"mls_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate trims the user's email and name and reports an EINVALID error
// when the email is not an address or the role is unknown. An empty role
// becomes RoleAgent.
func (u *User) Validate() error {
	u.Email, u.Name, u.MLSID = strings.TrimSpace(u.Email), strings.TrimSpace(u.Name), strings.TrimSpace(u.MLSID)
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || len(u.Email) > MaxEmailLen {
		return Errorf(EINVALID, "email %q is not an address like agent@example.com", u.Email)
	}
	switch u.Role {
	case "":
		u.Role = RoleAgent
	case RoleOwner, RoleAgent:
	default:
		return Errorf(EINVALID, "role %q is neither %s nor %s", u.Role, RoleOwner, RoleAgent)
	}
	return nil
}

// Token is an API token as listed: never its secret, of which only a hash
// is stored. A token acts as its user.
type Token struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"` // unique among all tokens
	UserEmail  string    `json:"user"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"` // zero when never used
}

type userKey struct{}

// NewContextWithUser returns a copy of ctx carrying u, the user a request
// acts as. The services filter what they return and refuse what they do by
// that user.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFromContext returns the user ctx acts as, or nil when it acts as
// nobody: the command line on the server's machine, and the public capture
// routes, whose channel or lead id is their permission.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// UserService manages users, their API tokens and their inbox sessions.
type UserService interface {
	// CreateUser validates u, stores it with a hash of password and sets
	// its ID and CreatedAt. Errors: EINVALID (also for a password shorter
	// than MinPasswordLength), ECONFLICT for an email already in use.
	CreateUser(ctx context.Context, u *User, password string) error
	// FindUsers returns every user, oldest first.
	FindUsers(ctx context.Context) ([]*User, error)
	// DisableUser disables the user with email: their tokens and sessions
	// stop working at once. Errors: ENOTFOUND.
	DisableUser(ctx context.Context, email string) error
	// Authenticate returns the enabled user with email and password.
	// Errors: EUNAUTHORIZED for a wrong password, an unknown email or a
	// disabled user alike, so the answer never tells whether an email
	// exists.
	Authenticate(ctx context.Context, email, password string) (*User, error)

	// CreateToken creates an API token for the user with email and returns
	// its secret, which is shown this once: only a hash is stored. Errors:
	// ENOTFOUND for an unknown user, ECONFLICT for a name in use, EINVALID
	// for an empty name.
	CreateToken(ctx context.Context, email, name string) (secret string, t *Token, err error)
	// FindTokens returns every token, oldest first.
	FindTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken deletes the token named name. Errors: ENOTFOUND.
	RevokeToken(ctx context.Context, name string) error
	// UserByToken returns the enabled user a token secret acts as and
	// records that the token was used. Errors: EUNAUTHORIZED.
	UserByToken(ctx context.Context, secret string) (*User, error)

	// CreateSession starts an inbox session of SessionLifetime for a user
	// and returns its secret (the session cookie's value). Errors:
	// EUNAUTHORIZED for an unknown or disabled user.
	CreateSession(ctx context.Context, userID string) (secret string, err error)
	// UserBySession returns the enabled user of a live session. Errors:
	// EUNAUTHORIZED for an unknown, ended or expired session.
	UserBySession(ctx context.Context, secret string) (*User, error)
	// DeleteSession ends a session; ending an unknown one is no error.
	DeleteSession(ctx context.Context, secret string) error

	// OwnerSetupLink returns a one-time secret that lets the first person
	// set up the owner account, when there is no owner yet; ok is false
	// when there is one. Each call replaces the previous secret.
	OwnerSetupLink(ctx context.Context) (secret string, ok bool, err error)
	// SetupOwner creates the owner with the one-time secret, which then
	// stops working. Errors: EUNAUTHORIZED for a wrong or used secret,
	// EINVALID and ECONFLICT as CreateUser.
	SetupOwner(ctx context.Context, secret string, u *User, password string) error

	// AddChannelMember makes the user with email a member of the channel:
	// an agent then sees the channel's leads. Errors: ENOTFOUND for an
	// unknown channel or user.
	AddChannelMember(ctx context.Context, channelID, email string) error
	// ChannelMembers returns the members of the channel, by email.
	// Errors: ENOTFOUND for an unknown channel.
	ChannelMembers(ctx context.Context, channelID string) ([]*User, error)
	// RemoveChannelMember ends the membership of the user with email in
	// the channel: an agent then no longer sees the channel's leads;
	// removing a user who is not a member is no error. Errors: ENOTFOUND
	// for an unknown channel or user.
	RemoveChannelMember(ctx context.Context, channelID, email string) error
}
