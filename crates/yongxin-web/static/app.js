// Small conveniences; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Choosing from a filter or the category list submits its form at once.
  var selects = document.querySelectorAll("form.search select[name=village], select[data-autosubmit]");
  Array.prototype.forEach.call(selects, function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // A print button prints the page (the slip); without the script, the browser's own print.
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
