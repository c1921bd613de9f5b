// The one place that talks to the network: JSON over fetch, failures as
// Error objects carrying the HTTP status and the server's code and message.

// uuid returns a random version 4 UUID. crypto.randomUUID exists only in
// secure contexts, so pages served over plain http build one by hand.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 15) | 64 // version 4
  b[8] = (b[8] & 63) | 128 // RFC 4122 variant
  const h = Array.from(b, (x) => (x | 256).toString(16).slice(1)).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// failure is the Error every rejection carries: a message for people,
// the HTTP status (0 when no answer came) and a code for programs.
export const failure = (message, status, code) => Object.assign(new Error(message), { status, code })

// retryable reports whether a request that failed may succeed later as it
// is: no answer at all, a server error or rate limiting.
export const retryable = (e) => !e.status || e.status >= 500 || e.status == 429

// post sends body as JSON under an Idempotency-Key, so that a retry after a
// lost answer never stores twice, and resolves with the answer's data.
export async function post(url, body, key) {
  const json = JSON.stringify(body)
  let res
  try {
    res = await fetch(url, {
      method: 'POST',
      // keepalive lets a request finish while the page unloads; browsers
      // refuse keepalive bodies over 64 KiB (bytes, not characters), so
      // large ones go without.
      keepalive: new Blob([json]).size <= 65536,
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: json,
    })
  } catch (e) {
    throw failure(`Network error: ${e.message}`, 0, 'network')
  }
  const answer = await res.json().catch(() => ({}))
  if (res.ok) return answer.data || {}
  const e = failure(answer.message || `HTTP ${res.status}`, res.status, answer.code || 'http_error')
  e.retryAfter = +res.headers.get('Retry-After') || 0
  throw e
}
