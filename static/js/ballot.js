// The public ballot (/appraisal): a slip's QR code opens /appraisal#code=XXXX-XXXX-XXXX. The fragment never
// reaches the server (no access log, no Referer records it); this fills the code field from it and then drops
// it from the address bar and the history. Without JavaScript the person types the code from the slip.
(function () {
  "use strict";
  function fill() {
    var match = /(?:^#|&)code=([^&]*)/.exec(window.location.hash || "");
    if (!match) return;
    var field = document.getElementById("code");
    var code = "";
    try { code = decodeURIComponent(match[1]); } catch (e) { code = ""; }
    if (field && code) {
      field.value = code.slice(0, 40);
      var button = field.form && field.form.querySelector("button[type=submit]");
      if (button) button.focus();
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fill);
  else fill();
})();
