/* Onboarding enhancements (SPEC §9.5, §9.6). Every step works without this file; it only adds:
 * - `onboarding_started` once per visit to the flow (shell mount), with the flow's workspace when there
 *   is one: fired on a page entered from outside the flow, not on one reached from another onboarding
 *   page (step links, form posts and their redirects, the token page, reloads of such pages);
 * - questionnaire: "Other" text fields, Continue enabled only for complete answers, `$set` on submit;
 * - runtime step (web): card events, in-page panels, the live runtime list, the waitlist email check;
 * - runtime step (desktop shell, `window.desktopAPI`): a local scan that emits
 *   `onboarding_runtime_detected` exactly once per mount.
 * Hooks are `data-` attributes in templates/onboarding/. Events go through window.multicaAnalytics. */
(() => {
  "use strict";

  const POLL_MS = 2000; // runtime list refresh
  const GRACE_MS = 5000; // desktop scan: how long zero runtimes may stay "scanning"
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/; // §9.5: something@something.something, no spaces

  function capture(name, props) {
    if (window.multicaAnalytics) window.multicaAnalytics.capture(name, props);
  }

  function setPerson(props) {
    if (window.multicaAnalytics) window.multicaAnalytics.setPersonProperties(props);
  }

  const isDesktop = () => Boolean(window.desktopAPI);

  // §9.6: Mac/iPhone/iPad/iPod platform, or "Mac OS X" in the user agent.
  const isMac = () => /Mac|iPhone|iPad|iPod/i.test(navigator.platform || "") || /Mac OS X/.test(navigator.userAgent || "");

  const all = (root, selector) => Array.from(root.querySelectorAll(selector));

  // The SPA's shell mounts once per visit; here every step is a page load. A page whose referrer is a
  // same-origin onboarding page (/onboarding, /onboarding?…, /onboarding/…) continues the visit the
  // referrer's page started. A redirect after a form post keeps the form page as referrer, and a
  // reload keeps the original one. No referrer, another origin or any other path: a new mount.
  function reachedFromFlow() {
    if (!document.referrer) return false;
    try {
      const from = new URL(document.referrer);
      return from.origin === location.origin && (from.pathname === "/onboarding" || from.pathname.startsWith("/onboarding/"));
    } catch (error) {
      return false; // an unparseable referrer is not the flow
    }
  }

  function mountShell(root) {
    if (!reachedFromFlow()) {
      const props = { source: "onboarding" };
      if (root.dataset.startedWorkspaceId) props.workspace_id = root.dataset.startedWorkspaceId;
      capture("onboarding_started", props);
    }
    const desktop = isDesktop();
    all(document, "[data-web-only]").forEach((el) => { el.hidden = desktop; });
    all(document, "[data-desktop-only]").forEach((el) => { el.hidden = !desktop; });
  }

  function mountQuestionnaire(form) {
    const submit = form.querySelector("[data-questionnaire-submit]");
    const questions = all(form, "[data-question]");

    // Answered, and an "Other" answer has non-blank text. A hidden "Other" box is disabled, so a
    // concrete choice never submits stale text (the server stores `*_other: null` for it).
    function answered(question) {
      const checked = question.querySelector("input[type=radio]:checked");
      const box = question.querySelector("[data-other-for]");
      const text = box.querySelector("input");
      const other = Boolean(checked) && checked.value === "other";
      box.hidden = !other;
      text.disabled = !other;
      return Boolean(checked) && (!other || text.value.trim() !== "");
    }

    function update() {
      const ok = questions.map(answered).every(Boolean); // map first: every box gets its state
      submit.disabled = !ok;
      return ok;
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("submit", (event) => {
      if (!update()) {
        event.preventDefault();
        return;
      }
      const answers = {};
      for (const question of questions) {
        const checked = question.querySelector("input[type=radio]:checked");
        if (checked) answers[question.dataset.question] = checked.value;
      }
      setPerson(answers);
    });
    update();
  }

  function mountWorkspaceForm(form) {
    const name = form.querySelector("[data-workspace-name]");
    const slug = form.querySelector("[data-workspace-slug]");
    if (!name || !slug) return;
    // Show the slug the server would derive from the name (it fills an empty slug the same way).
    name.addEventListener("input", () => {
      const suggestion = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
      slug.placeholder = suggestion || "acme";
    });
  }

  function runtimeItem(runtime, checked) {
    const span = (className, text) => Object.assign(document.createElement("span"), { className, textContent: text });
    const input = Object.assign(document.createElement("input"), {
      type: "radio", name: "runtime", value: runtime.id, required: true,
      // An offline runtime cannot run an agent, so it cannot be chosen to continue.
      disabled: runtime.status !== "online", checked: checked && runtime.status === "online",
    });
    const label = Object.assign(document.createElement("label"), { className: "choice" });
    label.append(
      input,
      span("runtime-name", runtime.name || runtime.provider),
      span("runtime-provider", runtime.provider),
      span(`runtime-status status-${runtime.status}`, runtime.status),
    );
    const item = document.createElement("li");
    item.append(label);
    return item;
  }

  function mountRuntimeStep(section) {
    const workspaceId = section.dataset.workspaceId;
    const picker = section.querySelector("[data-runtime-picker]");
    const list = picker.querySelector("[data-runtime-list]");
    const empty = picker.querySelector("[data-runtime-empty]");
    const connect = picker.querySelector("[data-connect]");
    const panels = { cli: section.querySelector("[data-panel=cli]"), waitlist: section.querySelector("[data-panel=waitlist]") };
    const desktop = isDesktop();
    let runtimes = null; // null until the first answer
    let onRuntimes = () => {};
    let polling = false; // one poll loop at a time, however often the CLI panel is reopened

    // The list refreshes itself, so the no-JS "Refresh" link goes away.
    section.querySelector("[data-refresh]").hidden = true;
    picker.querySelector("[data-live-hint]").hidden = false;

    const selectedRuntime = () => (list.querySelector("input:checked") || {}).value || "";
    const updateConnect = () => { connect.disabled = !selectedRuntime(); };
    list.addEventListener("change", updateConnect);

    function render(items) {
      const keep = selectedRuntime();
      list.replaceChildren(...items.map((runtime) => runtimeItem(runtime, runtime.id === keep)));
      empty.hidden = items.length > 0;
      section.dataset.runtimeCount = String(items.length);
      updateConnect();
    }

    async function poll() {
      try {
        const response = await fetch(section.dataset.runtimesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (response.ok) {
          runtimes = await response.json();
          render(runtimes);
          onRuntimes(runtimes);
        }
      } catch (error) {
        // Offline for a moment: the next poll tries again.
      }
      if (desktop || !panels.cli.hidden) setTimeout(poll, POLL_MS);
      else polling = false;
    }

    function startPolling() {
      if (polling) return;
      polling = true;
      poll();
    }

    function showPanel(name) {
      for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
      if (name === "cli") startPolling();
      if (panels[name] && panels[name].scrollIntoView) panels[name].scrollIntoView({ block: "nearest" });
    }

    const waitlist = section.querySelector("[data-waitlist-form]");
    const email = waitlist.querySelector("[data-waitlist-email]");
    const join = waitlist.querySelector("[data-waitlist-submit]");
    const checkEmail = () => { join.disabled = !EMAIL.test(email.value); };
    email.addEventListener("input", checkEmail);
    waitlist.addEventListener("submit", (event) => { if (!EMAIL.test(email.value)) event.preventDefault(); });
    checkEmail();
    updateConnect();

    if (desktop) {
      mountDesktopScan(section, panels, (handler) => { onRuntimes = handler; }, () => runtimes || []);
      panels.cli.hidden = false;
      section.querySelector("[data-web-fork]").hidden = true;
      section.querySelector("[data-cli-install]").hidden = true;
      startPolling();
      return;
    }

    for (const card of all(section, "[data-runtime-path]")) {
      card.addEventListener("click", (event) => {
        const path = card.dataset.runtimePath;
        capture("onboarding_runtime_path_selected", {
          path, source: "onboarding", surface: "step3", workspace_id: workspaceId, is_mac: isMac(),
        });
        if (path === "download_desktop") {
          // The link itself opens /download in a new tab; the card flips to say so.
          capture("download_intent_expressed", { source: "step3" });
          setPerson({ platform_preference: "desktop" });
          const article = card.closest("[data-card]");
          article.classList.add("is-flipped");
          article.querySelector("[data-card-after]").hidden = false;
          return;
        }
        if (path === "cli") setPerson({ platform_preference: "web" });
        event.preventDefault();
        history.replaceState(history.state, "", card.href.split("#")[0]); // a reload keeps the panel open
        showPanel(card.dataset.opensPanel);
      });
    }
    if (!panels.cli.hidden) startPolling();
  }

  // §9.6: `found` as soon as a runtime is visible; `empty` after GRACE_MS with none (the timer
  // restarts when the count changes while it is zero); one event per mount, whatever comes later.
  function mountDesktopScan(section, panels, subscribe, currentRuntimes) {
    const workspaceId = section.dataset.workspaceId;
    const mountedAt = performance.now();
    let resolved = false;
    let lastCount = null;
    let graceTimer = 0;
    section.dataset.scan = "scanning";
    panels.waitlist.hidden = true;

    function resolve(outcome, runtimes) {
      if (resolved) return;
      resolved = true;
      clearTimeout(graceTimer);
      const providers = Array.from(new Set(runtimes.map((r) => r.provider).filter(Boolean))).sort();
      capture("onboarding_runtime_detected", {
        source: "onboarding",
        surface: "step3_desktop",
        workspace_id: workspaceId,
        outcome,
        runtime_count: runtimes.length,
        online_count: runtimes.filter((r) => r.status === "online").length,
        providers,
        has_claude: providers.includes("claude"),
        has_codex: providers.includes("codex"),
        has_cursor: providers.includes("cursor"),
        detect_ms: Math.round(performance.now() - mountedAt),
      });
      setPerson({ has_any_cli: runtimes.length > 0, detected_cli_count: runtimes.length });
      section.dataset.scan = outcome;
    }

    function startGrace() {
      clearTimeout(graceTimer);
      graceTimer = setTimeout(() => {
        resolve("empty", currentRuntimes());
        panels.waitlist.hidden = currentRuntimes().length > 0;
      }, GRACE_MS);
    }

    startGrace();
    subscribe((runtimes) => {
      if (runtimes.length > 0) resolve("found", runtimes);
      else if (!resolved && lastCount !== null && lastCount !== runtimes.length) startGrace();
      lastCount = runtimes.length;
      if (resolved) panels.waitlist.hidden = runtimes.length > 0;
    });
  }

  function boot() {
    const root = document.querySelector("[data-onboarding]");
    if (!root) return;
    mountShell(root);
    const questionnaire = document.querySelector("[data-questionnaire]");
    if (questionnaire) mountQuestionnaire(questionnaire);
    const workspaceForm = document.querySelector("[data-workspace-form]");
    if (workspaceForm) mountWorkspaceForm(workspaceForm);
    const runtimeStep = document.querySelector("[data-runtime-step]");
    if (runtimeStep) mountRuntimeStep(runtimeStep);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
