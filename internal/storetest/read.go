package storetest

// readCases test the read model: SearchLeads, UpdateLead, visibility by
// user, and erasure.
var readCases = []storeCase{}
