package leadwire

import "time"

// Contact is a person in the CRM. Every lead belongs to one contact; leads
// of the same person (same email, or same phone number) within one brand
// share it. A newer lead's non-empty name, email and phone replace the
// contact's, and UpdatedAt moves only when one of them changed.
type Contact struct {
	ID          string    `json:"id"`
	Brand       string    `json:"brand"` // the channel's brand, or "channel:<id>" when it has none
	FirstName   string    `json:"first_name,omitempty"`
	LastName    string    `json:"last_name,omitempty"`
	Email       string    `json:"email,omitempty"`
	PhoneNumber string    `json:"phone_number,omitempty"` // E.164 when it could be parsed
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}
