package leadwire

import (
	"testing"

	"github.com/google/uuid"
)

func TestIsCanonicalID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"2c55e69d-adbe-42d9-97a5-bedb43783b80", true},
		{"0193a6f0-0000-7000-8000-000000000000", true},
		{"2C55E69D-ADBE-42D9-97A5-BEDB43783B80", false},
		{"2c55e69d-adbe-42d9-97a5-bedb43783B80", false},
		{"{2c55e69d-adbe-42d9-97a5-bedb43783b80}", false},
		{"urn:uuid:2c55e69d-adbe-42d9-97a5-bedb43783b80", false},
		{"2c55e69dadbe42d997a5bedb43783b80", false},
		{"2c55e69d-adbe-42d9-97a5-bedb43783b8", false},
		{"2c55e69d-adbe-42d9-97a5-bedb43783b800", false},
		{"2c55e69d_adbe-42d9-97a5-bedb43783b80", false},
		{"2c55e69d-adbe-42d9-97a5-bedb43783g80", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := IsCanonicalID(tt.id); got != tt.want {
				t.Errorf("IsCanonicalID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

// FuzzIsCanonicalID holds IsCanonicalID to the UUID library: an id is
// canonical exactly when it parses and prints back as itself.
func FuzzIsCanonicalID(f *testing.F) {
	for _, s := range []string{"2c55e69d-adbe-42d9-97a5-bedb43783b80", "{2c55e69d-adbe-42d9-97a5-bedb43783b80}", "2C55E69D-ADBE-42D9-97A5-BEDB43783B80", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		u, err := uuid.Parse(id)
		want := err == nil && u.String() == id
		if got := IsCanonicalID(id); got != want {
			t.Errorf("IsCanonicalID(%q) = %v, the UUID library says %v", id, got, want)
		}
	})
}
