// <roster-switcher>: Roster's organization and store switcher, a standard Web Component.
//
//   <script type="module" src="https://ROSTER/switcher/v1/roster-switcher.js"></script>
//   <roster-switcher roster="https://ROSTER" organization="org_…" store="sto_…"></roster-switcher>
//
// Give it the user's Roster access token: the token property (or attribute), or a getToken
// property, a function returning the token or a promise of it. It lists the user's
// organizations and their stores (GET /v1/me/organizations, CORS, bearer token, never a
// cookie) and, when the user chooses one, dispatches "roster-switch" with
// {organization, store}; the host switches its tokens (a refresh with organization and
// store). The token is kept in memory only. Its words follow the lang of the element or of
// the nearest ancestor that has one (en, fr, es). No eval, no inline handler, no inline style:
// it runs under a strict Content-Security-Policy. Theming: the --roster-switcher-* custom
// properties and the parts button, list, option, error. See Roster's README.

const STRINGS = {
  en: {
    label: "Organization and store",
    list: "Organizations and stores",
    choose: "Choose…",
    loading: "Loading…",
    whole: "whole organization",
    suspended: "suspended",
    none: "You belong to no organization yet.",
    unauthorized: "Your Roster session has ended: sign in again.",
    network: "Roster could not be reached.",
    failed: "Roster answered with an error ({status}).",
    retry: "Retry",
  },
  fr: {
    label: "Organisation et boutique",
    list: "Organisations et boutiques",
    choose: "Choisir…",
    loading: "Chargement…",
    whole: "toute l’organisation",
    suspended: "suspendu",
    none: "Vous n’appartenez encore à aucune organisation.",
    unauthorized: "Votre session Roster a pris fin : reconnectez-vous.",
    network: "Roster est injoignable.",
    failed: "Roster a répondu par une erreur ({status}).",
    retry: "Réessayer",
  },
  es: {
    label: "Organización y tienda",
    list: "Organizaciones y tiendas",
    choose: "Elegir…",
    loading: "Cargando…",
    whole: "toda la organización",
    suspended: "suspendida",
    none: "Aún no pertenece a ninguna organización.",
    unauthorized: "Su sesión de Roster ha terminado: inicie sesión de nuevo.",
    network: "No se pudo contactar con Roster.",
    failed: "Roster respondió con un error ({status}).",
    retry: "Reintentar",
  },
};

const CSS = `
:host { display: inline-block; position: relative; font: var(--roster-switcher-font, inherit);
  color: var(--roster-switcher-color, inherit); }
:host([hidden]) { display: none; }
button { font: inherit; color: inherit; cursor: pointer; }
.toggle { display: inline-flex; align-items: center; gap: .5em; padding: .4em .7em;
  background: var(--roster-switcher-background, #fff); color: var(--roster-switcher-color, #1f2328);
  border: 1px solid var(--roster-switcher-border, #8c959f); border-radius: var(--roster-switcher-radius, .375rem); }
.toggle[disabled] { cursor: progress; opacity: .7; }
.label { font-size: .8em; opacity: .8; }
.current { font-weight: 600; }
.chevron { width: .5em; height: .5em; border-right: 2px solid currentColor; border-bottom: 2px solid currentColor;
  transform: translateY(-25%) rotate(45deg); }
[aria-expanded="true"] .chevron { transform: translateY(25%) rotate(-135deg); }
:focus-visible { outline: 2px solid var(--roster-switcher-focus, var(--roster-switcher-accent, #0969da)); outline-offset: 2px; }
[role="listbox"] { position: absolute; z-index: var(--roster-switcher-z-index, 1000); inset-inline-start: 0; top: calc(100% + .25em);
  min-width: max(100%, 16em); max-height: var(--roster-switcher-max-height, 24em); overflow: auto; margin: 0; padding: .25em;
  background: var(--roster-switcher-background, #fff); color: var(--roster-switcher-color, #1f2328);
  border: 1px solid var(--roster-switcher-border, #8c959f); border-radius: var(--roster-switcher-radius, .375rem);
  box-shadow: var(--roster-switcher-shadow, 0 8px 24px rgba(0, 0, 0, .15)); }
[role="listbox"][hidden] { display: none; }
[role="group"] + [role="group"] { border-top: 1px solid var(--roster-switcher-border, #d0d7de); margin-top: .25em; padding-top: .25em; }
[role="option"] { padding: .35em .6em; border-radius: calc(var(--roster-switcher-radius, .375rem) - .125em); cursor: pointer; }
[role="option"].store { padding-inline-start: 1.6em; }
[role="option"].organization .name { font-weight: 600; }
[role="option"]:hover, [role="option"]:focus { background: var(--roster-switcher-hover, rgba(9, 105, 218, .1)); }
[role="option"][aria-selected="true"] { background: var(--roster-switcher-accent, #0969da); color: var(--roster-switcher-accent-text, #fff); }
[role="option"][aria-disabled="true"] { cursor: not-allowed; opacity: .6; }
.hint { font-size: .85em; opacity: .8; margin-inline-start: .4em; }
.error { margin-top: .25em; color: var(--roster-switcher-error, #cf222e); }
.error[hidden], .status:empty { display: none; }
.error button { margin-inline-start: .5em; background: none; border: 1px solid currentColor;
  border-radius: var(--roster-switcher-radius, .375rem); padding: .1em .5em; }
.status { font-size: .85em; opacity: .8; }
@media (forced-colors: active) { [role="option"][aria-selected="true"] { outline: 2px solid Highlight; } }
`;

let sheet = null;

// styles returns the component's style sheet: a constructed one (not inline style, which a
// strict Content-Security-Policy refuses), shared by every instance.
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

class RosterSwitcher extends HTMLElement {
  static observedAttributes = ["roster", "token", "organization", "store", "lang"];

  #token = "";
  #getToken = null;
  #orgs = null; // the /v1/me/organizations answer's organizations, once read
  #error = null; // {kind: "unauthorized" | "network" | "failed", status}
  #loading = false;
  #seq = 0; // the latest read: older answers are dropped
  #typed = "";
  #typedAt = 0;
  #langWatch = null;
  #root;
  #toggle;
  #labelText;
  #currentText;
  #list;
  #status;
  #errorBox;
  #errorText;
  #retry;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#root.adoptedStyleSheets = [styles()];
    this.#labelText = el("span", { class: "label" });
    this.#currentText = el("span", { class: "current" });
    this.#toggle = el("button", { type: "button", class: "toggle", part: "button", "aria-haspopup": "listbox", "aria-expanded": "false", "aria-controls": "list" },
      this.#labelText, this.#currentText, el("span", { class: "chevron", "aria-hidden": "true" }));
    this.#list = el("div", { id: "list", role: "listbox", part: "list", tabindex: "-1", hidden: true });
    this.#status = el("span", { class: "status", role: "status" });
    this.#errorText = el("span");
    this.#retry = el("button", { type: "button" });
    this.#errorBox = el("div", { class: "error", role: "alert", part: "error", hidden: true }, this.#errorText, this.#retry);
    this.#root.append(el("div", { class: "wrap" }, this.#toggle, this.#list, this.#status, this.#errorBox));

    this.#toggle.addEventListener("click", () => (this.#isOpen() ? this.#close(true) : this.#open("current")));
    this.#toggle.addEventListener("keydown", (e) => this.#toggleKey(e));
    this.#list.addEventListener("keydown", (e) => this.#listKey(e));
    this.#list.addEventListener("click", (e) => {
      const opt = e.target.closest('[role="option"]');
      if (opt) this.#choose(opt);
    });
    this.#root.addEventListener("focusout", (e) => {
      if (this.#isOpen() && !(e.relatedTarget && this.#root.contains(e.relatedTarget))) this.#close(false);
    });
    this.#retry.addEventListener("click", () => this.refresh());
  }

  connectedCallback() {
    // Properties a page set before this module defined the element.
    for (const p of ["token", "getToken"]) {
      if (Object.prototype.hasOwnProperty.call(this, p)) {
        const v = this[p];
        delete this[p];
        this[p] = v;
      }
    }
    this.#langWatch = new MutationObserver(() => this.#render());
    this.#langWatch.observe(document.documentElement, { attributes: true, attributeFilter: ["lang"], subtree: true });
    this.#render();
    this.refresh();
  }

  disconnectedCallback() {
    if (this.#langWatch) this.#langWatch.disconnect();
    this.#langWatch = null;
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === "token") {
      this.#token = value || "";
      this.refresh();
    } else if (name === "roster") {
      this.refresh();
    } else {
      this.#render();
    }
  }

  /** The user's Roster access token (kept in memory only). */
  get token() {
    return this.#token;
  }

  set token(v) {
    this.#token = v ? String(v) : "";
    this.refresh();
  }

  /** A function returning the access token, or a promise of it; asked before each read. */
  get getToken() {
    return this.#getToken;
  }

  set getToken(fn) {
    this.#getToken = typeof fn === "function" ? fn : null;
    this.refresh();
  }

  /** The organizations and stores as last read (the /v1/me/organizations answer's list). */
  get organizations() {
    return this.#orgs;
  }

  /** Reads the organizations and stores again. */
  async refresh() {
    if (!this.isConnected) return;
    const seq = ++this.#seq;
    const base = (this.getAttribute("roster") || "").replace(/\/+$/, "");
    let token = this.#token;
    this.#loading = true;
    this.#error = null;
    this.#render();
    let error = null;
    let orgs = null;
    try {
      if (this.#getToken) token = await this.#getToken();
      if (seq !== this.#seq) return;
      if (!base || !token) {
        this.#loading = false;
        this.#render();
        return;
      }
      let res;
      try {
        res = await fetch(base + "/v1/me/organizations", {
          headers: { Authorization: "Bearer " + token, Accept: "application/json" },
          mode: "cors", credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
        });
      } catch {
        error = { kind: "network" };
      }
      if (res && res.status === 401) error = { kind: "unauthorized", status: 401 };
      else if (res && !res.ok) error = { kind: "failed", status: res.status };
      else if (res) {
        const body = await res.json();
        orgs = Array.isArray(body.organizations) ? body.organizations : [];
      }
    } catch {
      error = error || { kind: "failed", status: "?" };
    }
    if (seq !== this.#seq) return;
    this.#loading = false;
    this.#error = error;
    if (!error) this.#orgs = orgs;
    this.#render();
    if (error) {
      this.dispatchEvent(new CustomEvent("roster-error", { detail: { kind: error.kind, status: error.status || 0 }, bubbles: true, composed: true }));
    }
  }

  #lang() {
    const holder = this.closest("[lang]");
    const tag = ((holder && holder.getAttribute("lang")) || document.documentElement.lang || "en").toLowerCase().split("-")[0];
    return STRINGS[tag] ? tag : "en";
  }

  #isOpen() {
    return !this.#list.hidden;
  }

  #options() {
    return [...this.#list.querySelectorAll('[role="option"]')];
  }

  #current() {
    const org = this.getAttribute("organization") || "";
    const store = this.getAttribute("store") || "";
    return { org, store };
  }

  #render() {
    const lang = this.#lang();
    const s = STRINGS[lang];
    this.#root.firstElementChild.setAttribute("lang", lang);
    this.#labelText.textContent = s.label;
    this.#list.setAttribute("aria-label", s.list);
    this.#retry.textContent = s.retry;
    this.#status.textContent = this.#loading ? s.loading : "";
    this.#toggle.setAttribute("aria-busy", this.#loading ? "true" : "false");

    const cur = this.#current();
    let currentName = "";
    const focused = this.#isOpen() && this.#root.activeElement ? this.#root.activeElement.id : "";
    this.#list.replaceChildren();
    (this.#orgs || []).forEach((aff, i) => {
      const org = aff.organization || {};
      const suspended = aff.status === "suspended";
      const group = el("div", { role: "group", "aria-labelledby": "o" + i });
      const option = (id, cls, name, hint, orgID, storeID) => {
        const selected = orgID === cur.org && storeID === cur.store;
        return el("div", {
          id, role: "option", part: "option", class: cls, tabindex: "-1", "data-organization": orgID, "data-store": storeID,
          "aria-selected": selected ? "true" : "false", "aria-current": selected ? "true" : null, "aria-disabled": suspended ? "true" : null,
        }, el("span", { class: "name" }, name), hint ? el("span", { class: "hint" }, hint) : null);
      };
      group.append(option("o" + i, "organization", org.name || org.id, suspended ? s.suspended : s.whole, org.id, ""));
      if (org.id === cur.org && !cur.store) currentName = org.name || org.id;
      (aff.stores || []).forEach((st, j) => {
        group.append(option("o" + i + "s" + j, "store", st.name || st.id, null, org.id, st.id));
        if (org.id === cur.org && st.id === cur.store) currentName = (org.name || org.id) + " · " + (st.name || st.id);
      });
      this.#list.append(group);
    });
    if (this.#orgs && this.#orgs.length === 0) currentName = s.none;
    this.#currentText.textContent = this.#loading && !this.#orgs ? s.loading : currentName || s.choose;
    this.#toggle.disabled = !this.#orgs || this.#orgs.length === 0;
    if (this.#toggle.disabled && this.#isOpen()) this.#close(false);

    const err = this.#error;
    this.#errorBox.hidden = !err;
    this.#errorText.textContent = err ? s[err.kind].replace("{status}", String(err.status)) : "";
    if (focused) {
      const again = this.#root.getElementById(focused);
      if (again) again.focus();
    }
  }

  #open(which) {
    const opts = this.#options();
    if (!opts.length) return;
    this.#list.hidden = false;
    this.#toggle.setAttribute("aria-expanded", "true");
    let target = opts.find((o) => o.getAttribute("aria-selected") === "true") || opts[0];
    if (which === "first") target = opts[0];
    if (which === "last") target = opts[opts.length - 1];
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  }

  #close(focusToggle) {
    this.#list.hidden = true;
    this.#toggle.setAttribute("aria-expanded", "false");
    if (focusToggle) this.#toggle.focus();
  }

  #toggleKey(e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      this.#open(e.key === "ArrowUp" ? "last" : "current");
    }
  }

  #move(to) {
    to.focus();
    to.scrollIntoView({ block: "nearest" });
  }

  #listKey(e) {
    const opts = this.#options();
    const i = opts.indexOf(this.#root.activeElement);
    switch (e.key) {
      case "ArrowDown":
        this.#move(opts[Math.min(i + 1, opts.length - 1)]);
        break;
      case "ArrowUp":
        this.#move(opts[Math.max(i - 1, 0)]);
        break;
      case "Home":
      case "PageUp":
        this.#move(opts[0]);
        break;
      case "End":
      case "PageDown":
        this.#move(opts[opts.length - 1]);
        break;
      case "Enter":
      case " ":
        if (i >= 0) this.#choose(opts[i]);
        break;
      case "Escape":
        this.#close(true);
        break;
      case "Tab":
        this.#close(false);
        return; // focus moves on as usual
      default:
        if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
          this.#typeAhead(opts, i, e.key);
          break;
        }
        return;
    }
    e.preventDefault();
  }

  // #typeAhead moves to the next option whose name starts with what was typed in the last second.
  #typeAhead(opts, i, key) {
    const now = Date.now();
    this.#typed = now - this.#typedAt > 1000 ? key : this.#typed + key;
    this.#typedAt = now;
    const want = this.#typed.toLocaleLowerCase();
    const start = this.#typed.length === 1 ? i + 1 : i;
    for (let k = 0; k < opts.length; k++) {
      const o = opts[(start + k + opts.length) % opts.length];
      if (o.querySelector(".name").textContent.toLocaleLowerCase().startsWith(want)) {
        this.#move(o);
        return;
      }
    }
  }

  #choose(opt) {
    if (opt.getAttribute("aria-disabled") === "true") return;
    const organization = opt.dataset.organization;
    const store = opt.dataset.store || null;
    const cur = this.#current();
    this.#close(true);
    if (organization === cur.org && (store || "") === cur.store) return;
    const ev = new CustomEvent("roster-switch", { detail: { organization, store }, bubbles: true, composed: true, cancelable: true });
    if (this.dispatchEvent(ev)) {
      // Shown as current at once; a host that refuses the choice calls preventDefault().
      this.setAttribute("organization", organization);
      if (store) this.setAttribute("store", store);
      else this.removeAttribute("store");
    }
  }
}

if (!customElements.get("roster-switcher")) customElements.define("roster-switcher", RosterSwitcher);

export { RosterSwitcher };
