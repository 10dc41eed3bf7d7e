// The live board and the operator's countdown: small, framework-free. The page is complete
// without it; with it, sold units and the queue update as the server sends events, and the
// browser's EventSource reconnects by itself with the last event id.
(function () {
  "use strict";
  var countdown = document.getElementById("countdown");
  var timer = null;
  // The server says how many seconds are left of the household's time limit (nothing until it
  // has been called); the page counts down from there.
  function startCountdown(seconds) {
    if (!countdown) return;
    if (seconds !== undefined) countdown.setAttribute("data-seconds", seconds === null ? "" : String(seconds));
    var left = parseInt(countdown.getAttribute("data-seconds"), 10);
    if (timer) clearInterval(timer);
    if (!(left >= 0)) return;
    function show() {
      var m = Math.floor(left / 60), s = left % 60;
      countdown.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      countdown.className = left <= 30 ? "urgent" : "";
      if (left > 0) left -= 1;
    }
    show();
    timer = setInterval(show, 1000);
  }
  startCountdown();

  var board = document.getElementById("board");
  // Tile every building on this screen by the server's rule (the largest cells), then size the
  // letters to the cells.
  function tile() {
    if (!board) return;
    var n = parseInt(board.getAttribute("data-count"), 10) || 1;
    var floors = parseInt(board.getAttribute("data-floors"), 10) || 1;
    var units = parseInt(board.getAttribute("data-units"), 10) || 1;
    var w = board.clientWidth, h = board.clientHeight, best = 0, bestCols = 1;
    for (var cols = 1; cols <= n; cols++) {
      var rows = Math.ceil(n / cols);
      var size = Math.min(w / cols / (units + 1), h / rows / (floors + 1.5));
      if (size > best) { best = size; bestCols = cols; }
    }
    board.style.setProperty("--cols", bestCols);
    board.style.setProperty("--rows", Math.ceil(n / bestCols));
    var cell = board.querySelector(".building td");
    if (!cell) return;
    board.style.setProperty("--cell-font", "8px");
    var r = cell.getBoundingClientRect();
    var font = Math.max(8, Math.floor(Math.min(r.width * 0.8, r.height * 0.85)));
    board.style.setProperty("--cell-font", font + "px");
    board.style.setProperty("--head-font", Math.max(12, Math.min(28, font * 1.1)) + "px");
  }
  tile();
  window.addEventListener("resize", tile);
  if (!board || !window.EventSource) return;
  var live = document.getElementById("live");
  var sold = document.getElementById("sold");
  var source = new EventSource(board.getAttribute("data-events"));
  source.onopen = function () { if (live) live.hidden = false; };
  source.onerror = function () { if (live) live.hidden = true; };
  source.addEventListener("sold", function (e) {
    var data = JSON.parse(e.data);
    (data.units || []).forEach(function (u) {
      var cell = document.getElementById("u" + u.id);
      if (!cell || cell.className === "sold" || cell.className === "just") return;
      cell.className = "just";
      setTimeout(function () { if (cell.className === "just") cell.className = "sold"; }, 60000);
      if (sold) sold.textContent = String(parseInt(sold.textContent, 10) + 1);
      var avail = document.getElementById("avail-" + u.layout);
      if (avail) avail.textContent = String(Math.max(0, parseInt(avail.textContent, 10) - 1));
    });
    // A household that chose part of its combination is still at the desk, its countdown running;
    // a household done hands the desk to the next, who waits for the call.
    var current = document.getElementById("current");
    if (current && data.next && String(data.next) !== current.textContent) {
      current.textContent = data.next;
      startCountdown(null);
      if (countdown) countdown.textContent = "";
      var label = document.getElementById("calling-label");
      if (label) label.textContent = label.getAttribute("data-next");
    }
  });
  var released = document.getElementById("released");
  source.addEventListener("released", function (e) {
    var data = JSON.parse(e.data);
    if (released) {
      // Returns and corrections are shown as they happen, with their reason.
      var names = (data.units || []).map(function (u) {
        var cell = document.getElementById("u" + u.id);
        return cell ? cell.title.split(" ").slice(0, 2).join(" ") : "";
      }).join("、");
      var line = document.createElement("span");
      line.textContent = (data.how === "return" ? released.getAttribute("data-returned") : released.getAttribute("data-corrected")) + "：" + names;
      released.insertBefore(line, released.firstChild);
      while (released.children.length > 3) released.removeChild(released.lastChild);
    }
    (data.units || []).forEach(function (u) {
      var cell = document.getElementById("u" + u.id);
      if (!cell || cell.className === "free") return;
      cell.className = "free";
      if (sold) sold.textContent = String(Math.max(0, parseInt(sold.textContent, 10) - 1));
      var avail = document.getElementById("avail-" + u.layout);
      if (avail) avail.textContent = String(parseInt(avail.textContent, 10) + 1);
    });
  });
  source.addEventListener("queue", function (e) {
    var data = JSON.parse(e.data);
    var current = document.getElementById("current");
    if (current && data.current) { current.textContent = data.current.order; startCountdown(data.current.seconds_left); }
    var label = document.getElementById("calling-label");
    if (label && data.current && data.current.seconds_left !== null && data.current.seconds_left !== undefined) label.textContent = label.getAttribute("data-calling");
  });
})();
