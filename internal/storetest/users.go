package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
)

// userCases test the leadwire.UserService of a store.
var userCases = []storeCase{
	{"Users", testUsers},
	{"Tokens", testTokens},
	{"Sessions", testSessions},
	{"OwnerSetup", testOwnerSetup},
	{"ChannelMembers", testChannelMembers},
}

const password = "correct horse battery"

func mustUser(t *testing.T, s Store, u leadwire.User) *leadwire.User {
	t.Helper()
	if err := s.CreateUser(context.Background(), &u, password); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Email, err)
	}
	return &u
}

func testUsers(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	now := s.advance(time.Minute)
	ann := mustUser(t, s, leadwire.User{Email: " Ann@Example.com ", Name: " Ann ", Role: leadwire.RoleOwner})
	if _, err := uuid.Parse(ann.ID); err != nil || !ann.CreatedAt.Equal(now) || ann.Email != "Ann@Example.com" || ann.Name != "Ann" {
		t.Errorf("created user = %+v; want a UUID, created %v, trimmed email and name", ann, now)
	}
	s.advance(time.Minute)
	bob := mustUser(t, s, leadwire.User{Email: "bob@example.com"})
	if bob.Role != leadwire.RoleAgent {
		t.Errorf("a user created without a role is %q, want agent", bob.Role)
	}

	users, err := s.FindUsers(ctx)
	if err != nil || len(users) != 2 || users[0].ID != ann.ID || users[1].ID != bob.ID || users[0].Role != leadwire.RoleOwner ||
		!users[0].CreatedAt.Equal(ann.CreatedAt) || users[1].Disabled {
		t.Fatalf("FindUsers = %s, %v; want Ann then Bob", dump(users), err)
	}

	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			u        leadwire.User
			password string
			code     string
		}{
			{leadwire.User{Email: "ANN@example.COM"}, password, leadwire.ECONFLICT},
			{leadwire.User{Email: "not an email"}, password, leadwire.EINVALID},
			{leadwire.User{Email: "Cy <cy@example.com>"}, password, leadwire.EINVALID},
			{leadwire.User{Email: "cy@example.com", Role: "admin"}, password, leadwire.EINVALID},
			{leadwire.User{Email: "cy@example.com"}, "1234567", leadwire.EINVALID},
			{leadwire.User{Email: "cy@example.com"}, "", leadwire.EINVALID},
		} {
			wantCode(t, s.CreateUser(ctx, &tc.u, tc.password), tc.code)
		}
		if users, _ := s.FindUsers(ctx); len(users) != 2 {
			t.Errorf("refused users were stored: %s", dump(users))
		}
	})

	t.Run("authenticate", func(t *testing.T) {
		u, err := s.Authenticate(ctx, "ann@EXAMPLE.com", password)
		if err != nil || u.ID != ann.ID || u.Role != leadwire.RoleOwner {
			t.Fatalf("Authenticate with the right password = %+v, %v", u, err)
		}
		_, wrong := s.Authenticate(ctx, "ann@example.com", password+"!")
		_, unknown := s.Authenticate(ctx, "nobody@example.com", password)
		wantCode(t, wrong, leadwire.EUNAUTHORIZED)
		wantCode(t, unknown, leadwire.EUNAUTHORIZED)
		if leadwire.ErrorMessage(wrong) != leadwire.ErrorMessage(unknown) {
			t.Errorf("a wrong password (%q) and an unknown email (%q) are told apart", wrong, unknown)
		}
	})

	t.Run("disable", func(t *testing.T) {
		if err := s.DisableUser(ctx, "BOB@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err := s.Authenticate(ctx, "bob@example.com", password)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
		users, _ := s.FindUsers(ctx)
		if len(users) != 2 || !users[1].Disabled || users[0].Disabled {
			t.Errorf("after disabling Bob: %s", dump(users))
		}
		wantCode(t, s.DisableUser(ctx, "nobody@example.com"), leadwire.ENOTFOUND)
	})
}

func testTokens(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ann := mustUser(t, s, leadwire.User{Email: "ann@example.com"})
	mustUser(t, s, leadwire.User{Email: "bob@example.com"})
	created := s.advance(time.Minute)

	secret, tok, err := s.CreateToken(ctx, "ANN@example.com", " zapier ")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 32 || tok.Name != "zapier" || tok.UserEmail != ann.Email || !tok.CreatedAt.Equal(created) || !tok.LastUsedAt.IsZero() {
		t.Errorf("CreateToken = %q, %+v", secret, tok)
	}
	bobSecret, _, err := s.CreateToken(ctx, "bob@example.com", "bob's sheet")
	if err != nil {
		t.Fatal(err)
	}
	if bobSecret == secret {
		t.Fatal("two tokens share a secret")
	}

	t.Run("acts as its user", func(t *testing.T) {
		used := s.advance(time.Minute)
		u, err := s.UserByToken(ctx, secret)
		if err != nil || u.ID != ann.ID || u.Email != ann.Email {
			t.Fatalf("UserByToken = %+v, %v; want Ann", u, err)
		}
		waitLastUsed(t, s, "zapier", used)
		// Used again within the minute: the time is not written again.
		s.advance(30 * time.Second)
		if _, err := s.UserByToken(ctx, secret); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		waitLastUsed(t, s, "zapier", used)
		later := s.advance(time.Minute)
		if _, err := s.UserByToken(ctx, secret); err != nil {
			t.Fatal(err)
		}
		waitLastUsed(t, s, "zapier", later)
	})

	t.Run("list shows no secret", func(t *testing.T) {
		tokens, err := s.FindTokens(ctx)
		if err != nil || len(tokens) != 2 || tokens[0].Name != "zapier" || tokens[1].Name != "bob's sheet" || tokens[1].UserEmail != "bob@example.com" {
			t.Fatalf("FindTokens = %s, %v", dump(tokens), err)
		}
		if strings.Contains(dump(tokens), secret) || strings.Contains(dump(tokens), bobSecret) {
			t.Errorf("FindTokens shows a secret: %s", dump(tokens))
		}
	})

	t.Run("refused", func(t *testing.T) {
		_, _, err := s.CreateToken(ctx, "ann@example.com", "ZAPIER")
		if err != nil {
			t.Errorf("names differing in case are two names: %v", err)
		}
		_, _, err = s.CreateToken(ctx, "bob@example.com", "zapier")
		wantCode(t, err, leadwire.ECONFLICT)
		_, _, err = s.CreateToken(ctx, "ann@example.com", "  ")
		wantCode(t, err, leadwire.EINVALID)
		_, _, err = s.CreateToken(ctx, "nobody@example.com", "x")
		wantCode(t, err, leadwire.ENOTFOUND)
		for _, bad := range []string{"", "x", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret)} {
			_, err := s.UserByToken(ctx, bad)
			wantCode(t, err, leadwire.EUNAUTHORIZED)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		if err := s.RevokeToken(ctx, "zapier"); err != nil {
			t.Fatal(err)
		}
		_, err := s.UserByToken(ctx, secret)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
		wantCode(t, s.RevokeToken(ctx, "zapier"), leadwire.ENOTFOUND)
		if _, err := s.UserByToken(ctx, bobSecret); err != nil {
			t.Errorf("revoking Ann's token stopped Bob's: %v", err)
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		if err := s.DisableUser(ctx, "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err := s.UserByToken(ctx, bobSecret)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
	})
}

// waitLastUsed waits until the token named name shows want as its last
// use: stores may record it after UserByToken returns.
func waitLastUsed(t *testing.T, s Store, name string, want time.Time) {
	t.Helper()
	var got time.Time
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		tokens, err := s.FindTokens(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if tok.Name == name {
				got = tok.LastUsedAt
			}
		}
		if got.Equal(want) {
			return
		}
	}
	t.Fatalf("token %q last used %v, want %v", name, got, want)
}

func testSessions(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ann := mustUser(t, s, leadwire.User{Email: "ann@example.com"})
	bob := mustUser(t, s, leadwire.User{Email: "bob@example.com"})

	secret, err := s.CreateSession(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateSession(ctx, ann.ID)
	if err != nil || other == secret || len(secret) < 32 {
		t.Fatalf("two sessions: %q, %q, %v; want two long secrets", secret, other, err)
	}
	if u, err := s.UserBySession(ctx, secret); err != nil || u.ID != ann.ID {
		t.Fatalf("UserBySession = %+v, %v; want Ann", u, err)
	}

	t.Run("sign out ends one session", func(t *testing.T) {
		if err := s.DeleteSession(ctx, secret); err != nil {
			t.Fatal(err)
		}
		_, err := s.UserBySession(ctx, secret)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
		if _, err := s.UserBySession(ctx, other); err != nil {
			t.Errorf("signing out ended the other session: %v", err)
		}
		if err := s.DeleteSession(ctx, "unknown"); err != nil {
			t.Errorf("ending an unknown session: %v", err)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		for _, bad := range []string{"", "x", other + "x", other[1:]} {
			_, err := s.UserBySession(ctx, bad)
			wantCode(t, err, leadwire.EUNAUTHORIZED)
		}
		_, err := s.CreateSession(ctx, uuid.NewString())
		wantCode(t, err, leadwire.EUNAUTHORIZED)
	})

	t.Run("expiry", func(t *testing.T) {
		s.advance(24 * time.Hour)
		if _, err := s.UserBySession(ctx, other); err != nil {
			t.Fatalf("a day-old session ended: %v", err)
		}
		s.advance(leadwire.SessionLifetime - 24*time.Hour)
		_, err := s.UserBySession(ctx, other)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
	})

	t.Run("disabled user", func(t *testing.T) {
		bobs, err := s.CreateSession(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DisableUser(ctx, bob.Email); err != nil {
			t.Fatal(err)
		}
		_, err = s.UserBySession(ctx, bobs)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
		_, err = s.CreateSession(ctx, bob.ID)
		wantCode(t, err, leadwire.EUNAUTHORIZED)
	})
}

func testOwnerSetup(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	mustUser(t, s, leadwire.User{Email: "agent@example.com"}) // an agent is no owner

	first, ok, err := s.OwnerSetupLink(ctx)
	if err != nil || !ok || len(first) < 32 {
		t.Fatalf("OwnerSetupLink on a store without owner = %q, %v, %v", first, ok, err)
	}
	secret, ok, err := s.OwnerSetupLink(ctx)
	if err != nil || !ok || secret == first {
		t.Fatalf("second OwnerSetupLink = %q, %v, %v; want a new secret", secret, ok, err)
	}
	owner := func(email string) *leadwire.User {
		return &leadwire.User{Email: email, Name: "Olga", Role: leadwire.RoleAgent}
	}

	wantCode(t, s.SetupOwner(ctx, first, owner("olga@example.com"), password), leadwire.EUNAUTHORIZED)
	wantCode(t, s.SetupOwner(ctx, "", owner("olga@example.com"), password), leadwire.EUNAUTHORIZED)
	wantCode(t, s.SetupOwner(ctx, secret, owner("olga@example.com"), "short"), leadwire.EINVALID)
	wantCode(t, s.SetupOwner(ctx, secret, owner("AGENT@example.com"), password), leadwire.ECONFLICT)

	u := owner("olga@example.com")
	if err := s.SetupOwner(ctx, secret, u, password); err != nil {
		t.Fatal(err)
	}
	if u.Role != leadwire.RoleOwner || u.ID == "" {
		t.Errorf("SetupOwner made %+v, want an owner", u)
	}
	if got, err := s.Authenticate(ctx, "olga@example.com", password); err != nil || got.Role != leadwire.RoleOwner {
		t.Errorf("the owner cannot sign in: %+v, %v", got, err)
	}
	wantCode(t, s.SetupOwner(ctx, secret, owner("olga2@example.com"), password), leadwire.EUNAUTHORIZED)
	if secret, ok, err := s.OwnerSetupLink(ctx); err != nil || ok || secret != "" {
		t.Errorf("OwnerSetupLink with an owner = %q, %v, %v; want none", secret, ok, err)
	}

	t.Run("an owner made otherwise ends the link", func(t *testing.T) {
		s := openClock(t, open)
		secret, _, err := s.OwnerSetupLink(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mustUser(t, s, leadwire.User{Email: "first@example.com", Role: leadwire.RoleOwner})
		wantCode(t, s.SetupOwner(ctx, secret, owner("second@example.com"), password), leadwire.EUNAUTHORIZED)
	})
}

func testChannelMembers(t *testing.T, open Open) {
	ctx := context.Background()
	s := openClock(t, open)
	ch := mustChannel(t, s, leadwire.Channel{Name: "Zillow"})
	agent := as(mustUser(t, s, leadwire.User{Email: "agent@example.com"}))
	for range 2 { // adding a member twice is no error
		if err := s.AddChannelMember(ctx, ch.ID, "AGENT@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, s.AddChannelMember(ctx, uuid.NewString(), "agent@example.com"), leadwire.ENOTFOUND)
	wantCode(t, s.AddChannelMember(ctx, "not-an-id", "agent@example.com"), leadwire.ENOTFOUND)
	wantCode(t, s.AddChannelMember(ctx, ch.ID, "nobody@example.com"), leadwire.ENOTFOUND)

	mustUser(t, s, leadwire.User{Email: "Bea@example.com"})
	mustUser(t, s, leadwire.User{Email: "outsider@example.com"})
	if err := s.AddChannelMember(ctx, ch.ID, "bea@example.com"); err != nil {
		t.Fatal(err)
	}
	wantMembers(t, s, ch.ID, "agent@example.com", "Bea@example.com")
	_, err := s.ChannelMembers(ctx, uuid.NewString())
	wantCode(t, err, leadwire.ENOTFOUND)

	lead := capture(t, s, ch, leadwire.Payload{Email: "buyer@example.com"})
	wantIDs(t, "a member's leads", search(t, s, agent, leadwire.LeadFilter{}), lead)
	for range 2 { // removing a member who is no longer one is no error
		if err := s.RemoveChannelMember(ctx, ch.ID, "AGENT@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	wantMembers(t, s, ch.ID, "Bea@example.com")
	wantIDs(t, "a removed member's leads", search(t, s, agent, leadwire.LeadFilter{}))
	if err := s.RemoveChannelMember(ctx, ch.ID, "outsider@example.com"); err != nil {
		t.Errorf("removing a user who never was a member: %v", err)
	}
	wantCode(t, s.RemoveChannelMember(ctx, uuid.NewString(), "bea@example.com"), leadwire.ENOTFOUND)
	wantCode(t, s.RemoveChannelMember(ctx, "not-an-id", "bea@example.com"), leadwire.ENOTFOUND)
	wantCode(t, s.RemoveChannelMember(ctx, ch.ID, "nobody@example.com"), leadwire.ENOTFOUND)
	wantMembers(t, s, ch.ID, "Bea@example.com")
}

// wantMembers checks the emails of a channel's members, in order.
func wantMembers(t *testing.T, s Store, channelID string, emails ...string) {
	t.Helper()
	members, err := s.ChannelMembers(context.Background(), channelID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range members {
		got = append(got, u.Email)
	}
	if strings.Join(got, " ") != strings.Join(emails, " ") {
		t.Errorf("members %q, want %q", got, emails)
	}
}
