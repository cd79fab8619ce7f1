// Issue page: while a task is queued or running, refresh the task list (and the issue status) in place.
(function () {
  "use strict";
  var INTERVAL_MS = 1500;

  function refresh() {
    var list = document.querySelector("[data-task-list]");
    if (!list || !list.hasAttribute("data-active")) return;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          ["[data-task-list]", "[data-issue-status]"].forEach(function (selector) {
            var current = document.querySelector(selector);
            var next = fresh.querySelector(selector);
            if (current && next) current.replaceWith(next);
          });
        }
      })
      .catch(function () {})
      .then(function () { window.setTimeout(refresh, INTERVAL_MS); });
  }

  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(refresh, INTERVAL_MS); });
})();
