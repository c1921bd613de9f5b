// The tracker: which lead this visitor is, and their activity on that
// lead's timeline.
import { failure } from './http.js'
import { storage } from './queue.js'

const YEAR = 31536000

// createTracker returns sdk.Leads.Tracker. options is the tracker setting
// (false keeps the lead id in memory only); send(url, body) posts or queues.
export function createTracker(options, api, send) {
  const cookie = options !== false && {
    name: 'rechat-sdk-tracker',
    ...(options && options.cookie),
  }
  const { maxAge = YEAR, domain, path = '/', sameSite = 'Lax', secure } = (cookie && cookie.options) || {}
  let id

  // saved reads the id from the cookie, or from localStorage when the
  // cookie expired or was cleared.
  const saved = () => {
    if (!cookie) return
    const pair = document.cookie.split('; ').find((c) => c.startsWith(`${cookie.name}=`))
    return pair ? decodeURIComponent(pair.slice(cookie.name.length + 1)) : storage()?.getItem(cookie.name)
  }

  const Tracker = {
    identify(leadId) {
      id = leadId
      if (!cookie) return
      document.cookie =
        `${cookie.name}=${encodeURIComponent(leadId)}; max-age=${maxAge}; path=${path}; SameSite=${sameSite}` +
        (domain ? `; domain=${domain}` : '') +
        (secure ? '; secure' : '')
      storage()?.setItem(cookie.name, leadId)
    },
    capture(activity) {
      const lead = id || saved()
      if (!lead) return Promise.reject(failure('No tracking id is found', 0, 'no_tracking_id'))
      return send(`${api}/leads/${encodeURIComponent(lead)}/timeline`, activity)
    },
  }

  // Every helper is named after its action: viewedListing records
  // ContactViewedListing, and so on.
  const helpers = (names, field) =>
    names.split(' ').forEach((name) => {
      const action = `Contact${name[0].toUpperCase()}${name.slice(1)}`
      Tracker[name] = field
        ? (value, notes) => Tracker.capture({ action, [field]: value, notes })
        : (notes) => Tracker.capture({ action, notes })
    })
  helpers('viewedListing sharedListing favoritedListing removedFavoriteListing valuedListing', 'listing')
  helpers('searchedListings createdSearch removedSearch', 'search')
  helpers('signedUp loggedIn')
  return Tracker
}
