// The demo pages' one script: the WebAuthn ceremonies. A form marked
// data-webauthn="create" (registration) or "get" (sign-in) carries the
// server's options as JSON in data-options; on submit, the browser's
// authenticator answers them, and the answer, as JSON, goes back in the
// form's "answer" field. Nothing else happens in script.
"use strict";
(function () {
  function bytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function base64url(buf) {
    var bin = "", b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: bytes(d.id) }); });
  }
  // The options as the server sends them (binary members base64url)
  // made into what navigator.credentials expects.
  function publicKey(kind, o) {
    o = Object.assign({}, o, { challenge: bytes(o.challenge) });
    if (kind === "create") {
      o.user = Object.assign({}, o.user, { id: bytes(o.user.id) });
      o.excludeCredentials = descriptors(o.excludeCredentials);
    } else {
      o.allowCredentials = descriptors(o.allowCredentials);
    }
    return o;
  }
  // The credential as JSON: the browser's own toJSON where it has one.
  function toJSON(c) {
    if (typeof c.toJSON === "function") return c.toJSON();
    var r = c.response, out = {
      id: c.id, rawId: base64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
      response: { clientDataJSON: base64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = base64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = base64url(r.authenticatorData);
      out.response.signature = base64url(r.signature);
      if (r.userHandle) out.response.userHandle = base64url(r.userHandle);
    }
    return out;
  }
  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    var error = document.getElementById("webauthn-error");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var kind = form.dataset.webauthn;
      if (!window.PublicKeyCredential) {
        error.textContent = "This browser cannot use passkeys.";
        error.hidden = false;
        return;
      }
      var options = { publicKey: publicKey(kind, JSON.parse(form.dataset.options)) };
      var ceremony = kind === "create" ? navigator.credentials.create(options) : navigator.credentials.get(options);
      ceremony.then(function (cred) {
        form.elements.answer.value = JSON.stringify(toJSON(cred));
        form.submit();
      }, function (e) {
        error.textContent = e.name === "NotAllowedError"
          ? "No passkey was used: the request was cancelled or timed out. Try again."
          : "The passkey could not be used (" + e.name + "). Try again.";
        error.hidden = false;
      });
    });
  });
})();
