/* First-party analytics tracker (SPEC D7, §14): batches events to POST /api/analytics/events.
 * Hooks: data-track="<event>" data-track-source="<source>". Inert without posthog_key; never
 * throws into the page. Budget: 4 KB gzipped (tests/web/test_tracker_budget.py). */
(() => {
  "use strict";

  const ANON_COOKIE = "multica_anon_id";
  const SOURCE_COOKIE = "multica_signup_source";
  const LAST_PATH_KEY = "multica_last_pageview";
  const UTM_KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];
  const ENVIRONMENTS = { production: "production", prod: "production", staging: "staging", stage: "staging" };
  const UUID_SEGMENT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const ISSUE_KEY_SEGMENT = /^[A-Z][A-Z0-9]*-[0-9]+$/;
  const BATCH_MAX = 50; // the endpoint refuses larger batches
  const SEND_DELAY_MS = 1000;
  const PENDING_MAX = 500; // an inert page must not buffer forever
  // Person properties set with a tracked click (SPEC §15.4).
  const PERSON_ON_CLICK = { download_intent_expressed: { platform_preference: "desktop" } };

  let ready = false;
  let endpoint = "/api/analytics/events";
  let appVersion = "";
  let superProps = {};
  let userId = null;
  let pendingPageview = null; // null: no pageview asked for before init
  let pendingOps = [];
  let outbox = [];
  let sendTimer = 0;

  function readCookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? hit.slice(name.length + 1) : "";
  }

  function writeCookie(name, value, maxAge) {
    const secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie = `${name}=${value}; path=/; max-age=${maxAge}; samesite=lax${secure}`;
  }

  function randomUUID() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; a self-host on plain http still has getRandomValues.
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  }

  // The server's distinct id for a signed-out browser; it refuses events without one.
  function ensureAnonId(fresh) {
    if (fresh || !readCookie(ANON_COOKIE)) writeCookie(ANON_COOKIE, randomUUID(), 31536000);
  }

  // sessionStorage: pageview dedupe survives page loads in a tab (D14.12).
  const readLastPath = guard(() => sessionStorage.getItem(LAST_PATH_KEY), null);
  const writeLastPath = guard((path) =>
    path === null ? sessionStorage.removeItem(LAST_PATH_KEY) : sessionStorage.setItem(LAST_PATH_KEY, path));
  const beaconed = guard((body) => navigator.sendBeacon(endpoint, new Blob([body], { type: "application/json" })), false);

  // Serialised at capture, so a bad payload fails alone.
  function enqueue(event, properties) {
    outbox.push(JSON.stringify({ event, properties }));
    if (outbox.length >= BATCH_MAX) send(false);
    else if (!sendTimer) sendTimer = setTimeout(guard(send), SEND_DELAY_MS, false);
  }

  function post(body) {
    const headers = { "Content-Type": "application/json", "X-Client-Platform": "web" };
    if (appVersion) headers["X-Client-Version"] = appVersion;
    return fetch(endpoint, { method: "POST", body, headers, keepalive: true, credentials: "same-origin" }).catch(() => {});
  }

  // `beacon` when the page is going away: sendBeacon outlives the document.
  function send(beacon) {
    clearTimeout(sendTimer);
    sendTimer = 0;
    const requests = [];
    if (outbox.length) ensureAnonId(false);
    while (outbox.length) {
      const body = `{"events":[${outbox.splice(0, BATCH_MAX).join(",")}]}`;
      if (!(beacon && beaconed(body))) requests.push(post(body));
    }
    return Promise.all(requests);
  }

  function normalizeEnvironment(value) {
    return ENVIRONMENTS[String(value || "").trim().toLowerCase()] || "dev";
  }

  function isDesktopShell() {
    return Boolean(window.electron || window.desktopAPI) || /Electron/.test(navigator.userAgent);
  }

  function normalizePageviewPath(path) {
    if (!path) return path;
    const segments = String(path).split(/[?#]/)[0].split("/").filter(Boolean);
    const kept = segments.filter((s, i) => i === 0 || !(UUID_SEGMENT.test(s) || ISSUE_KEY_SEGMENT.test(s)));
    return "/" + kept.join("/");
  }

  function emitPageview(path) {
    if (path && path === readLastPath()) return; // consecutive duplicates only
    writeLastPath(path);
    enqueue("$pageview", Object.assign({}, superProps, path ? { $current_url: path } : {}));
  }

  function emitEvent(name, props) {
    const stamps = userId ? { user_id: userId } : {};
    enqueue(name, Object.assign({}, superProps, stamps, props));
  }

  function emitSet(kind, props) {
    enqueue("$set", Object.assign({}, superProps, { [kind]: props }));
  }

  // Before init, operations wait in order.
  function whenReady(op) {
    if (ready) op();
    else if (pendingOps.length < PENDING_MAX) pendingOps.push(op);
  }

  function init(config) {
    if (ready) return true;
    config = config || {};
    const key = config.posthog_key || config.key || "";
    if (!key) return false;
    endpoint = config.endpoint || endpoint;
    appVersion = config.app_version || config.appVersion || "";
    superProps = {
      client_type: isDesktopShell() ? "desktop" : "web",
      event_schema_version: 2,
      environment: normalizeEnvironment(config.analytics_environment || config.environment),
      is_demo: false,
    };
    if (appVersion) superProps.app_version = appVersion;
    ready = true;
    ensureAnonId(false);
    // A pending identify is already in userId (the server picks the distinct id).
    if (pendingPageview !== null) emitPageview(pendingPageview);
    pendingPageview = null;
    const ops = pendingOps;
    pendingOps = [];
    ops.forEach((op) => op());
    return true;
  }

  function identify(id) {
    userId = id ? String(id) : null;
  }

  function reset() {
    userId = null;
    pendingPageview = null;
    pendingOps = [];
    writeLastPath(null);
    if (!ready) return;
    // Ship the old identity's events, then (once they left with the old cookie) a new anon id.
    send(false).finally(() => ensureAnonId(true));
  }

  function capture(name, props) {
    if (!name || typeof name !== "string") return;
    props = Object.assign({}, props);
    whenReady(() => emitEvent(name, props));
  }

  // An empty `$set` would get the whole batch refused.
  function setPerson(kind, props) {
    props = Object.assign({}, props);
    if (Object.keys(props).length) whenReady(() => emitSet(kind, props));
  }

  const setPersonProperties = (props) => setPerson("$set", props);
  const setPersonPropertiesOnce = (props) => setPerson("$set_once", props);

  function capturePageview(path) {
    const normalized = normalizePageviewPath(path) || "";
    if (ready) emitPageview(normalized);
    else pendingPageview = normalized; // latest wins
  }

  // SPEC §14.5: first-touch attribution, read by the server at sign-up.
  function captureSignupSource() {
    if (readCookie(SOURCE_COOKIE)) return;
    const query = new URLSearchParams(location.search);
    const source = {};
    for (const key of UTM_KEYS) {
      const value = query.get(key);
      if (value) source[key] = value.slice(0, 96);
    }
    try {
      const origin = document.referrer ? new URL(document.referrer).origin : "null";
      if (origin !== "null" && origin !== location.origin) source.referrer_origin = origin.slice(0, 96);
    } catch (e) {} // an unparseable referrer is skipped
    if (!Object.keys(source).length) return;
    const payload = JSON.stringify(source);
    if (payload.length > 512) return; // dropped whole, never cut
    writeCookie(SOURCE_COOKIE, encodeURIComponent(payload), 2592000);
  }

  function onClick(event) {
    const el = event.target instanceof Element ? event.target.closest("[data-track]") : null;
    if (!el) return;
    const name = el.dataset.track;
    capture(name, el.dataset.trackSource ? { source: el.dataset.trackSource } : {});
    if (PERSON_ON_CLICK[name]) setPersonProperties(PERSON_ON_CLICK[name]);
  }

  // A pathname change is a pageview; a query-only change is not (SPEC §14.4).
  function watchHistory() {
    let pathname = location.pathname;
    const changed = guard(() => {
      if (location.pathname !== pathname) capturePageview((pathname = location.pathname));
    });
    for (const method of ["pushState", "replaceState"]) {
      const original = history[method];
      history[method] = function (...args) {
        const result = original.apply(this, args);
        changed();
        return result;
      };
    }
    addEventListener("popstate", changed);
  }

  function boot() {
    captureSignupSource();
    const configText = guard(() => document.getElementById("multica-analytics-config").textContent)();
    const config = guard(JSON.parse)(configText) || {};
    if (config.user_id) identify(config.user_id);
    init(config);
    capturePageview(location.pathname);
    document.addEventListener("click", guard(onClick), true);
    watchHistory();
    addEventListener("pagehide", guard(() => send(true)));
    document.addEventListener("visibilitychange", guard(() => document.visibilityState === "hidden" && send(true)));
  }

  function guard(fn, fallback) {
    return function (...args) {
      try {
        return fn.apply(this, args);
      } catch (e) {
        return fallback;
      }
    };
  }

  const api = { identify, reset, capture, setPersonProperties, setPersonPropertiesOnce, capturePageview, captureSignupSource };
  for (const name in api) api[name] = guard(api[name]);
  api.init = guard(init, false);
  api.normalizePageviewPath = guard(normalizePageviewPath, "");
  api.flush = guard(() => send(false)); // ship what is queued now instead of after the delay
  window.multicaAnalytics = api;

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", guard(boot));
  else guard(boot)();
})();
