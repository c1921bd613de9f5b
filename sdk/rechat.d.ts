// Type declarations of the leadwire browser SDK (the global `Rechat`, or
// the `Sdk` export of rechat.esm.js).

export as namespace Rechat

/** Options of the tracker cookie. */
export interface CookieOptions {
  /** Lifetime in seconds. Default one year (31536000). */
  maxAge?: number
  domain?: string
  /** Default "/". */
  path?: string
  /** Default "Lax". */
  sameSite?: 'Strict' | 'Lax' | 'None'
  secure?: boolean
}

/** Settings of `new Rechat.Sdk(settings)`; all optional. */
export interface Settings {
  /** Use the sandbox API, https://api.sandbox.rechat.com. */
  sandbox?: boolean
  /**
   * Base URL of the API; wins over `sandbox`. Default: the origin of the
   * leadwire server the script was loaded from, else https://api.rechat.com.
   */
  api_url?: string
  /** The tracker cookie, or false to keep no lead id across pages. */
  tracker?: { cookie?: { name?: string; options?: CookieOptions } } | false
  /** The offline queue (default 500 requests), or false to fail at once. */
  offline_sync?: { max_queue_size?: number } | false
}

/** Where a lead goes and whom it is attributed to. */
export interface Channel {
  /** The lead-channel id; required here or as ?rechat_lead_channel= in the page URL. */
  lead_channel?: string
  user_id?: string
  brand_id?: string
  ad_campaign_id?: string
  email_campaign_id?: string
  email_campaign_email_id?: string
}

/** An agent the lead should be assigned to. */
export interface Assignee {
  email?: string
  phone_number?: string
  first_name?: string
  last_name?: string
  mlsid?: string
  mls?: string
}

/** A property listing. */
export interface Listing {
  id?: string
  url?: string
  mls?: string
  mls_number?: string
  price?: number
  cover_image_url?: string
  property?: Record<string, unknown>
  [field: string]: unknown
}

/**
 * A postal address in parts, as Rechat's API documents them: the atomic
 * parts, or street_address, or line1 and line2, and the whole address in
 * full_address or full. Other keys (a county, coordinates) are kept.
 */
export interface Address {
  street_number?: string | number
  street_name?: string | number
  /** "St", "Ave". */
  street_suffix?: string | number
  /** "N" of "N Main St". */
  street_dir_prefix?: string | number
  /** "SW" of "Main St SW". */
  street_dir_suffix?: string | number
  unit_number?: string | number
  city?: string | number
  state_code?: string | number
  postal_code?: string | number
  country?: string | number
  /** The street part in one string: "123 N Main St". */
  street_address?: string | number
  /** The whole address in one string. */
  full_address?: string | number
  line1?: string | number
  line2?: string | number
  /** The whole address in one string, beside line1 and line2. */
  full?: string | number
  [part: string]: unknown
}

/** The lead itself; every field is optional and unknown fields are kept. */
export interface Lead {
  first_name?: string
  last_name?: string
  email?: string
  phone_number?: string
  /** Another name of phone_number, as Rechat's SDK README writes it; phone_number wins. */
  phone?: string
  tag?: string | string[]
  lead_source?: string
  note?: string
  /** One line of text, or the parts; stored in the form it was sent in. */
  address?: string | Address
  /** Default: the page URL. */
  referer_url?: string
  mlsid?: string
  listing_id?: string
  agent_mlsid?: string
  source_type?: string
  assignees?: Assignee[]
  listing?: Listing
  [field: string]: unknown
}

/** A listing search a visitor ran or saved. */
export interface Search {
  url?: string
  title?: string
  search?: string
  minimum_price?: number
  maximum_price?: number
  minimum_bedrooms?: number
  maximum_bedrooms?: number
  minimum_bathrooms?: number
  maximum_bathrooms?: number
  property_types?: string[]
  postal_codes?: string[]
  pool?: boolean
  /** Other filters (minimum_square_meters, ...) are kept as sent. */
  [filter: string]: unknown
}

/** The lead the server created. */
export interface CreatedLead {
  id: string
  contact: string
  /** Unix seconds with a fraction. */
  created_at: number
  lead_channel: string
  source_type: string
  queued?: undefined
}

/** A request kept offline; it is sent again when the connection returns. */
export interface Queued {
  queued: true
  /** Sent with every retry, so the request is stored once. */
  idempotency_key: string
  lead_channel?: string
}

/** Every rejection is an Error with these fields. */
export interface SdkError extends Error {
  /** HTTP status; 0 when no answer came or no request was made. */
  status: number
  /** The server's error code, or invalid, network, queue_full, no_tracking_id. */
  code: string
}

/**
 * One entry on a lead's timeline. An activity that names a listing
 * (listing, listing_id, mls_number or mlsid) may leave out the action: it
 * is recorded as ContactViewedListing. Other keys are kept as sent.
 */
export interface Activity {
  /** ContactViewedListing and the other helpers' actions, or a custom name. */
  action?: string
  listing?: Listing
  /** The listing's id, when no listing object gives it. */
  listing_id?: string
  /** The listing's MLS number, when no listing object gives it. */
  mls_number?: string
  /** Another name of mls_number; mls_number wins. */
  mlsid?: string
  search?: Search
  notes?: string
  [field: string]: unknown
}

export interface Tracker {
  viewedListing(listing: Listing, notes?: string): Promise<unknown>
  sharedListing(listing: Listing, notes?: string): Promise<unknown>
  favoritedListing(listing: Listing, notes?: string): Promise<unknown>
  removedFavoriteListing(listing: Listing, notes?: string): Promise<unknown>
  valuedListing(listing: Listing, notes?: string): Promise<unknown>
  searchedListings(search: Search, notes?: string): Promise<unknown>
  createdSearch(search: Search, notes?: string): Promise<unknown>
  removedSearch(search: Search, notes?: string): Promise<unknown>
  signedUp(notes?: string): Promise<unknown>
  loggedIn(notes?: string): Promise<unknown>
  /** Records any action, including custom ones. */
  capture(activity: Activity): Promise<unknown>
  /** Points the tracker at a known lead. */
  identify(leadId: string): void
}

/** Callbacks of `Leads.form`. */
export interface FormEvents {
  /** Return false to cancel the capture. */
  validate?(payload: Record<string, string | string[]>): boolean | void | Promise<boolean | void>
  /** The lead was created, or queued offline. */
  onSuccess?(lead: CreatedLead | Queued): void
  onError?(error: SdkError): void
}

export interface Leads {
  capture(channel: Channel, lead: Lead): Promise<CreatedLead | Queued>
  /** Binds an HTML form; returns a function that unbinds it. */
  form(element: HTMLFormElement, channel: Channel, events?: FormEvents): () => void
  Tracker: Tracker
}

export class Sdk {
  constructor(settings?: Settings)
  Leads: Leads
}

declare global {
  interface WindowEventMap {
    'rechat:queue-delivered': CustomEvent<{ item: unknown; data: unknown }>
    'rechat:queue-error': CustomEvent<{ item: unknown; error: SdkError }>
  }
}
