// The apartment picker: small, framework-free. Without it the page is complete (filters and
// pages are buttons of the form, the server adds up what is ticked); with it the summary adds up
// the ticked area and the room left as boxes are ticked, and a filter applies when chosen.
(function () {
  "use strict";
  var form = document.getElementById("picker");
  var summary = document.getElementById("pick-summary");
  if (!form || !summary) return;
  var picked = document.getElementById("picked-area");
  var room = document.getElementById("room");
  var limit = parseInt(summary.getAttribute("data-limit"), 10);
  var owned = parseInt(summary.getAttribute("data-owned"), 10) || 0;
  // Areas are in hundredths of a square metre, as the server keeps them: integers, no rounding.
  function show(hundredths) {
    var whole = Math.floor(Math.abs(hundredths) / 100), part = Math.abs(hundredths) % 100;
    return (hundredths < 0 ? "-" : "") + whole + (part ? "." + (part < 10 ? "0" : "") + part : "");
  }
  var stillLine = document.getElementById("still-line");
  var registered = (summary.getAttribute("data-registered") || "").split(" ").filter(Boolean);
  var ownedLayouts = (summary.getAttribute("data-owned-layouts") || "").split(" ").filter(Boolean);
  // What of the registered combination is still to choose: each registered layout taken once by
  // a unit owned or ticked, as the server counts it.
  function showStill(layouts) {
    if (!stillLine || !registered.length) return;
    var left = registered.slice();
    ownedLayouts.concat(layouts).forEach(function (l) {
      var i = left.indexOf(l);
      if (i >= 0) left.splice(i, 1);
    });
    stillLine.textContent = "";
    if (!left.length) { stillLine.textContent = stillLine.getAttribute("data-done"); return; }
    stillLine.appendChild(document.createTextNode(stillLine.getAttribute("data-label") + " "));
    var strong = document.createElement("strong");
    strong.id = "still";
    strong.textContent = left.join(" + ");
    stillLine.appendChild(strong);
  }
  function update() {
    var sum = 0, seen = {}, layouts = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[name=unit]:checked"), function (box) {
      if (seen[box.value]) return;
      seen[box.value] = true;
      sum += parseInt(box.getAttribute("data-area"), 10) || 0;
      layouts.push(box.getAttribute("data-layout"));
      var cell = box.closest("td");
      if (cell) cell.classList.add("picked");
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[name=unit]:not(:checked)"), function (box) {
      var cell = box.closest("td");
      if (cell) cell.classList.remove("picked");
    });
    if (picked) picked.textContent = show(sum);
    showStill(layouts);
    if (room && limit >= 0) {
      var left = limit - owned - sum;
      room.textContent = show(left);
      room.className = left < 0 ? "over" : "";
    }
  }
  form.addEventListener("change", function (e) {
    var t = e.target;
    if (t.name === "unit") update();
    if (t.tagName === "SELECT") {
      var page = form.querySelector("input[name=page]");
      if (page) page.value = "1";
      var button = form.querySelector("button[name=intent][value=filter]");
      if (button) button.click();
    }
  });
  update();
})();
