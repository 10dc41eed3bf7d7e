// Small conveniences; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Choosing from a filter or the category list submits its form at once.
  var selects = document.querySelectorAll("form.search select[name=village], select[data-autosubmit]");
  Array.prototype.forEach.call(selects, function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // The appeal form: choosing a category shows its own questions at once, nothing typed lost;
  // the questions of other categories are disabled so they are neither checked nor sent.
  Array.prototype.forEach.call(document.querySelectorAll("select[data-switches=questions]"), function (select) {
    var form = select.form;
    function show() {
      Array.prototype.forEach.call(form.querySelectorAll("fieldset.questions"), function (set) {
        var on = set.getAttribute("data-category") === select.value;
        set.hidden = !on;
        set.disabled = !on;
      });
    }
    select.addEventListener("change", show);
    Array.prototype.forEach.call(form.querySelectorAll("[data-without-script]"), function (b) { b.hidden = true; });
  });
  // A field with its own words for a wrong value says them instead of the browser's.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-invalid]"), function (input) {
    input.addEventListener("invalid", function () {
      if (input.validity.patternMismatch) input.setCustomValidity(input.getAttribute("data-invalid"));
    });
    input.addEventListener("input", function () { input.setCustomValidity(""); });
  });
  // A dissatisfied rating needs its reason before the form goes.
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-required-for]"), function (reason) {
    var form = reason.form;
    function check() {
      var picked = form.querySelector("input[name=rating]:checked");
      reason.required = !!picked && picked.value === reason.getAttribute("data-required-for");
    }
    form.addEventListener("change", check);
    check();
  });
  // A print button prints the page (the slip); without the script, the browser's own print.
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
