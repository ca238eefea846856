// Passkeys (WebAuthn): add one on the account page, sign in with one on /login, prove one
// on the passkey step. Texts come from the page's data-text-* attributes (Persian or
// English); every check is the server's. No WebAuthn in this browser: the controls stay
// hidden and the [data-passkey-unsupported] note is shown.
(function () {
  "use strict";

  // --- base64url <-> ArrayBuffer ---------------------------------------------------------
  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "====".slice(b64.length % 4 || 4);
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Server options (JSON, base64url) -> what navigator.credentials expects.
  function creationOptions(o) {
    o.challenge = toBuffer(o.challenge);
    o.user.id = toBuffer(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return o;
  }
  function requestOptions(o) {
    o.challenge = toBuffer(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return o;
  }

  // A credential -> the JSON py_webauthn reads.
  function credentialJSON(c) {
    var r = c.response, out = {id: c.id, rawId: toText(c.rawId), type: c.type,
                               clientExtensionResults: c.getClientExtensionResults(),
                               response: {clientDataJSON: toText(r.clientDataJSON)}};
    if (c.authenticatorAttachment) { out.authenticatorAttachment = c.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) { out.response.userHandle = toText(r.userHandle); }
    }
    return out;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw {server: data.message || null}; }
        return data;
      });
    });
  }

  function say(box, error, texts) {
    var message = document.querySelector("[data-passkey-message]");
    if (!message) { return; }
    var text = error && error.server ? error.server
      : error && error.name ? texts.failed : texts.error;
    message.textContent = text;
    message.hidden = false;
  }

  function texts(el) {
    return {failed: el.dataset.textFailed, error: el.dataset.textError};
  }

  // WebAuthn refuses an IP address as the relying party id (a development issuer on
  // http://127.0.0.1): nothing to offer there, and nothing to apologise for either.
  if (/^[0-9.]+$|^\[/.test(window.location.hostname)) { return; }
  var supported = !!(window.PublicKeyCredential && navigator.credentials);
  if (!supported) {
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (el) {
      el.hidden = false;
    });
    return;
  }

  // --- the account page: add a passkey ---------------------------------------------------
  var section = document.getElementById("passkeys");
  var addForm = document.querySelector("form[data-passkey-add]");
  if (section && addForm) {
    addForm.hidden = false;
    addForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var csrf = addForm.querySelector("input[name=csrf_token]").value;
      var nameField = addForm.querySelector("input[name=name]"), name = nameField.value;
      if (!name.trim()) {  // ask for the name before the device asks for its screen lock
        say(section, {server: section.dataset.textName}, texts(section));
        nameField.focus();
        return;
      }
      post(section.dataset.passkeysOptions, csrf).then(function (options) {
        return navigator.credentials.create({publicKey: creationOptions(options)});
      }).then(function (credential) {
        return post(section.dataset.passkeysRegister, csrf,
                    {name: name, credential: credentialJSON(credential)});
      }).then(function (answer) {
        window.location.assign(answer.redirect);
      }).catch(function (error) { say(section, error, texts(section)); });
    });
  }

  // --- /login: sign in with a passkey (button, and autofill where offered) ----------------
  var login = document.querySelector("[data-passkey-login]");
  if (login) {
    var pending = null;  // the conditional (autofill) request, aborted by the button
    var finish = function (credential) {
      return post(login.dataset.verify, login.dataset.csrf,
                  {credential: credentialJSON(credential)}).then(function (answer) {
        window.location.assign(answer.redirect);
      });
    };
    var ask = function (mediation) {
      if (pending) { pending.abort(); }
      var abort = new AbortController();
      pending = abort;
      return post(login.dataset.options, login.dataset.csrf).then(function (options) {
        var request = {publicKey: requestOptions(options), signal: abort.signal};
        if (mediation) { request.mediation = mediation; }
        return navigator.credentials.get(request);
      }).then(finish);
    };
    login.hidden = false;
    login.querySelector("button").addEventListener("click", function () {
      ask(null).catch(function (error) { say(login, error, texts(login)); });
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        // An aborted or failed autofill request says nothing: the button is still there.
        if (available) { ask("conditional").catch(function () {}); }
      });
    }
  }

  // --- the passkey step ------------------------------------------------------------------
  var stepForm = document.querySelector("form[data-passkey-step]");
  if (stepForm) {
    var button = stepForm.querySelector("button");
    var field = stepForm.querySelector("input[name=credential]");
    var csrf = stepForm.querySelector("input[name=csrf_token]").value;
    var prove = function (event) {
      if (field.value) { return; }  // the assertion is in: let the form go
      event.preventDefault();
      post(stepForm.dataset.options, csrf).then(function (options) {
        return navigator.credentials.get({publicKey: requestOptions(options)});
      }).then(function (credential) {
        field.value = JSON.stringify(credentialJSON(credential));
        stepForm.submit();
      }).catch(function (error) { say(stepForm, error, texts(stepForm)); });
    };
    button.hidden = false;
    stepForm.addEventListener("submit", prove);
  }
})();
