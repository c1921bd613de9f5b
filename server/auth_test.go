package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/leadwire/leadwire"
	"github.com/leadwire/leadwire/internal/testserver"
	"github.com/leadwire/leadwire/server"
)

// publicAPI are the /api routes that take no credential: they are how
// one is obtained.
var publicAPI = map[string]bool{"POST /api/session": true, "POST /api/setup": true}

// apiRoutes lists every authenticated /api route with its path values
// filled with ids that exist nowhere.
func apiRoutes(t *testing.T) (routes [][2]string) {
	t.Helper()
	value := regexp.MustCompile(`\{[^}]*\}`)
	for _, r := range server.New(server.Config{}).APIRoutes() {
		if publicAPI[r[0]+" "+r[1]] || r[0] == http.MethodOptions {
			continue
		}
		routes = append(routes, [2]string{r[0], value.ReplaceAllStringFunc(r[1], func(string) string { return uuid.NewString() })})
	}
	if len(routes) == 0 {
		t.Fatal("no authenticated /api routes")
	}
	return routes
}

// signIn signs in as email with testserver.Password and returns the
// session cookie and the CSRF token.
func signIn(t *testing.T, s *testserver.Server, email string) (cookie, csrf string) {
	t.Helper()
	a := do(t, "POST", s.URL+"/api/session", "application/json", `{"email":"`+email+`","password":"`+testserver.Password+`"}`)
	if a.status != 200 {
		t.Fatalf("sign in as %s: %d %v", email, a.status, a.body)
	}
	for _, c := range cookies(a) {
		if c.Name == "leadwire_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	csrf = str(a.data()["csrf_token"])
	if cookie == "" || csrf == "" {
		t.Fatalf("sign in set cookie %q and CSRF token %q", cookie, csrf)
	}
	return cookie, csrf
}

// cookies are the cookies an answer sets.
func cookies(a answer) []*http.Cookie { return (&http.Response{Header: a.header}).Cookies() }

func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["code"] != code || str(a.body["message"]) == "" {
		t.Errorf("answer %d %v, want %d with code %q and a message", a.status, a.body, status, code)
	}
}

// TestAPINeedsACredential: every authenticated route answers 401 with a
// JSON error without a valid credential, whatever is wrong with it.
func TestAPINeedsACredential(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	_, revoked := s.NewUser(t, leadwire.User{Email: "revoked@example.com"})
	if err := s.Store.RevokeToken(ctx, "revoked@example.com"); err != nil {
		t.Fatal(err)
	}
	_, disabled := s.NewUser(t, leadwire.User{Email: "disabled@example.com"})
	disabledCookie, disabledCSRF := signIn(t, s, "disabled@example.com")
	if err := s.Store.DisableUser(ctx, "disabled@example.com"); err != nil {
		t.Fatal(err)
	}
	_, valid := s.NewUser(t, leadwire.User{Email: "valid@example.com"})

	credentials := []struct {
		name    string
		header  []string
		message string
	}{
		{"none", nil, "credential is required"},
		{"empty bearer", []string{"Authorization", "Bearer "}, "Bearer TOKEN"},
		{"basic", []string{"Authorization", "Basic dXNlcjpwYXNz"}, "Bearer TOKEN"},
		{"unknown token", []string{"Authorization", "Bearer lw_" + strings.Repeat("A", 43)}, "unknown or was revoked"},
		{"not a token", []string{"Authorization", "Bearer " + uuid.NewString()}, "not a leadwire API token"},
		{"revoked token", []string{"Authorization", "Bearer " + revoked}, "unknown or was revoked"},
		{"disabled user's token", []string{"Authorization", "Bearer " + disabled}, "disabled"},
		{"disabled user's session", []string{"Cookie", disabledCookie, "X-CSRF-Token", disabledCSRF}, "sign in again"},
		{"unknown session", []string{"Cookie", "leadwire_session=" + strings.Repeat("x", 43)}, "sign in again"},
		// The header is the credential when sent, even beside a cookie.
		{"bad header beside a cookie", []string{"Authorization", "Bearer nope", "Cookie", disabledCookie}, "not a leadwire API token"},
	}
	for _, r := range apiRoutes(t) {
		for _, c := range credentials {
			t.Run(r[0]+" "+r[1]+" "+c.name, func(t *testing.T) {
				a := do(t, r[0], s.URL+r[1], "application/json", "{}", c.header...)
				wantError(t, a, 401, "unauthorized")
				if !strings.Contains(str(a.body["message"]), c.message) {
					t.Errorf("message %q should say %q", a.body["message"], c.message)
				}
			})
		}
		t.Run(r[0]+" "+r[1]+" valid token", func(t *testing.T) {
			a := do(t, r[0], s.URL+r[1], "application/json", "{}", "Authorization", "Bearer "+valid)
			if a.status == 401 || a.status == 403 {
				t.Errorf("a valid token was refused: %d %v", a.status, a.body)
			}
		})
	}
}

// TestCookieWritesNeedCSRFToken: a change made with the session cookie
// needs the session's CSRF token and must come from the server's own
// pages; a page of another site posting a form with the cookie is
// refused, and the session lives on.
func TestCookieWritesNeedCSRFToken(t *testing.T) {
	s := testserver.Start(t)
	_, token := s.NewUser(t, leadwire.User{Email: "agent@example.com"})
	cookie, csrf := signIn(t, s, "agent@example.com")
	_, otherCSRF := signIn(t, s, "agent@example.com")

	for _, r := range apiRoutes(t) {
		if r[0] == http.MethodGet || r[0] == http.MethodHead {
			continue
		}
		for _, tc := range []struct {
			name, contentType string
			header            []string
		}{
			{"no token", "application/json", []string{"Cookie", cookie}},
			{"another session's token", "application/json", []string{"Cookie", cookie, "X-CSRF-Token", otherCSRF}},
			{"cross-site form post", "application/x-www-form-urlencoded",
				[]string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
			{"cross-site with the token", "application/json",
				[]string{"Cookie", cookie, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site"}},
			{"other origin without Sec-Fetch-Site", "text/plain",
				[]string{"Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example"}},
		} {
			t.Run(r[0]+" "+r[1]+" "+tc.name, func(t *testing.T) {
				wantError(t, do(t, r[0], s.URL+r[1], tc.contentType, "status=spam", tc.header...), 403, "forbidden")
			})
		}
		t.Run(r[0]+" "+r[1]+" bearer needs no CSRF token", func(t *testing.T) {
			a := do(t, r[0], s.URL+r[1], "application/json", "{}", "Authorization", "Bearer "+token, "Sec-Fetch-Site", "cross-site")
			if a.status == 401 || a.status == 403 {
				t.Errorf("a token request was refused: %d %v", a.status, a.body)
			}
		})
	}
	if a := do(t, "GET", s.URL+"/api/me", "", "", "Cookie", cookie); a.status != 200 {
		t.Fatalf("the session ended after refused changes: %d %v", a.status, a.body)
	}
	// With its token, from the server's own page, the change is made.
	a := do(t, "DELETE", s.URL+"/api/session", "", "", "Cookie", cookie, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "same-origin")
	if a.status != 200 {
		t.Fatalf("sign out with the CSRF token: %d %v", a.status, a.body)
	}
}

func TestSignIn(t *testing.T) {
	s := testserver.Start(t)
	ann, token := s.NewUser(t, leadwire.User{Email: "Ann@Example.com", Name: "Ann", Role: leadwire.RoleOwner})
	body := `{"email":"ann@example.COM","password":"` + testserver.Password + `"}`

	a := do(t, "POST", s.URL+"/api/session", "application/json", body)
	if a.status != 200 {
		t.Fatalf("sign in: %d %v", a.status, a.body)
	}
	d := a.data()
	if d["id"] != ann.ID || d["email"] != "Ann@Example.com" || d["role"] != "owner" || d["name"] != "Ann" || str(d["csrf_token"]) == "" {
		t.Errorf("sign in answered %v, want Ann with a CSRF token", d)
	}
	if _, ok := d["password_hash"]; ok {
		t.Errorf("the answer shows a password hash: %v", d)
	}
	var cookie *http.Cookie
	for _, c := range cookies(a) {
		if c.Name == "leadwire_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure ||
		cookie.MaxAge < 29*24*3600 || len(cookie.Value) < 32 {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP, a month", cookie)
	}
	session := "leadwire_session=" + cookie.Value

	me := do(t, "GET", s.URL+"/api/me", "", "", "Cookie", session)
	if me.status != 200 || me.data()["id"] != ann.ID || me.data()["csrf_token"] != d["csrf_token"] {
		t.Errorf("/api/me with the cookie: %d %v", me.status, me.body)
	}
	me = do(t, "GET", s.URL+"/api/me", "", "", "Authorization", "Bearer "+token)
	if me.status != 200 || me.data()["id"] != ann.ID || me.data()["csrf_token"] != nil {
		t.Errorf("/api/me with a token: %d %v; want Ann and no CSRF token", me.status, me.body)
	}

	t.Run("refused", func(t *testing.T) {
		wrong := do(t, "POST", s.URL+"/api/session", "application/json", `{"email":"ann@example.com","password":"wrong password"}`)
		unknown := do(t, "POST", s.URL+"/api/session", "application/json", `{"email":"nobody@example.com","password":"wrong password"}`)
		wantError(t, wrong, 401, "unauthorized")
		if wrong.body["message"] != unknown.body["message"] || unknown.status != 401 {
			t.Errorf("a wrong password (%v) and an unknown email (%v) are told apart", wrong.body, unknown.body)
		}
		for _, tc := range []struct {
			contentType, body string
			status            int
			message           string
		}{
			{"application/json", `{"email":"ann@example.com"`, 400, "byte"},
			{"application/json", `{"email":"ann@example.com","password":123456789}`, 400, "password must be a string"},
			{"application/json", `["ann@example.com"]`, 400, "JSON object"},
			{"application/json", `{"email":"ann@example.com"}`, 400, "password"},
			{"application/x-www-form-urlencoded", "email=ann@example.com&password=x", 415, "application/json"},
			{"application/json", `{"email":"` + strings.Repeat("a", 70000) + `"}`, 413, ""},
		} {
			a := do(t, "POST", s.URL+"/api/session", tc.contentType, tc.body)
			if a.status != tc.status || !strings.Contains(str(a.body["message"]), tc.message) {
				t.Errorf("sign in with %.60s: %d %v, want %d naming %q", tc.body, a.status, a.body, tc.status, tc.message)
			}
		}
		// Signing in from another site's page would sign the browser in
		// to an account of the attacker's.
		a := do(t, "POST", s.URL+"/api/session", "text/plain", body, "Sec-Fetch-Site", "cross-site")
		wantError(t, a, 403, "forbidden")
	})

	t.Run("sign out", func(t *testing.T) {
		a := do(t, "DELETE", s.URL+"/api/session", "", "", "Cookie", session, "X-CSRF-Token", str(d["csrf_token"]))
		if a.status != 200 || !strings.Contains(a.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("sign out: %d %v, Set-Cookie %q; want the cookie cleared", a.status, a.body, a.header.Get("Set-Cookie"))
		}
		wantError(t, do(t, "GET", s.URL+"/api/me", "", "", "Cookie", session), 401, "unauthorized")
		// The token is untouched by the session's end.
		if a := do(t, "GET", s.URL+"/api/me", "", "", "Authorization", "Bearer "+token); a.status != 200 {
			t.Errorf("the token stopped with the session: %d", a.status)
		}
	})
}

// TestSecureCookies: behind a proxy that terminates TLS the server is told
// so, and the session cookie is sent over TLS only.
func TestSecureCookies(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) { c.SecureCookies = true })
	s.NewUser(t, leadwire.User{Email: "ann@example.com"})
	a := do(t, "POST", s.URL+"/api/session", "application/json", `{"email":"ann@example.com","password":"`+testserver.Password+`"}`)
	if c := cookies(a); a.status != 200 || len(c) != 1 || !c[0].Secure {
		t.Fatalf("sign in: %d, cookies %v; want one Secure cookie", a.status, c)
	}
}

// TestSignInThrottled: repeated failures lock an account, and an address,
// for a while, even for the right password; the answer says how long.
func TestSignInThrottled(t *testing.T) {
	signInAs := func(s *testserver.Server, email, password string) answer {
		return do(t, "POST", s.URL+"/api/session", "application/json", `{"email":"`+email+`","password":"`+password+`"}`)
	}
	t.Run("account", func(t *testing.T) {
		s := testserver.Start(t)
		s.NewUser(t, leadwire.User{Email: "ann@example.com"})
		s.NewUser(t, leadwire.User{Email: "bob@example.com"})
		for i := range 5 {
			if a := signInAs(s, "ANN@example.com", "wrong password"); a.status != 401 {
				t.Fatalf("failure %d: %d %v, want 401", i+1, a.status, a.body)
			}
		}
		a := signInAs(s, "ann@example.com", testserver.Password)
		wantError(t, a, 429, "too_many_requests")
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 30 || secs > 60 {
			t.Errorf("Retry-After = %q, want about a minute", a.header.Get("Retry-After"))
		}
		if a := signInAs(s, "bob@example.com", testserver.Password); a.status != 200 {
			t.Errorf("another account from the same address: %d %v, want 200", a.status, a.body)
		}
	})
	t.Run("address", func(t *testing.T) {
		s := testserver.Start(t)
		s.NewUser(t, leadwire.User{Email: "ann@example.com"})
		for i := range 20 { // four accounts, under each account's limit
			if a := signInAs(s, "guess"+strconv.Itoa(i%4)+"@example.com", "wrong password"); a.status != 401 {
				t.Fatalf("failure %d: %d %v, want 401", i+1, a.status, a.body)
			}
		}
		wantError(t, signInAs(s, "ann@example.com", testserver.Password), 429, "too_many_requests")
	})
	t.Run("parallel guesses", func(t *testing.T) {
		s := testserver.Start(t)
		s.NewUser(t, leadwire.User{Email: "ann@example.com"})
		statuses := make(chan int, 12)
		var wg sync.WaitGroup
		for range cap(statuses) {
			wg.Go(func() { statuses <- signInAs(s, "ann@example.com", "wrong password").status })
		}
		wg.Wait()
		close(statuses)
		refused := 0
		for status := range statuses {
			if status == 401 {
				refused++
			}
		}
		if refused != 5 {
			t.Errorf("%d of 12 guesses sent at once were checked, want 5", refused)
		}
	})
	t.Run("success clears the account", func(t *testing.T) {
		s := testserver.Start(t)
		s.NewUser(t, leadwire.User{Email: "ann@example.com"})
		for range 2 {
			for range 4 {
				signInAs(s, "ann@example.com", "wrong password")
			}
			if a := signInAs(s, "ann@example.com", testserver.Password); a.status != 200 {
				t.Fatalf("after 4 failures: %d %v, want 200", a.status, a.body)
			}
		}
	})
}

// TestOwnerSetup: the one-time secret of the setup link creates the
// first owner, signs them in, and then stops working.
func TestOwnerSetup(t *testing.T) {
	s := testserver.Start(t)
	secret, ok, err := s.Store.OwnerSetupLink(context.Background())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	setup := func(token, email, password string) answer {
		return do(t, "POST", s.URL+"/api/setup", "application/json",
			`{"token":"`+token+`","email":"`+email+`","name":"Olga","password":"`+password+`"}`)
	}
	wantError(t, setup("wrong", "olga@example.com", testserver.Password), 401, "unauthorized")
	wantError(t, setup("", "olga@example.com", testserver.Password), 400, "invalid")
	wantError(t, setup(secret, "olga@example.com", "short"), 400, "invalid")
	wantError(t, setup(secret, "not an email", testserver.Password), 400, "invalid")

	a := setup(secret, "olga@example.com", testserver.Password)
	if a.status != 200 || a.data()["role"] != "owner" || a.data()["email"] != "olga@example.com" || !strings.Contains(a.header.Get("Set-Cookie"), "leadwire_session=") {
		t.Fatalf("setup: %d %v; want the owner, signed in", a.status, a.body)
	}
	wantError(t, setup(secret, "olga2@example.com", testserver.Password), 401, "unauthorized")
}
