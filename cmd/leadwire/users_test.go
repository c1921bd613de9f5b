package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runCLIWith runs the binary with stdin and extra environment variables
// and returns its stdout, stderr and exit code.
func runCLIWith(t *testing.T, stdin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	cmd.Env = append(os.Environ(), env...)
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// apiStatus sends a request to a running server with an Authorization
// header and returns the status and the decoded body.
func apiStatus(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer map[string]any
	json.NewDecoder(res.Body).Decode(&answer)
	return res.StatusCode, answer
}

var (
	setupLine = regexp.MustCompile(`setup_url="?(\S+?)/inbox/setup\?token=([A-Za-z0-9_-]+)`)
	tokenLine = regexp.MustCompile(`^lw_[A-Za-z0-9_-]{43}\n$`)
)

// TestOwnerSetupLink: serve on a database without owner logs a one-time
// link, never a password; its token creates the owner once; a server with
// an owner logs no link.
func TestOwnerSetupLink(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leads.db")
	s := startServe(t, db)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m = setupLine.FindStringSubmatch(s.log.String())
	}
	if m == nil || m[1] != s.url {
		t.Fatalf("serve on a database without owner logged no setup link on its address:\n%s", s.log)
	}
	if strings.Contains(strings.ToLower(s.log.String()), "password") {
		t.Errorf("the log speaks of a password:\n%s", s.log)
	}
	setup := func(token, email string) int {
		status, answer := apiStatus(t, "POST", s.url+"/api/setup", "",
			`{"token":"`+token+`","email":"`+email+`","name":"Olga","password":"correct horse battery"}`)
		if status == 200 {
			if d, _ := answer["data"].(map[string]any); d["role"] != "owner" {
				t.Errorf("setup made %v, want an owner", answer)
			}
		}
		return status
	}
	if status := setup(m[2], "olga@example.com"); status != 200 {
		t.Fatalf("setup with the logged token: %d", status)
	}
	if status := setup(m[2], "again@example.com"); status != 401 {
		t.Errorf("the setup token worked twice: %d", status)
	}
	out, _, _ := runCLI(t, "user", "list", "--db", db, "--json")
	if !strings.Contains(out, `"olga@example.com"`) || !strings.Contains(out, `"owner"`) {
		t.Errorf("user list after setup: %s", out)
	}

	s.cmd.Process.Signal(os.Interrupt)
	<-s.exited
	again := startServe(t, db)
	time.Sleep(200 * time.Millisecond)
	if strings.Contains(again.log.String(), "setup_url") {
		t.Errorf("a server with an owner logged a setup link:\n%s", again.log)
	}
}

// TestUserAndTokenCommands drives the user, token and channel add-member
// commands on the file a running server uses: what they change holds on
// the server's next request.
func TestUserAndTokenCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leads.db")
	dbEnv := []string{"LEADWIRE_DB=" + db}
	s := startServe(t, db)

	out, errOut, code := runCLIWith(t, "correct horse battery\n", nil, "user", "create", "--db", db,
		"--email", "Ann@Example.com", "--name", "Ann", "--role", "owner", "--password-stdin")
	if code != 0 || !uuidLine.MatchString(out) {
		t.Fatalf("user create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	annID := strings.TrimSpace(out)
	if out, errOut, code := runCLIWith(t, "another password", dbEnv, "user", "create", "--email", "bob@example.com", "--mls-id", "NT-77", "--password-stdin"); code != 0 || !uuidLine.MatchString(out) {
		t.Fatalf("user create with LEADWIRE_DB: exit %d, %q %q", code, out, errOut)
	}
	for _, tc := range []struct {
		stdin, want string
		args        []string
	}{
		{"correct horse battery", "--password-stdin", []string{"--email", "cy@example.com"}},
		{"short\n", "shorter than 8", []string{"--email", "cy@example.com", "--password-stdin"}},
		{"correct horse battery", "exists", []string{"--email", "ANN@example.com", "--password-stdin"}},
		{"correct horse battery", "role", []string{"--email", "cy@example.com", "--role", "admin", "--password-stdin"}},
		{"correct horse battery", "not an address", []string{"--email", "cy", "--password-stdin"}},
	} {
		out, errOut, code := runCLIWith(t, tc.stdin, dbEnv, append([]string{"user", "create"}, tc.args...)...)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("user create %v: exit %d, stdout %q, stderr %q; want an error saying %q", tc.args, code, out, errOut, tc.want)
		}
	}

	out, _, code = runCLI(t, "user", "list", "--db", db, "--json")
	var users []struct {
		ID, Email, Name, Role string
		MLSID                 string `json:"mls_id"`
		Disabled              bool
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil || code != 0 || len(users) != 2 ||
		users[0].ID != annID || users[0].Email != "Ann@Example.com" || users[0].Role != "owner" || users[1].Role != "agent" ||
		users[1].MLSID != "NT-77" {
		t.Fatalf("user list --json: %v %s", err, out)
	}
	if out, _, _ := runCLI(t, "user", "list", "--db", db); !strings.Contains(out, "Ann@Example.com") || !strings.Contains(out, "enabled") {
		t.Errorf("user list: %s", out)
	}

	// Tokens: printed once, listed without secret, working on the server.
	ann, errOut, code := runCLI(t, "token", "create", "--db", db, "--user", "ann@example.com", "--name", "zapier")
	if code != 0 || !tokenLine.MatchString(ann) {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q", code, ann, errOut)
	}
	ann = strings.TrimSpace(ann)
	bob, _, _ := runCLIWith(t, "", dbEnv, "token", "create", "--user", "bob@example.com", "--name", "bob's sheet")
	bob = strings.TrimSpace(bob)
	if _, errOut, code := runCLI(t, "token", "create", "--db", db, "--user", "bob@example.com", "--name", "zapier"); code == 0 || !strings.Contains(errOut, "zapier") {
		t.Errorf("a second token named zapier: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "token", "create", "--db", db, "--user", "nobody@example.com", "--name", "x"); code == 0 || !strings.Contains(errOut, "nobody@example.com") {
		t.Errorf("a token for nobody: exit %d, %q", code, errOut)
	}
	for _, tok := range []string{ann, bob} {
		if status, answer := apiStatus(t, "GET", s.url+"/api/me", tok, ""); status != 200 {
			t.Fatalf("/api/me with a new token: %d %v", status, answer)
		}
	}
	var tokens []struct {
		Name, User string
		LastUsedAt time.Time `json:"last_used_at"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, _, _ = runCLI(t, "token", "list", "--db", db, "--json")
		if strings.Contains(out, ann) || strings.Contains(out, bob) {
			t.Fatalf("token list shows a secret: %s", out)
		}
		if err := json.Unmarshal([]byte(out), &tokens); err != nil || len(tokens) != 2 {
			t.Fatalf("token list --json: %v %s", err, out)
		}
		if !tokens[0].LastUsedAt.IsZero() || time.Now().After(deadline) {
			break
		}
	}
	if tokens[0].Name != "zapier" || tokens[0].User != "Ann@Example.com" || time.Since(tokens[0].LastUsedAt) > time.Minute {
		t.Errorf("token list --json = %+v; want zapier, Ann's, used just now", tokens)
	}
	if out, _, _ := runCLI(t, "token", "list", "--db", db); !strings.Contains(out, "bob's sheet") || !strings.Contains(out, "LAST USED") {
		t.Errorf("token list: %s", out)
	}

	// Revoking and disabling act on the running server at once.
	if _, errOut, code := runCLI(t, "token", "revoke", "--db", db, "--name", "zapier"); code != 0 {
		t.Fatalf("token revoke: exit %d, %q", code, errOut)
	}
	if status, _ := apiStatus(t, "GET", s.url+"/api/me", ann, ""); status != 401 {
		t.Errorf("a revoked token: %d, want 401", status)
	}
	if _, errOut, code := runCLI(t, "token", "revoke", "--db", db, "--name", "zapier"); code == 0 || !strings.Contains(errOut, "zapier") {
		t.Errorf("revoking twice: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLIWith(t, "", dbEnv, "user", "disable", "--email", "BOB@example.com"); code != 0 {
		t.Fatalf("user disable: exit %d, %q", code, errOut)
	}
	if status, _ := apiStatus(t, "GET", s.url+"/api/me", bob, ""); status != 401 {
		t.Errorf("the token of a disabled user: %d, want 401", status)
	}
	if _, errOut, code := runCLI(t, "user", "disable", "--db", db, "--email", "nobody@example.com"); code == 0 || !strings.Contains(errOut, "nobody@example.com") {
		t.Errorf("disabling nobody: exit %d, %q", code, errOut)
	}

	// Channel members.
	if out, errOut, code := runCLI(t, "channel", "add-member", "--db", db, "--channel", s.channel, "--email", "bob@example.com"); code != 0 || out != "" {
		t.Errorf("channel add-member: exit %d, %q %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"--channel", "0190a8f4-0000-7000-8000-000000000000", "--email", "bob@example.com"},
		{"--channel", s.channel, "--email", "nobody@example.com"},
	} {
		if _, errOut, code := runCLIWith(t, "", dbEnv, append([]string{"channel", "add-member"}, args...)...); code == 0 || errOut == "" {
			t.Errorf("channel add-member %v: exit %d, want an error", args, code)
		}
	}
}

func TestUserCommandsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"user", "create", "--help"}, {"user", "list", "--help"}, {"user", "disable", "--help"},
		{"token", "create", "--help"}, {"token", "list", "--help"}, {"token", "revoke", "--help"},
		{"channel", "add-member", "--help"},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Usage: leadwire "+args[0]+" "+args[1]) || !strings.Contains(out, "LEADWIRE_DB") {
			t.Errorf("leadwire %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	out, _, _ := runCLI(t, "--help")
	for _, cmd := range []string{"user create", "user list", "user disable", "token create", "token list", "token revoke", "channel add-member"} {
		if !strings.Contains(out, "leadwire "+cmd) {
			t.Errorf("the usage text lacks %s", cmd)
		}
	}
}

// TestChannelMemberCommands lists a channel's members and removes them.
func TestChannelMemberCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "leads.db")
	out, errOut, code := runCLI(t, "channel", "create", "--db", db, "--name", "Zillow")
	if code != 0 || !uuidLine.MatchString(out) {
		t.Fatalf("channel create: exit %d, %q %q", code, out, errOut)
	}
	channel := strings.TrimSpace(out)
	for _, email := range []string{"bob@example.com", "Ann@Example.com"} {
		if _, errOut, code := runCLIWith(t, "correct horse battery", nil, "user", "create", "--db", db, "--email", email, "--password-stdin"); code != 0 {
			t.Fatalf("user create %s: %q", email, errOut)
		}
		if _, errOut, code := runCLI(t, "channel", "add-member", "--db", db, "--channel", channel, "--email", email); code != 0 {
			t.Fatalf("channel add-member %s: %q", email, errOut)
		}
	}
	members := func() []string {
		t.Helper()
		out, errOut, code := runCLI(t, "channel", "members", "--db", db, "--channel", channel, "--json")
		var users []struct{ Email, Role string }
		if err := json.Unmarshal([]byte(out), &users); err != nil || code != 0 {
			t.Fatalf("channel members --json: exit %d, %v, %q %q", code, err, out, errOut)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		return emails
	}
	if got := members(); strings.Join(got, " ") != "Ann@Example.com bob@example.com" {
		t.Errorf("members %q, want Ann's and bob's", got)
	}
	if out, _, _ := runCLI(t, "channel", "members", "--db", db, "--channel", channel); !strings.Contains(out, "EMAIL") || !strings.Contains(out, "bob@example.com") {
		t.Errorf("channel members: %q", out)
	}
	for range 2 { // removing one who is no longer a member is no error
		if out, errOut, code := runCLI(t, "channel", "remove-member", "--db", db, "--channel", channel, "--email", "BOB@example.com"); code != 0 || out != "" {
			t.Errorf("channel remove-member: exit %d, %q %q", code, out, errOut)
		}
	}
	if got := members(); strings.Join(got, " ") != "Ann@Example.com" {
		t.Errorf("members after removing bob %q, want Ann's", got)
	}
	unknown := "0190a8f4-0000-7000-8000-000000000000"
	for _, tc := range []struct {
		want string
		args []string
	}{
		{unknown, []string{"remove-member", "--db", db, "--channel", unknown, "--email", "bob@example.com"}},
		{"nobody@example.com", []string{"remove-member", "--db", db, "--channel", channel, "--email", "nobody@example.com"}},
		{unknown, []string{"members", "--db", db, "--channel", unknown}},
	} {
		if _, errOut, code := runCLI(t, append([]string{"channel"}, tc.args...)...); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("channel %v: exit %d, %q; want an error naming %s", tc.args, code, errOut, tc.want)
		}
	}
	usage, _, _ := runCLI(t, "--help")
	for _, cmd := range []string{"channel members", "channel remove-member"} {
		if out, _, code := runCLI(t, strings.Fields(cmd+" --help")...); code != 0 || !strings.Contains(out, "Usage: leadwire "+cmd) {
			t.Errorf("leadwire %s --help: exit %d, %q", cmd, code, out)
		}
		if !strings.Contains(usage, "leadwire "+cmd) {
			t.Errorf("the usage text lacks %s", cmd)
		}
	}
}
