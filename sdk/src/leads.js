// Lead capture: the request body, attribution from the page URL, and
// binding an existing HTML form.
import { failure } from './http.js'

const ATTRIBUTION = ['lead_channel', 'user_id', 'brand_id', 'ad_campaign_id', 'email_campaign_id', 'email_campaign_email_id']

// Fields a form never sends, whatever their name: secrets and card data.
const SECRET_TYPES = /^(file|password|submit|button|reset|image)$/
const CARD_NAME = /^(cc|card)[-_]?(num|number|cvc|cvv|csc|exp)|^(cvc|cvv|csc)$/i

// Screening fields (see the server's screen package): a hidden field no
// person sees or fills, and how long the form was on screen when sent.
const HONEYPOT = '_lw_website'
const FORM_TIME = '_lw_t'

// given drops empty values, so that a field left blank never hides a value
// found elsewhere.
const given = (o) => Object.fromEntries(Object.entries(o || {}).filter(([, v]) => v != null && v !== ''))

// fromPage returns the rechat_* attribution parameters of the page URL.
const fromPage = () => {
  const params = new URLSearchParams(location.search)
  return given(Object.fromEntries(ATTRIBUTION.map((k) => [k, params.get(`rechat_${k}`)])))
}

// request builds the webhook call of a capture: page attribution first,
// then the channel argument, then the lead, so explicit values win.
export function request(api, channel, lead) {
  const { lead_channel, ...attribution } = { ...fromPage(), ...given(channel) }
  if (!lead_channel) throw failure('lead_channel is required', 0, 'invalid')
  return {
    url: `${api}/leads/channels/${encodeURIComponent(lead_channel)}/webhook`,
    body: { referer_url: location.href, ...attribution, ...given(lead) },
    lead_channel,
  }
}

// collect reads every named, enabled field of form. Checkbox groups and
// multiple selects become arrays; secrets and card fields are left out.
export function collect(form) {
  const values = {}
  const lists = {}
  for (const el of form.elements) {
    const { name, type } = el
    if (!name || name == HONEYPOT || el.disabled || SECRET_TYPES.test(type) || CARD_NAME.test(name)) continue
    if (/\bcc-/.test(el.getAttribute('autocomplete'))) continue
    if (type == 'select-multiple' || (type == 'checkbox' && [...form.elements].some((o) => o != el && o.name == name))) {
      lists[name] = 1
    }
    if (/^(checkbox|radio)$/.test(type) && !el.checked) continue
    ;(values[name] ||= []).push(...(type == 'select-multiple' ? [...el.selectedOptions].map((o) => o.value) : [el.value]))
  }
  for (const k in values) if (!lists[k] && values[k].length == 1) values[k] = values[k][0]
  return values
}

// honeypot adds the hidden, unlabelled field to form: kept off screen and
// out of the tab order and the accessibility tree, so only a bot fills it.
const honeypot = (form) => {
  const box = document.createElement('div')
  box.setAttribute('aria-hidden', 'true')
  box.style.cssText = 'position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden'
  box.innerHTML = `<input name="${HONEYPOT}" tabindex="-1" autocomplete="off">`
  form.appendChild(box)
  return box
}

// bindForm captures form on submit and returns a function that unbinds it.
export function bindForm(capture, form, channel, { validate, onSuccess, onError } = {}) {
  let sending
  const shown = Date.now()
  const trap = honeypot(form)
  const submit = async (event) => {
    event.preventDefault()
    if (sending) return
    sending = true
    // Disabled buttons show the visitor the form is busy and stop a second
    // click from submitting the same lead again; aria-busy tells assistive
    // technology, and /sdk/rechat.min.css styles it.
    const buttons = [...form.elements].filter((b) => /^(submit|image)$/.test(b.type) && !b.disabled)
    buttons.forEach((b) => (b.disabled = true))
    form.setAttribute('aria-busy', 'true')
    try {
      const payload = collect(form)
      if (validate && (await validate(payload)) === false) return
      const lead = await capture(channel, { ...payload, [HONEYPOT]: trap.firstChild.value, [FORM_TIME]: Date.now() - shown })
      onSuccess && onSuccess(lead)
    } catch (e) {
      onError && onError(e)
    } finally {
      sending = false
      buttons.forEach((b) => (b.disabled = false))
      form.removeAttribute('aria-busy')
    }
  }
  form.addEventListener('submit', submit)
  return () => {
    form.removeEventListener('submit', submit)
    trap.remove()
  }
}
