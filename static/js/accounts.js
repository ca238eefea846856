// Small progressive enhancements of the account pages; every check is repeated on the server.
(function () {
  "use strict";
  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
  var ENGLISH = document.documentElement.lang === "en";  // English pages keep ASCII digits
  function fa(n) {
    return ENGLISH ? String(n) : String(n).replace(/[0-9]/g, function (d) { return PERSIAN[d]; });
  }
  function ascii(s) {
    return s.replace(/[۰-۹]/g, function (d) { return d.charCodeAt(0) - 0x06F0; })
            .replace(/[٠-٩]/g, function (d) { return d.charCodeAt(0) - 0x0660; });
  }

  // "n رقم از ۱۰" under a national/FIDA code field (data-digit-counter = the counter's id);
  // the counter's data-counter-text, if any, is the page's wording with {count} and {total}.
  // data-digit-total is the chosen type's length (10 national, 12 FIDA); without it (the
  // sign-in and recovery pages take either code) the total follows what was typed.
  document.querySelectorAll("input[data-digit-counter]").forEach(function (input) {
    var counter = document.getElementById(input.dataset.digitCounter);
    var fixed = parseInt(input.dataset.digitTotal, 10);
    function update() {
      var n = ascii(input.value).replace(/[^0-9]/g, "").length;
      var total = fixed || (n > 10 ? 12 : 10), format = counter.dataset.counterText;
      counter.textContent = format
        ? format.replace("{count}", fa(n)).replace("{total}", fa(total))
        : fa(n) + " رقم از " + fa(total);
    }
    input.addEventListener("input", update);
    update();
  });

  // Password rules ticked while typing (the list follows the new-password field).
  var rules = {
    charset: function (p) { return /^[A-Za-z0-9]*$/.test(p); },
    length: function (p) { return p.length >= 8 && p.length <= 64; },
    upper: function (p) { return /[A-Z]/.test(p); },
    lower: function (p) { return /[a-z]/.test(p); },
    digit: function (p) { return /[0-9]/.test(p); },
    "id-code": function (p, code) { return !code || p.indexOf(code) < 0; }
  };
  document.querySelectorAll("[data-password-rules]").forEach(function (list) {
    var input = list.closest("form").querySelector("input[name=new_password]");
    if (!input) { return; }
    input.addEventListener("input", function () {
      list.querySelectorAll("li[data-rule]").forEach(function (item) {
        var ok = input.value && rules[item.dataset.rule](input.value, input.dataset.idCode);
        item.classList.toggle("ok", !!ok);
        item.classList.toggle("bad", !ok && input.value.length > 0);
      });
    });
  });

  // WebOTP: on Android Chrome fill the SMS code from the message's "@host #code" line and
  // submit with the form's first button (its "next"/"verify"); typing by hand still works.
  var otpForm = document.querySelector("form[data-webotp]");
  if (otpForm && "OTPCredential" in window) {
    var otpInput = otpForm.querySelector("input[autocomplete=one-time-code]");
    var abort = new AbortController();
    otpForm.addEventListener("submit", function () { abort.abort(); });
    navigator.credentials.get({ otp: { transport: ["sms"] }, signal: abort.signal })
      .then(function (otp) {
        if (otp && otp.code && otpInput) {
          otpInput.value = otp.code;
          var button = otpForm.querySelector("button[type=submit]");
          if (button) { button.click(); } else { otpForm.submit(); }
        }
      })
      .catch(function () { /* typed by hand instead */ });
  }

  // "Send again" stays disabled for the seconds the server said (data-resend-wait).
  document.querySelectorAll("button[data-resend-wait]").forEach(function (button) {
    var left = parseInt(button.dataset.resendWait, 10) || 0;
    var label = button.textContent;
    function tick() {
      button.disabled = left > 0;
      button.textContent = left > 0 ? label + " (" + fa(left) + ")" : label;
      if (left-- > 0) { setTimeout(tick, 1000); }
    }
    tick();
  });
})();
