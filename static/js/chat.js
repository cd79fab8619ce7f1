// Chat page: while a reply is pending, refresh the conversation in place.
(function () {
  "use strict";
  var INTERVAL_MS = 1500;

  function refresh() {
    var list = document.querySelector("[data-messages]");
    if (!list || !list.hasAttribute("data-pending")) return;
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("[data-messages]");
        var current = document.querySelector("[data-messages]");
        if (current && next) current.replaceWith(next);
      })
      .catch(function () {})
      .then(function () { window.setTimeout(refresh, INTERVAL_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(refresh, INTERVAL_MS); });
})();
