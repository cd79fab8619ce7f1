/* The Help menu's feedback modal (SPEC §16, D14.13). Without this file the "Feedback" item is a link
 * to the /feedback page; with it the item opens the <dialog> rendered by templates/feedback/_help_menu.html:
 * - `feedback_opened {source: "help_menu", workspace_id?}` once per opening, through the first-party
 *   tracker (`workspace_id` only inside a workspace: the dialog's data-workspace-id);
 * - the same 10 000-character limit as the server, checked before anything is sent;
 * - `POST /api/feedback {message, url, workspace_id?}` with the page's CSRF token, and the outcome
 *   (thanks, the 429 message, any other error) shown inside the dialog. */
(() => {
  "use strict";

  const LIMIT = 10000;
  const ENDPOINT = "/api/feedback";

  function capture(name, props) {
    if (window.multicaAnalytics) window.multicaAnalytics.capture(name, props);
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function show(el, text) {
    el.textContent = text;
    el.hidden = !text;
  }

  function mount(dialog) {
    const form = dialog.querySelector("[data-feedback-form]");
    const textbox = form.querySelector("[data-feedback-message]");
    const send = form.querySelector("[data-feedback-send]");
    const status = form.querySelector("[data-feedback-status]");
    const error = form.querySelector("[data-feedback-error]");
    const counter = form.querySelector("[data-feedback-counter]");
    const workspaceId = dialog.dataset.workspaceId || "";
    let sending = false;

    function count() {
      const length = textbox.value.length;
      const over = length > LIMIT;
      counter.textContent = `${length.toLocaleString("en")} / ${LIMIT.toLocaleString("en")} characters`;
      textbox.setAttribute("aria-invalid", over ? "true" : "false");
      counter.classList.toggle("over-limit", over);
    }

    // A new opening is a new mount: one event. The page behind a modal dialog is inert, so the
    // menu item cannot be clicked again while the dialog is open.
    function open(event) {
      event.preventDefault();
      const menu = event.currentTarget.closest("details");
      if (menu) menu.open = false;
      if (dialog.open) return;
      show(status, "");
      show(error, "");
      count();
      dialog.showModal();
      textbox.focus();
      const props = { source: "help_menu" };
      if (workspaceId) props.workspace_id = workspaceId;
      capture("feedback_opened", props);
    }

    async function submit(event) {
      event.preventDefault();
      if (sending) return;
      const message = textbox.value;
      show(status, "");
      if (!message.trim()) return show(error, "Please write a message first.");
      if (message.length > LIMIT) {
        return show(error, `Feedback can be at most ${LIMIT.toLocaleString("en")} characters; this is ${message.length.toLocaleString("en")}.`);
      }
      const body = { message, url: location.href };
      if (workspaceId) body.workspace_id = workspaceId;
      sending = true;
      send.disabled = true;
      show(error, "");
      show(status, "Sending…");
      try {
        const response = await fetch(ENDPOINT, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "X-Client-Platform": "web" },
          body: JSON.stringify(body),
        });
        if (response.ok) {
          textbox.value = "";
          count();
          show(status, "Thanks — your feedback was sent.");
          return;
        }
        const answer = await response.json().catch(() => ({}));
        show(status, "");
        show(error, `Sorry — ${answer.error || "your feedback could not be sent"}.`);
      } catch (failure) {
        show(status, "");
        show(error, "Sorry — your feedback could not be sent. Check your connection and try again.");
      } finally {
        sending = false;
        send.disabled = false;
      }
    }

    document.querySelectorAll("[data-feedback-open]").forEach((link) => link.addEventListener("click", open));
    dialog.querySelector("[data-feedback-close]").addEventListener("click", () => dialog.close());
    textbox.addEventListener("input", count);
    form.addEventListener("submit", submit);
  }

  function boot() {
    const dialog = document.querySelector("[data-feedback-dialog]");
    if (dialog && typeof dialog.showModal === "function") mount(dialog);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
