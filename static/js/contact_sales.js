/* Contact-sales enhancement (SPEC §12). The form works without this file; with it, the same fields
 * go to `POST /api/contact-sales` as JSON, the API's error appears next to its field, and a stored
 * inquiry swaps the form for the thank-you state in place. Hooks are the `data-contact-sales-*`
 * and `data-field-error` attributes of templates/sales/contact_sales.html. */
(() => {
  "use strict";

  const TEXT_FIELDS = ["first_name", "last_name", "business_email", "company_name", "company_size",
    "country_region", "use_case", "goals", "source"];
  const CONSENTS = ["consent_outreach", "consent_updates"];
  // API messages that do not start with their field's name (§12 rules 6 and 11).
  const EMAIL_MESSAGES = ["please use a business email address", "too many recent inquiries from this email"];

  // "first_name is required" → first_name; the email rules → business_email; anything else → the form.
  function fieldOf(message) {
    if (EMAIL_MESSAGES.includes(message)) return "business_email";
    const name = message.split(" ")[0];
    return TEXT_FIELDS.includes(name) || CONSENTS.includes(name) ? name : "form";
  }

  const sentence = (message) => message.charAt(0).toUpperCase() + message.slice(1) + ".";

  function mount(form) {
    const thanks = document.querySelector("[data-contact-sales-thanks]");
    const intro = document.querySelector("[data-contact-sales-intro]");
    const submit = form.querySelector("[data-contact-sales-submit]");
    const token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

    function showError(field, message) {
      document.querySelectorAll("[data-field-error]").forEach((el) => {
        const mine = el.dataset.fieldError === field;
        el.hidden = !mine;
        el.textContent = mine ? sentence(message) : "";
      });
      form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      const input = form.elements.namedItem(field);
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }

    function body() {
      const data = new FormData(form);
      const json = {};
      TEXT_FIELDS.forEach((name) => { json[name] = String(data.get(name) || ""); });
      CONSENTS.forEach((name) => { json[name] = data.get(name) !== null; });
      return json;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const response = await fetch("/api/contact-sales", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": token, "X-Client-Platform": "web" },
          body: JSON.stringify(body()),
        });
        if (response.status === 201) {
          form.hidden = true;
          if (intro) intro.hidden = true;
          document.querySelectorAll("[data-field-error]").forEach((el) => { el.hidden = true; });
          thanks.hidden = false;
          thanks.focus();
          return;
        }
        let message = "something went wrong, please try again";
        try {
          message = (await response.json()).error || message;
        } catch (error) {
          // not JSON: keep the generic message
        }
        showError(fieldOf(message), message);
      } catch (error) {
        showError("form", "the inquiry could not be sent, please check your connection and try again");
      } finally {
        submit.disabled = false;
      }
    });
  }

  function start() {
    const form = document.querySelector("[data-contact-sales-form]");
    if (form && window.fetch && window.FormData) mount(form);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
