package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadwire/leadwire/internal/testserver"
)

// TestSetupPage: the setup link serve logs opens a form that works without
// JavaScript; it creates the owner once, signs them in, says what was wrong
// otherwise, and shows what a visitor typed as text.
func TestSetupPage(t *testing.T) {
	s := testserver.Start(t)
	secret, ok, err := s.Store.OwnerSetupLink(context.Background())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	res, err := http.Get(s.URL + "/inbox/setup?token=" + url.QueryEscape(secret))
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, res)
	for _, want := range []string{`<label for="email">Email</label>`, `<label for="password">Password</label>`,
		`name="token" value="` + secret + `"`, `<button type="submit">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the setup page lacks %s:\n%s", want, page)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	post := func(token, email, name, password string) (*http.Response, string) {
		res, err := http.PostForm(s.URL+"/inbox/setup", url.Values{
			"token": {token}, "email": {email}, "name": {name}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		return res, readPage(t, res)
	}
	if res, page := post("wrong", "olga@example.com", "Olga", testserver.Password); res.StatusCode != 401 || !strings.Contains(page, `role="alert"`) {
		t.Errorf("a wrong token: %d\n%s", res.StatusCode, page)
	}
	res, page = post(secret, "olga@example.com", "<img src=x onerror=alert(1)>", "short")
	if res.StatusCode != 400 || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") || strings.Contains(page, "<img") {
		t.Errorf("a short password: %d, want 400 with the name typed shown as text:\n%s", res.StatusCode, page)
	}
	res, page = post(secret, "olga@example.com", "Olga", testserver.Password)
	if res.StatusCode != 200 || !strings.Contains(page, "olga@example.com") {
		t.Fatalf("setting up the owner: %d\n%s", res.StatusCode, page)
	}
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "leadwire_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly {
		t.Fatalf("no HttpOnly session cookie after the setup: %v", res.Cookies())
	}
	req, _ := http.NewRequest("GET", s.URL+"/api/me", nil)
	req.AddCookie(session)
	me, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readPage(t, me); me.StatusCode != 200 || !strings.Contains(body, `"role":"owner"`) {
		t.Errorf("/api/me with the setup's session: %d %s", me.StatusCode, body)
	}
	if res, _ := post(secret, "other@example.com", "Other", testserver.Password); res.StatusCode != 401 {
		t.Errorf("the token used a second time: %d, want 401", res.StatusCode)
	}
}

func readPage(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
