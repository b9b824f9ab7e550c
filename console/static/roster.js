// Roster console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Preview a logo before it is uploaded.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("input[type=file][data-preview]") || !input.files || !input.files[0]) return;
    var img = document.getElementById(input.getAttribute("data-preview"));
    if (!img) return;
    img.src = URL.createObjectURL(input.files[0]);
    img.hidden = false;
    var empty = document.getElementById("logo-empty");
    if (empty) empty.hidden = true;
  });

  // Escape closes an open pop-up, the same way its close link does.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var close = document.querySelector("#modal dialog[open] .close-link");
    if (close) { e.preventDefault(); close.click(); }
  });

  // A pop-up that opens takes the focus to its first field; without fields, to its first
  // button or link (the close link comes first in the markup, so fields are looked for first).
  function focusDialog() {
    var d = document.querySelector("#modal dialog[open]");
    if (!d) return;
    var f = d.querySelector("input:not([type=hidden]):not([disabled]), select, textarea") ||
      d.querySelector(".dialog-actions a[href], .dialog-actions button") || d.querySelector("a[href], button");
    if (f) f.focus();
  }
  document.addEventListener("htmx:afterSettle", focusDialog);
  document.addEventListener("DOMContentLoaded", focusDialog);

  // A menu closes when the click lands outside of it.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
})();
