package leadwire

import "strings"

// ActionAssigneesChanged is the timeline action that records a change of
// a lead's assignees. Its notes name the agents before and after; the
// store keeps both full lists with it.
const ActionAssigneesChanged = "AssigneesChanged"

// NormalizeAssignees trims the assignees' text, puts their phone numbers
// in E.164 form and drops empty ones, as Payload.Normalize does for a
// captured lead's assignees. It returns nil for an empty list.
func NormalizeAssignees(assignees []Assignee) []Assignee {
	p := Payload{Assignees: assignees}
	p.Normalize()
	return p.Assignees
}

// AssigneesChangeNotes is the note of an ActionAssigneesChanged activity:
// the agents before and after, each by the first of email, phone, name and
// MLS id it has.
func AssigneesChangeNotes(before, after []Assignee) string {
	return "assignees changed from " + assigneeList(before) + " to " + assigneeList(after)
}

func assigneeList(list []Assignee) string {
	if len(list) == 0 {
		return "none"
	}
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = a.label()
	}
	return strings.Join(names, ", ")
}

// label names an assignee for a person reading the timeline.
func (a Assignee) label() string {
	name := strings.TrimSpace(a.FirstName + " " + a.LastName)
	for _, s := range []string{a.Email, a.PhoneNumber, name, a.MLSID} {
		if s != "" {
			return s
		}
	}
	return a.MLS
}
