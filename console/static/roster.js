// Roster console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Controls that only a page without this file needs (a role list's Save button) hide.
  document.documentElement.classList.add("js");

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

  // Pop-ups are modal dialogs. The server draws them open (<dialog open>, so every page
  // works without this file); here they become modal with showModal(): the page behind is
  // inert and Tab stays inside. Escape, the close cross and Cancel close a pop-up opened over
  // this page in place and give the focus back to what opened it; a pop-up the page came
  // with (after a post, or from its address) closes by going to its close link.
  var opener = null;
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("[hx-target='#modal']");
    if (!a) return;
    // An item of a row's ⋯ menu: the menu closes, and the focus comes back to its button.
    var menu = a.closest("details.dropdown");
    opener = menu ? menu.querySelector("summary") : a;
    if (menu) menu.removeAttribute("open");
  }, true);

  // A role chosen in a list (select[data-confirm]) is confirmed in a pop-up before it applies;
  // cancelled, the list shows the role it had. Without this file, its Save button asks the
  // server, which shows the same pop-up as a page.
  document.addEventListener("change", function (e) {
    var s = e.target;
    if (!s.matches || !s.matches("select[data-confirm]") || !window.htmx) return;
    opener = s;
    htmx.ajax("GET", s.getAttribute("data-confirm") + "?" + encodeURIComponent(s.name) + "=" + encodeURIComponent(s.value),
      {target: "#modal", select: "#modal", swap: "outerHTML"});
  });
  function restoreChoice(s) {
    if (!s.matches("select[data-confirm]")) return;
    Array.prototype.forEach.call(s.options, function (o) { o.selected = o.defaultSelected; });
  }

  function openDialog() { return document.querySelector("#modal dialog[open]"); }

  function closeDialog(d) {
    var link = d.querySelector(".close-link");
    var back = opener && document.contains(opener) && !opener.closest("dialog") ? opener : null;
    if (!back && link) { location.assign(link.href); return; }
    d.dataset.closing = "1";
    if (d.open) d.close();
    d.remove();
    opener = null;
    if (back) { restoreChoice(back); back.focus(); }
  }

  // Tab goes round the pop-up: from its last control to its first, and back with Shift
  // (a modal dialog alone lets the focus leave for the browser's own controls).
  document.addEventListener("keydown", function (e) {
    var d = openDialog();
    if (e.key !== "Tab" || !d) return;
    var all = Array.prototype.filter.call(d.querySelectorAll(
      "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"),
      function (el) { return el.getClientRects().length > 0; });
    if (!all.length) return;
    var first = all[0], last = all[all.length - 1];
    var inside = d.contains(document.activeElement);
    if (e.shiftKey && (document.activeElement === first || !inside)) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (document.activeElement === last || !inside)) { e.preventDefault(); first.focus(); }
  });

  function upgradeDialog() {
    var d = openDialog();
    if (!d || d.dataset.modal) return;
    d.dataset.modal = "1";
    if (typeof d.showModal === "function" && !d.matches(":modal")) {
      d.removeAttribute("open");
      d.showModal();
    }
    d.addEventListener("cancel", function (e) { e.preventDefault(); closeDialog(d); });
    // Closed some other way (a browser may close a modal dialog on a second Escape itself).
    d.addEventListener("close", function () { if (!d.dataset.closing) closeDialog(d); });
  }
  // The close cross and Cancel (links to the page under the pop-up) close it in place; caught
  // before htmx, which would load that page again.
  document.addEventListener("click", function (e) {
    var d = openDialog();
    var a = d && e.target.closest && e.target.closest("a[href]");
    var link = d && d.querySelector(".close-link");
    if (a && link && d.contains(a) && a.getAttribute("href") === link.getAttribute("href") && !a.hasAttribute("hx-get")) {
      e.preventDefault();
      e.stopPropagation();
      closeDialog(d);
    }
  }, true);

  // A pop-up that opens takes the focus to its first field at fault, else its first field; without fields, to its first
  // button or link (the close link comes first in the markup, so fields are looked for first).
  function focusDialog() {
    upgradeDialog();
    var d = openDialog();
    if (!d) return;
    var f = d.querySelector("[aria-invalid=true]") || d.querySelector("input:not([type=hidden]):not([disabled]), select, textarea") ||
      d.querySelector(".dialog-actions a[href], .dialog-actions button") || d.querySelector("a[href], button");
    if (f) f.focus();
  }
  document.addEventListener("htmx:afterSwap", focusDialog);
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

  // Where a row of tabs scrolls (a phone), the current tab is scrolled into the row's view:
  // otherwise the page one is on may be a tab out of sight.
  function showCurrentTabs() {
    document.querySelectorAll("nav.tabs").forEach(function (nav) {
      var a = nav.querySelector('[aria-current="page"]');
      if (!a || nav.scrollWidth <= nav.clientWidth) return;
      var left = a.offsetLeft - nav.offsetLeft, right = left + a.offsetWidth;
      if (left < nav.scrollLeft || right > nav.scrollLeft + nav.clientWidth) {
        nav.scrollLeft = Math.max(0, left - (nav.clientWidth - a.offsetWidth) / 2);
      }
    });
  }
  document.addEventListener("htmx:afterSettle", showCurrentTabs);
  document.addEventListener("DOMContentLoaded", showCurrentTabs);

  // Lists the browser knows in the page's language: the IANA time zones offered as one types
  // a time zone, and each currency's name next to its code.
  function initLists() {
    var lang = document.documentElement.lang || "en";
    document.querySelectorAll("datalist[data-timezones]:empty").forEach(function (list) {
      if (!Intl.supportedValuesOf) return;
      var frag = document.createDocumentFragment();
      Intl.supportedValuesOf("timeZone").forEach(function (z) {
        var o = document.createElement("option"); o.value = z; frag.appendChild(o);
      });
      list.appendChild(frag);
    });
    if (!Intl.DisplayNames) return;
    var names = new Intl.DisplayNames([lang], {type: "currency"});
    document.querySelectorAll("select[data-currency-names]:not([data-named]) option[value]").forEach(function (o) {
      if (!/^[A-Z]{3}$/.test(o.value) || o.textContent !== o.value) return;
      var n = names.of(o.value);
      if (n && n !== o.value) o.textContent = o.value + " — " + n;
    });
    document.querySelectorAll("select[data-currency-names]").forEach(function (s) { s.setAttribute("data-named", ""); });
  }
  document.addEventListener("DOMContentLoaded", initLists);
  document.addEventListener("htmx:afterSwap", initLists);

  // A menu closes when the click lands outside of it, and on Escape, giving the focus back
  // to its button.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || openDialog()) return;
    var d = e.target.closest && e.target.closest("details.dropdown[open]");
    if (!d) return;
    d.removeAttribute("open");
    d.querySelector("summary").focus();
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
