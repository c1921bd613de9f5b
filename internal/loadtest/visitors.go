package main

import (
	"strconv"
	"strings"
)

// A workload renders the JSON body of the n-th lead a load client sends,
// appending it to dst, so that a connection reuses one buffer for all its
// requests.
type workload struct {
	name string
	body func(dst []byte, n int64) []byte
}

// newVisitors sends every lead from a visitor never seen before, as most
// real traffic is: each lead creates a contact.
var newVisitors = workload{"new visitor", func(dst []byte, n int64) []byte {
	return leadBody(dst, n)
}}

// returningVisitors sends the leads of returningPool visitors again and
// again: once the warm-up has sent each of them, every lead matches an
// existing contact and changes nothing in it.
var returningVisitors = workload{"returning visitor", func(dst []byte, n int64) []byte {
	return leadBody(dst, n%returningPool)
}}

// returningPool is how many visitors the returning workload cycles
// through; the warm-up sends many more leads than this.
const returningPool = 1000

// What a listing page's contact form typically sends, around the
// visitor's email and phone.
const (
	leadBeforeEmail = `{"first_name":"Jordan","last_name":"Rivera","email":"`
	leadBeforePhone = `","phone_number":"`
	leadAfterPhone  = `","tag":["buyer","website"],"lead_source":"Listing page",` +
		`"note":"Is the open house on Saturday still on? We are pre-approved.",` +
		`"referer_url":"https://homes.example.com/listings/1841395151?rechat_ad_campaign_id=spring",` +
		`"listing_id":"1841395151","mlsid":"NTREIS","source_type":"Website","ad_campaign_id":"spring",` +
		`"assignees":[{"email":"agent@homes.example.com","mlsid":"0512345"}],` +
		`"message":"Please call in the evening","preferred_time":"evening","budget":"650000"}`
)

// leadBody appends the lead of visitor v to dst.
func leadBody(dst []byte, v int64) []byte {
	dst = append(dst, leadBeforeEmail...)
	dst = append(dst, "visitor-"...)
	dst = strconv.AppendInt(dst, v, 10)
	dst = append(dst, "@example.com"...)
	dst = append(dst, leadBeforePhone...)
	dst = appendPhone(dst, v)
	return append(dst, leadAfterPhone...)
}

// appendPhone appends the phone number of visitor v: a number of their own,
// as real visitors have (a shared number would merge unrelated people's
// contacts). Nine in ten are US numbers in the forms people type; one in
// ten is international. Numbers stay distinct for the first 10 million
// visitors.
func appendPhone(dst []byte, v int64) []byte {
	if v%10 == 9 {
		return appendInternational(dst, v/10)
	}
	digits := usAreaCodes[v%int64(len(usAreaCodes))] + pad(200+v/16%800, 3) + pad(v/(16*800)%10000, 4)
	return append(dst, usForms[v/7%int64(len(usForms))](digits)...)
}

// usAreaCodes are 16 area codes of large US cities.
var usAreaCodes = [16]string{"214", "469", "972", "817", "512", "713", "832", "210",
	"310", "212", "646", "305", "404", "617", "206", "303"}

// usForms write ten national digits the ways US visitors type them.
var usForms = []func(d string) string{
	func(d string) string { return "(" + d[:3] + ") " + d[3:6] + "-" + d[6:] },
	func(d string) string { return d[:3] + "-" + d[3:6] + "-" + d[6:] },
	func(d string) string { return d[:3] + "." + d[3:6] + "." + d[6:] },
	func(d string) string { return d },
	func(d string) string { return "+1 " + d[:3] + " " + d[3:6] + " " + d[6:] },
	func(d string) string { return "+1" + d },
	func(d string) string { return "1-" + d[:3] + "-" + d[3:6] + "-" + d[6:] },
}

// international are mobile and city numbers of eight countries as their
// owners write them, each x one digit of the visitor's number.
var international = [8]string{
	"+44 20 7xxx xxxx",  // London
	"+33 6 xx xx xx xx", // French mobile
	"+49 151 xxxxxxxx",  // German mobile
	"+52 55 xxxx xxxx",  // Mexico City
	"+91 98xxx xxxxx",   // Indian mobile
	"+61 4xx xxx xxx",   // Australian mobile
	"+34 6xx xxx xxx",   // Spanish mobile
	"+8613xxxxxxxxx",    // Chinese mobile, typed without spaces
}

// appendInternational appends the w-th international number.
func appendInternational(dst []byte, w int64) []byte {
	form := international[w%int64(len(international))]
	digits := pad(w/int64(len(international)), 9)
	k := len(digits) - strings.Count(form, "x") // the last digits of w vary fastest
	for i := 0; i < len(form); i++ {
		if form[i] == 'x' {
			dst, k = append(dst, digits[k]), k+1
		} else {
			dst = append(dst, form[i])
		}
	}
	return dst
}

// pad writes n with at least width digits.
func pad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
