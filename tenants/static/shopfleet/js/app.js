/* Small behaviours of every page, by event delegation on data-* attributes: the
   Content-Security-Policy forbids inline scripts and on*= / hx-on attributes
   (tenants/security.py), so they live here. Pages work without this file; it only helps. */
(function () {
  "use strict";

  // Controls that only make sense with JavaScript are rendered `hidden data-js-only`.
  function reveal(root) {
    if (!root.querySelectorAll) return;
    // `document` (on DOMContentLoaded) has querySelectorAll but no `matches`.
    if (root.matches && root.matches("[data-js-only][hidden]")) root.hidden = false;
    root.querySelectorAll("[data-js-only][hidden]").forEach(function (el) {
      el.hidden = false;
    });
  }

  // <button data-copy="#field-id" data-copied="Copied">: copies the field's value.
  function copy(button) {
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    var done = function () {
      if (button.dataset.copied) button.textContent = button.dataset.copied;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      field.select();
      if (document.execCommand("copy")) done();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copy(button);
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // Content swapped in by htmx gets the same treatment.
  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
})();
