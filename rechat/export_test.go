package rechat

// Unexported parsers, exposed to the fuzz tests of package rechat_test.
var (
	ParseRetryAfter = parseRetryAfter
	SensitiveField  = sensitiveField
	CookieLeadID    = cookieLeadID
	Backoff         = backoff
)

// DecodeItem parses an outbox file and returns its kind.
func DecodeItem(b []byte) (kind string, err error) {
	it, err := decodeItem(b)
	if err != nil {
		return "", err
	}
	return it.Kind, nil
}
