package leadwire

import "time"

// Contact is a person in the CRM. Every lead belongs to one contact; leads
// of the same person (same email, or same phone number) within one brand
// share it. A lead fills the contact's empty name, email and phone but
// never replaces one: capture is public, and whoever knows a channel id
// could otherwise rename a known person. The lead keeps the values it was
// sent, so differing ones stay visible there. UpdatedAt moves only when a
// value was filled. IDs look random and tell nothing of when the contact
// was created.
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
