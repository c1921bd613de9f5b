var Rechat = (() => {
  var __defProp = Object.defineProperty;
  var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
  var __getOwnPropNames = Object.getOwnPropertyNames;
  var __hasOwnProp = Object.prototype.hasOwnProperty;
  var __export = (target, all) => {
    for (var name in all)
      __defProp(target, name, { get: all[name], enumerable: true });
  };
  var __copyProps = (to, from, except, desc) => {
    if (from && typeof from === "object" || typeof from === "function") {
      for (let key of __getOwnPropNames(from))
        if (!__hasOwnProp.call(to, key) && key !== except)
          __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
    }
    return to;
  };
  var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

  // src/index.js
  var index_exports = {};
  __export(index_exports, {
    Sdk: () => Sdk
  });

  // src/http.js
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = b[6] & 15 | 64;
    b[8] = b[8] & 63 | 128;
    const h = Array.from(b, (x) => (x | 256).toString(16).slice(1)).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  var failure = (message, status, code) => Object.assign(new Error(message), { status, code });
  var retryable = (e) => !e.status || e.status >= 500 || e.status == 429;
  async function post(url, body, key) {
    const json = JSON.stringify(body);
    let res;
    try {
      res = await fetch(url, {
        method: "POST",
        // keepalive lets a request finish while the page unloads; browsers
        // refuse keepalive bodies over 64 KiB (bytes, not characters), so
        // large ones go without.
        keepalive: new Blob([json]).size <= 65536,
        credentials: "omit",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: json
      });
    } catch (e2) {
      throw failure(`Network error: ${e2.message}`, 0, "network");
    }
    const answer = await res.json().catch(() => ({}));
    if (res.ok) return answer.data || {};
    const e = failure(answer.message || `HTTP ${res.status}`, res.status, answer.code || "http_error");
    e.retryAfter = +res.headers.get("Retry-After") || 0;
    throw e;
  }

  // src/leads.js
  var ATTRIBUTION = ["lead_channel", "user_id", "brand_id", "ad_campaign_id", "email_campaign_id", "email_campaign_email_id"];
  var SECRET_TYPES = /^(file|password|submit|button|reset|image)$/;
  var CARD_NAME = /^(cc|card)[-_]?(num|number|cvc|cvv|csc|exp)|^(cvc|cvv|csc)$/i;
  var HONEYPOT = "_lw_website";
  var FORM_TIME = "_lw_t";
  var given = (o) => Object.fromEntries(Object.entries(o || {}).filter(([, v]) => v != null && v !== ""));
  var fromPage = () => {
    const params = new URLSearchParams(location.search);
    return given(Object.fromEntries(ATTRIBUTION.map((k) => [k, params.get(`rechat_${k}`)])));
  };
  function request(api, channel, lead) {
    const { lead_channel, ...attribution } = { ...fromPage(), ...given(channel) };
    if (!lead_channel) throw failure("lead_channel is required", 0, "invalid");
    return {
      url: `${api}/leads/channels/${encodeURIComponent(lead_channel)}/webhook`,
      body: { referer_url: location.href, ...attribution, ...given(lead) },
      lead_channel
    };
  }
  function collect(form) {
    const values = {};
    const lists = {};
    for (const el of form.elements) {
      const { name, type } = el;
      if (!name || name == HONEYPOT || el.disabled || SECRET_TYPES.test(type) || CARD_NAME.test(name)) continue;
      if (/\bcc-/.test(el.getAttribute("autocomplete"))) continue;
      if (type == "select-multiple" || type == "checkbox" && [...form.elements].some((o) => o != el && o.name == name)) {
        lists[name] = 1;
      }
      if (/^(checkbox|radio)$/.test(type) && !el.checked) continue;
      (values[name] || (values[name] = [])).push(...type == "select-multiple" ? [...el.selectedOptions].map((o) => o.value) : [el.value]);
    }
    for (const k in values) if (!lists[k] && values[k].length == 1) values[k] = values[k][0];
    return values;
  }
  var honeypot = (form) => {
    const box = document.createElement("div");
    box.setAttribute("aria-hidden", "true");
    box.style.cssText = "position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden";
    box.innerHTML = `<input name="${HONEYPOT}" tabindex="-1" autocomplete="off">`;
    form.appendChild(box);
    return box;
  };
  function bindForm(capture, form, channel, { validate, onSuccess, onError } = {}) {
    let sending;
    const shown = Date.now();
    const trap = honeypot(form);
    const submit = async (event) => {
      event.preventDefault();
      if (sending) return;
      sending = true;
      const buttons = [...form.elements].filter((b) => /^(submit|image)$/.test(b.type) && !b.disabled);
      buttons.forEach((b) => b.disabled = true);
      form.setAttribute("aria-busy", "true");
      try {
        const payload = collect(form);
        if (validate && await validate(payload) === false) return;
        const lead = await capture(channel, { ...payload, [HONEYPOT]: trap.firstChild.value, [FORM_TIME]: Date.now() - shown });
        onSuccess && onSuccess(lead);
      } catch (e) {
        onError && onError(e);
      } finally {
        sending = false;
        buttons.forEach((b) => b.disabled = false);
        form.removeAttribute("aria-busy");
      }
    };
    form.addEventListener("submit", submit);
    return () => {
      form.removeEventListener("submit", submit);
      trap.remove();
    };
  }

  // src/queue.js
  var LEASE_MS = 3e4;
  function storage() {
    try {
      return localStorage;
    } catch {
    }
  }
  var emit = (type, detail) => dispatchEvent(new CustomEvent(type, { detail }));
  var sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  var seq = 0;
  function createQueue(api, max, delivered) {
    const prefix = `rechat-sdk-queue ${api} `;
    const leaseKey = `rechat-sdk-lease ${api}`;
    const tab = uuid();
    let attempts = 0;
    let timer;
    let busy;
    const keys = () => Object.keys(localStorage).filter((k) => k.startsWith(prefix));
    const first = () => {
      let item;
      for (const k of keys()) {
        try {
          const it = JSON.parse(localStorage[k]);
          if (!item || it.t < item.t) item = it;
        } catch {
          localStorage.removeItem(k);
        }
      }
      return item;
    };
    const retry = (after) => {
      clearTimeout(timer);
      const backoff = Math.min(1e3 * 2 ** attempts++, 3e5) * (0.5 + Math.random() / 2);
      timer = setTimeout(flush, Math.max(backoff, after * 1e3 || 0));
    };
    const claim = async () => {
      const [owner, until] = (localStorage.getItem(leaseKey) || "").split(" ");
      if (owner != tab && until > Date.now()) return false;
      localStorage.setItem(leaseKey, `${tab} ${Date.now() + LEASE_MS}`);
      if (owner != tab) await sleep(50 + Math.random() * 100);
      return localStorage.getItem(leaseKey).startsWith(tab);
    };
    const drain = async (locked) => {
      for (let item; item = first(); ) {
        if (!(locked || await claim())) return false;
        let data;
        try {
          data = await post(item.url, item.body, item.id);
        } catch (error) {
          if (retryable(error)) return retry(error.retryAfter);
          localStorage.removeItem(prefix + item.id);
          console.warn("rechat: dropped a queued request the server refused", error);
          emit("rechat:queue-error", { item, error });
          continue;
        }
        localStorage.removeItem(prefix + item.id);
        attempts = 0;
        delivered(item, data);
        emit("rechat:queue-delivered", { item, data });
      }
      if (!locked && (localStorage.getItem(leaseKey) || "").startsWith(tab)) localStorage.removeItem(leaseKey);
    };
    async function flush() {
      if (busy || !navigator.onLine) return;
      busy = true;
      try {
        const done = navigator.locks ? await navigator.locks.request(prefix, { ifAvailable: true }, (lock) => lock && drain(true)) : await drain();
        if (done === false || done === null) retry();
      } finally {
        busy = false;
      }
    }
    return {
      flush,
      // add stores item and resolves the caller's promise as queued.
      add(item, after) {
        if (keys().length >= max) {
          throw failure(`The offline queue is full (${max} requests); try again when online`, 0, "queue_full");
        }
        item.t = Date.now() * 1e3 + seq++ % 1e3;
        localStorage.setItem(prefix + item.id, JSON.stringify(item));
        if (navigator.onLine) retry(after);
        return { queued: true, idempotency_key: item.id };
      }
    };
  }

  // src/tracker.js
  var YEAR = 31536e3;
  function createTracker(options, api, send) {
    const cookie = options !== false && {
      name: "rechat-sdk-tracker",
      ...options && options.cookie
    };
    const { maxAge = YEAR, domain, path = "/", sameSite = "Lax", secure } = cookie && cookie.options || {};
    let id;
    const saved = () => {
      if (!cookie) return;
      const pair = document.cookie.split("; ").find((c) => c.startsWith(`${cookie.name}=`));
      return pair ? decodeURIComponent(pair.slice(cookie.name.length + 1)) : storage()?.getItem(cookie.name);
    };
    const Tracker = {
      identify(leadId) {
        id = leadId;
        if (!cookie) return;
        document.cookie = `${cookie.name}=${encodeURIComponent(leadId)}; max-age=${maxAge}; path=${path}; SameSite=${sameSite}` + (domain ? `; domain=${domain}` : "") + (secure ? "; secure" : "");
        storage()?.setItem(cookie.name, leadId);
      },
      capture(activity) {
        const lead = id || saved();
        if (!lead) return Promise.reject(failure("No tracking id is found", 0, "no_tracking_id"));
        return send(`${api}/leads/${encodeURIComponent(lead)}/timeline`, activity);
      }
    };
    const helpers = (names, field) => names.split(" ").forEach((name) => {
      const action = `Contact${name[0].toUpperCase()}${name.slice(1)}`;
      Tracker[name] = field ? (value, notes) => Tracker.capture({ action, [field]: value, notes }) : (notes) => Tracker.capture({ action, notes });
    });
    helpers("viewedListing sharedListing favoritedListing removedFavoriteListing valuedListing", "listing");
    helpers("searchedListings createdSearch removedSearch", "search");
    helpers("signedUp loggedIn");
    return Tracker;
  }

  // src/index.js
  var PRODUCTION = "https://api.rechat.com";
  var SANDBOX = "https://api.sandbox.rechat.com";
  var script = globalThis.document?.currentScript?.src;
  var scriptURL = script && new URL(script);
  var served = scriptURL && /\/sdk\/rechat(\.min)?\.js$/.test(scriptURL.pathname) && scriptURL.origin;
  var pick = ({ id, contact, created_at, lead_channel, source_type }) => ({ id, contact, created_at, lead_channel, source_type });
  var Sdk = class {
    constructor(settings = {}) {
      const { api_url, sandbox, tracker, offline_sync } = settings;
      const api = (api_url || (sandbox ? SANDBOX : served || PRODUCTION)).replace(/\/+$/, "");
      const queue = offline_sync !== false && storage() && createQueue(api, offline_sync && offline_sync.max_queue_size || 500, (item, data) => {
        if (item.lead) follow(data);
      });
      const follow = (data) => {
        if (data.id && tracker !== false) Tracker.identify(data.id);
      };
      const send = async (url, body, lead) => {
        const item = { id: uuid(), url, body, lead };
        if (queue && !navigator.onLine) return queue.add(item);
        try {
          return await post(url, body, item.id);
        } catch (e) {
          if (queue && retryable(e)) return queue.add(item, e.retryAfter);
          throw e;
        }
      };
      const Tracker = createTracker(tracker, api, send);
      const capture = async (channel, lead) => {
        const { url, body, lead_channel } = request(api, channel, lead);
        const data = await send(url, body, true);
        if (data.queued) return { ...data, lead_channel };
        follow(data);
        return pick(data);
      };
      this.Leads = {
        capture,
        form: (element, channel, events) => bindForm(capture, element, channel, events),
        Tracker
      };
      if (queue) {
        addEventListener("online", queue.flush);
        queue.flush();
      }
    }
  };
  return __toCommonJS(index_exports);
})();
