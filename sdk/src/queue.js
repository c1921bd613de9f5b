// Offline sync: requests that cannot be sent now wait in localStorage and
// are sent in order later, by exactly one tab at a time.
import { failure, post, retryable, uuid } from './http.js'

// A tab without Web Locks owns the queue for this long after each claim.
const LEASE_MS = 3e4

// storage returns localStorage, or nothing where the browser forbids it
// (blocked cookies, some sandboxed frames): there the SDK works without it.
export function storage() {
  try {
    return localStorage
  } catch {}
}

const emit = (type, detail) => dispatchEvent(new CustomEvent(type, { detail }))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let seq = 0

// createQueue returns the queue of the API at api. Each item has its own
// storage key, so tabs adding and removing items never overwrite each
// other. delivered(item, data) runs once an item was sent.
export function createQueue(api, max, delivered) {
  const prefix = `rechat-sdk-queue ${api} `
  const leaseKey = `rechat-sdk-lease ${api}`
  const tab = uuid()
  let attempts = 0
  let timer
  let busy

  const keys = () => Object.keys(localStorage).filter((k) => k.startsWith(prefix))
  const first = () => {
    let item
    for (const k of keys()) {
      try {
        const it = JSON.parse(localStorage[k])
        if (!item || it.t < item.t) item = it
      } catch {
        localStorage.removeItem(k)
      }
    }
    return item
  }

  // retry flushes again later: exponential backoff with jitter, capped at
  // five minutes, never sooner than the server's Retry-After.
  const retry = (after) => {
    clearTimeout(timer)
    const backoff = Math.min(1e3 * 2 ** attempts++, 3e5) * (0.5 + Math.random() / 2)
    timer = setTimeout(flush, Math.max(backoff, after * 1e3 || 0))
  }

  // claim takes or renews the lease where Web Locks are missing. A tab that
  // takes a free lease waits, then checks no other tab took it meanwhile.
  const claim = async () => {
    const [owner, until] = (localStorage.getItem(leaseKey) || '').split(' ')
    if (owner != tab && until > Date.now()) return false
    localStorage.setItem(leaseKey, `${tab} ${Date.now() + LEASE_MS}`)
    if (owner != tab) await sleep(50 + Math.random() * 100)
    return localStorage.getItem(leaseKey).startsWith(tab)
  }

  // drain sends items oldest first; it reads the storage again for every
  // item, so it also sends what other tabs add while it runs.
  const drain = async (locked) => {
    for (let item; (item = first()); ) {
      if (!(locked || (await claim()))) return false
      let data
      try {
        data = await post(item.url, item.body, item.id)
      } catch (error) {
        if (retryable(error)) return retry(error.retryAfter)
        localStorage.removeItem(prefix + item.id)
        console.warn('rechat: dropped a queued request the server refused', error)
        emit('rechat:queue-error', { item, error })
        continue
      }
      localStorage.removeItem(prefix + item.id)
      attempts = 0
      delivered(item, data)
      emit('rechat:queue-delivered', { item, data })
    }
    if (!locked && (localStorage.getItem(leaseKey) || '').startsWith(tab)) localStorage.removeItem(leaseKey)
  }

  async function flush() {
    if (busy || !navigator.onLine) return
    busy = true
    try {
      const done = navigator.locks
        ? await navigator.locks.request(prefix, { ifAvailable: true }, (lock) => lock && drain(true))
        : await drain()
      // Another tab is sending; look again later in case it stops.
      if (done === false || done === null) retry()
    } finally {
      busy = false
    }
  }

  return {
    flush,
    // add stores item and resolves the caller's promise as queued.
    add(item, after) {
      if (keys().length >= max) {
        throw failure(`The offline queue is full (${max} requests); try again when online`, 0, 'queue_full')
      }
      item.t = Date.now() * 1e3 + (seq++ % 1e3)
      localStorage.setItem(prefix + item.id, JSON.stringify(item))
      if (navigator.onLine) retry(after)
      return { queued: true, idempotency_key: item.id }
    },
  }
}
