package storetest

// userCases test the leadwire.UserService of a store.
var userCases = []storeCase{}
