// "A new image" without leaving the page: the link gives the challenge new digits and
// returns their image, which replaces the one shown. Without scripts the link opens it.
(function () {
  "use strict";
  document.querySelectorAll("a[data-captcha-new]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var image = link.closest("fieldset").querySelector("img.captcha-image");
      if (!image) { return; }
      event.preventDefault();
      image.src = link.href + "&t=" + Date.now();
    });
  });
})();
