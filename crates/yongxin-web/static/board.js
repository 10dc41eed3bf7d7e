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
    var current = document.getElementById("current");
    if (current && data.next) { current.textContent = data.next; startCountdown(null); if (countdown) countdown.textContent = ""; }
  });
  source.addEventListener("released", function (e) {
    var data = JSON.parse(e.data);
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
  });
})();
