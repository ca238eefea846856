// Registration wizard enhancements; the pages work without them.
(function () {
  "use strict";
  // WebOTP: on Android Chrome fill the SMS code from the message's "@host #code" line.
  var form = document.querySelector("form[data-webotp]");
  if (!form || !("OTPCredential" in window)) { return; }
  var input = form.querySelector("input[autocomplete=one-time-code]");
  var abort = new AbortController();
  form.addEventListener("submit", function () { abort.abort(); });
  navigator.credentials.get({ otp: { transport: ["sms"] }, signal: abort.signal })
    .then(function (otp) {
      if (otp && otp.code && input) {
        input.value = otp.code;
        var verify = form.querySelector("button[value=verify]");
        if (verify) { verify.click(); } else { form.submit(); }
      }
    })
    .catch(function () { /* typed by hand instead */ });
})();
