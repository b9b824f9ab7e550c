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

  // A page rendered in answer to a post names its own address (see pageURL in render.go):
  // the address bar shows it, so a reload asks for the page instead of posting again. Then
  // the page's notice, if any, is brought into view and focused, unless a pop-up is open.
  function settlePage() {
    var main = document.getElementById("main");
    if (!main) return;
    var page = main.getAttribute("data-page-url");
    if (page && location.pathname + location.search !== page) history.replaceState(history.state, "", page);
    if (document.querySelector("#modal dialog[open]")) return;
    var flash = main.querySelector(".flash");
    if (!flash) return;
    var r = flash.getBoundingClientRect();
    var top = document.querySelector(".topbar");
    var hidden = top ? top.getBoundingClientRect().bottom : 0;
    if (r.top < hidden || r.bottom > window.innerHeight) flash.scrollIntoView({block: "center"});
    flash.setAttribute("tabindex", "-1");
    flash.focus({preventScroll: true});
  }
  document.addEventListener("htmx:afterSettle", settlePage);
  document.addEventListener("DOMContentLoaded", settlePage);

  // A menu closes when the click lands outside of it.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  // Copy buttons of values shown once: shown only where this file runs; the value goes to the
  // clipboard, or, where the browser refuses, is selected for Ctrl+C. The status says which.
  function initCopy() {
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", initCopy);
  document.addEventListener("htmx:afterSettle", initCopy);
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) return;
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (!el) return;
    var value = el.value !== undefined ? el.value : el.textContent;
    var status = b.nextElementSibling && b.nextElementSibling.matches(".copy-status") ? b.nextElementSibling : null;
    function say(msg) { if (status) status.textContent = msg; }
    function select() {
      if (el.select) { el.focus(); el.select(); return; }
      var r = document.createRange(); r.selectNodeContents(el);
      var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(function () { say(b.getAttribute("data-copied")); },
        function () { select(); say(b.getAttribute("data-copy-failed")); });
    } else {
      select(); say(b.getAttribute("data-copy-failed"));
    }
  });
})();
