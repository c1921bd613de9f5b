package screen

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
)

//go:embed disposable_domains.txt
var disposableList string

// Domains is a set of mail domains; a subdomain of a domain in the set is
// in it too.
type Domains struct {
	set map[string]bool
}

// DisposableDomains returns the embedded list of throwaway mail domains.
var DisposableDomains = sync.OnceValue(func() *Domains {
	d, err := ParseDomains(strings.NewReader(disposableList))
	if err != nil {
		panic(err) // the embedded file, checked by the tests
	}
	return d
})

// maxDomainLine bounds a line of a domain list.
const maxDomainLine = 1024

// ParseDomains reads a domain list: one domain a line, in any case;
// blank lines and lines starting with # are skipped. A line that is not a
// domain (spaces, an @, longer than a domain can be) is an error naming
// the line.
func ParseDomains(r io.Reader) (*Domains, error) {
	d := &Domains{set: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxDomainLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		domain := strings.ToLower(strings.TrimSuffix(line, "."))
		if !ValidEmail("x@" + domain) {
			return nil, fmt.Errorf("line %d: %q is not a mail domain", n, line)
		}
		d.set[domain] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("domain list: %w", err)
	}
	return d, nil
}

// Len is how many domains d holds.
func (d *Domains) Len() int { return len(d.set) }

// Contains reports whether domain or a domain it is under is in d.
func (d *Domains) Contains(domain string) bool {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	for domain != "" {
		if d.set[domain] {
			return true
		}
		_, domain, _ = strings.Cut(domain, ".")
	}
	return false
}
