// Small conveniences; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Choosing a village in the household search runs the search at once.
  var village = document.querySelector("form.search select[name=village]");
  if (village) {
    village.addEventListener("change", function () { village.form.submit(); });
  }
});
