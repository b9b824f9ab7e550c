// Roster console: passkeys (WebAuthn). A passkey form (form[data-passkey="create"|"get"])
// is posted here first to its data-options address, which answers the options for
// navigator.credentials in JSON (or {"message": …}, a localized refusal); the browser's
// answer goes into the form's hidden field (data-field, "credential" by default) and the
// form is submitted as any other. Without WebAuthn the button stays disabled and the
// message beside it says why. The texts come from the data-msg-* attributes of the form's
// status line ([data-passkey-status], which reads them out as they change).
(function () {
  "use strict";

  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  function init(root) {
    if (!supported || !root.querySelectorAll) return;
    root.querySelectorAll("form[data-passkey]").forEach(function (form) {
      var button = form.querySelector("[data-passkey-button]");
      if (button) button.disabled = false;
      var note = form.querySelector("[data-passkey-unsupported]");
      if (note) note.hidden = true;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
  init(document);

  var b64 = {
    decode: function (s) {
      s = s.replace(/-/g, "+").replace(/_/g, "/");
      var bin = atob(s + "===".slice((s.length + 3) % 4));
      var out = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out.buffer;
    },
    encode: function (buf) {
      var bytes = new Uint8Array(buf), bin = "";
      for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
      return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }
  };

  // The options as the server sends them (base64url strings) become what the browser takes.
  function decodeOptions(kind, pk) {
    pk.challenge = b64.decode(pk.challenge);
    if (kind === "create") {
      pk.user.id = b64.decode(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = b64.decode(c.id); });
    } else {
      (pk.allowCredentials || []).forEach(function (c) { c.id = b64.decode(c.id); });
    }
    return pk;
  }

  // The browser's answer as JSON (the shape of PublicKeyCredential.toJSON()).
  function encodeCredential(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    var r = cred.response, out = {
      id: cred.id, rawId: b64.encode(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {clientDataJSON: b64.encode(r.clientDataJSON)}
    };
    if (r.attestationObject) {
      out.response.attestationObject = b64.encode(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = b64.encode(r.authenticatorData);
      out.response.signature = b64.encode(r.signature);
      if (r.userHandle) out.response.userHandle = b64.encode(r.userHandle);
    }
    return out;
  }

  function msg(form, name) {
    var status = form.querySelector("[data-passkey-status]");
    return status ? status.getAttribute("data-msg-" + name) : "";
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (!status) return;
    status.textContent = text;
    status.hidden = !text;
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-passkey]")) return;
    e.preventDefault();
    e.stopPropagation();
    if (!supported) { say(form, msg(form, "unsupported")); return; }
    var kind = form.dataset.passkey;
    var button = form.querySelector("[data-passkey-button]");
    if (button) button.disabled = true;
    say(form, msg(form, "waiting"));
    var done = function (text) {
      say(form, text);
      if (button) { button.disabled = false; button.focus(); }
    };
    fetch(form.dataset.options, {
      method: "POST", credentials: "same-origin",
      headers: {"Accept": "application/json"},
      body: new URLSearchParams(new FormData(form))
    }).then(function (resp) {
      return resp.json().then(function (body) {
        if (!resp.ok) throw {message: body.message};
        var pk = decodeOptions(kind, body.publicKey);
        return kind === "create" ? navigator.credentials.create({publicKey: pk}) : navigator.credentials.get({publicKey: pk});
      });
    }).then(function (cred) {
      if (!cred) throw {name: "NotAllowedError"};
      form.querySelector("input[name='" + (form.dataset.field || "credential") + "']").value = JSON.stringify(encodeCredential(cred));
      HTMLFormElement.prototype.submit.call(form); // no submit event: a plain post, answered by a page
    }).catch(function (err) {
      if (err && err.message && !err.name) { done(err.message); return; }
      done(err && (err.name === "NotAllowedError" || err.name === "AbortError") ? msg(form, "cancelled") : msg(form, "failed"));
    });
  }, true);
})();
