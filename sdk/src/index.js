// Rechat.Sdk: the settings, and the pieces put together.
import { post, retryable, uuid } from './http.js'
import { bindForm, request } from './leads.js'
import { createQueue, storage } from './queue.js'
import { createTracker } from './tracker.js'

const PRODUCTION = 'https://api.rechat.com'
const SANDBOX = 'https://api.sandbox.rechat.com'

// A script served by a leadwire server talks to that server by default.
// document.currentScript is only set while the script first runs.
const script = globalThis.document?.currentScript?.src
const scriptURL = script && new URL(script)
const served = scriptURL && /\/sdk\/rechat(\.min)?\.js$/.test(scriptURL.pathname) && scriptURL.origin

// pick keeps the documented fields of a created lead.
const pick = ({ id, contact, created_at, lead_channel, source_type }) => ({ id, contact, created_at, lead_channel, source_type })

export class Sdk {
  constructor(settings = {}) {
    const { api_url, sandbox, tracker, offline_sync } = settings
    const api = (api_url || (sandbox ? SANDBOX : served || PRODUCTION)).replace(/\/+$/, '')
    const queue =
      offline_sync !== false &&
      storage() &&
      createQueue(api, (offline_sync && offline_sync.max_queue_size) || 500, (item, data) => {
        if (item.lead) follow(data)
      })
    // follow points the tracker at a lead just created, unless the site
    // turned the tracker off.
    const follow = (data) => {
      if (data.id && tracker !== false) Tracker.identify(data.id)
    }

    // send posts now or, when the browser is offline or the server cannot
    // answer yet, queues the request under the same idempotency key.
    const send = async (url, body, lead) => {
      const item = { id: uuid(), url, body, lead }
      if (queue && !navigator.onLine) return queue.add(item)
      try {
        return await post(url, body, item.id)
      } catch (e) {
        if (queue && retryable(e)) return queue.add(item, e.retryAfter)
        throw e
      }
    }
    const Tracker = createTracker(tracker, api, send)

    const capture = async (channel, lead) => {
      const { url, body, lead_channel } = request(api, channel, lead)
      const data = await send(url, body, true)
      if (data.queued) return { ...data, lead_channel }
      follow(data)
      return pick(data)
    }

    this.Leads = {
      capture,
      form: (element, channel, events) => bindForm(capture, element, channel, events),
      Tracker,
    }
    if (queue) {
      addEventListener('online', queue.flush)
      queue.flush()
    }
  }
}
