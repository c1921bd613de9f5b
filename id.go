package leadwire

// IsCanonicalID reports whether id is a UUID written the one way leadwire
// writes ids: 36 characters, lower-case hex digits, dashes after the 8th,
// 12th, 16th and 20th digit. The same UUID spelled otherwise (in braces,
// as urn:uuid:, in upper case, without dashes) is not an id: a channel or
// a lead has exactly one URL, so caches, logs and allowed-origin checks
// never see one record under two names.
func IsCanonicalID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
