// The phone page of a door-to-door campaign: small, framework-free. Without it the page is a list
// of doors, each opening a plain form that the server stores. With it the page keeps working
// where the signal drops: a visit is kept on the phone (IndexedDB) before the door is marked
// done, then sent in the order recorded, each with the id the phone gave it, so a visit sent
// twice is stored once. A service worker keeps the page itself for a reload without signal.
(function () {
  "use strict";
  var root = document.getElementById("walk");
  var form = document.getElementById("visit");
  var doors = document.getElementById("doors");
  if (!root || !form || !doors || !window.indexedDB || !window.fetch) return;
  var campaign = root.getAttribute("data-campaign");
  var queueLine = document.getElementById("queue");
  var waiting = document.getElementById("waiting");
  var refusedList = document.getElementById("refused");
  var flushing = false;

  // The worker keeps this page from now on; the copy it would only make on the next load is
  // made at once, so the very first visit can already be reloaded without signal.
  if (navigator.serviceWorker && window.caches) {
    navigator.serviceWorker.register("/campaigns/sw.js").then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      if (!location.search) return caches.open("yongxin-walk-v1").then(function (c) { return c.add(location.pathname); });
    }).catch(function () {});
  }

  // One object store, ordered by the key IndexedDB gives each visit as it is kept.
  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open("yongxin-walk", 1);
      open.onupgradeneeded = function () {
        open.result.createObjectStore("visits", { keyPath: "seq", autoIncrement: true });
      };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }
  function store(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction("visits", mode);
        var result = work(tx.objectStore("visits"));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function all() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return rows.filter(function (r) { return r.campaign === campaign; });
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function show(rows) {
    var pending = rows.filter(function (r) { return !r.refused; });
    waiting.textContent = String(pending.length);
    queueLine.hidden = pending.length === 0;
    var queued = {};
    pending.forEach(function (r) { queued[r.body.household_id] = true; });
    Array.prototype.forEach.call(doors.querySelectorAll("a.door"), function (a) {
      var mark = a.querySelector(".queued");
      if (mark) mark.hidden = !queued[a.getAttribute("data-id")];
    });
    refusedList.textContent = "";
    rows.filter(function (r) { return r.refused; }).forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = root.getAttribute("data-refused-text") + " " + r.label + "：" + r.refused;
      refusedList.appendChild(li);
    });
    refusedList.hidden = !refusedList.firstChild;
  }
  function refresh() { return all().then(show); }

  // Sends what is kept, oldest first; stops at the first failure of the connection and tries
  // again later. A refusal by the server is kept, with its reason, for the cadre to see.
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    return all().then(function (rows) {
      var next = rows.filter(function (r) { return !r.refused; });
      function one(i) {
        if (i >= next.length) return Promise.resolve();
        var row = next[i];
        return fetch("/api/v1/campaigns/" + campaign + "/visits", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify(row.body)
        }).then(function (res) {
          if (res.ok) {
            return store("readwrite", function (s) { s.delete(row.seq); }).then(function () { return one(i + 1); });
          }
          if (res.status === 401) {
            queueLine.lastChild.textContent = " " + root.getAttribute("data-signin-text");
            return null;
          }
          if (res.status >= 500 || res.status === 429) return null;
          return res.json().catch(function () { return {}; }).then(function (body) {
            row.refused = (body.error && body.error.message) || String(res.status);
            return store("readwrite", function (s) { s.put(row); }).then(function () { return one(i + 1); });
          });
        });
      }
      return one(0);
    }).catch(function () { /* offline: the visits stay kept */ }).then(function () {
      flushing = false;
      return refresh();
    });
  }

  function field(name) { return form.querySelector("[name='" + name + "']"); }

  function answers() {
    var given = {};
    Array.prototype.forEach.call(form.querySelectorAll("#visit-questions fieldset"), function (set) {
      var inputs = set.querySelectorAll("input, textarea, select");
      Array.prototype.forEach.call(inputs, function (el) {
        var m = /^q(\d+)$/.exec(el.name), r = /^r(\d+)_(\d+)$/.exec(el.name);
        if (m && el.type === "radio" && el.checked) given[m[1]] = parseInt(el.value, 10);
        if (m && el.type === "checkbox" && el.checked) (given[m[1]] = given[m[1]] || []).push(parseInt(el.value, 10));
        if (m && el.tagName === "TEXTAREA" && el.value.trim()) given[m[1]] = el.value.trim();
        if (r && el.value) {
          var list = (given[r[1]] = given[r[1]] || []);
          list.push([parseInt(el.value, 10), parseInt(r[2], 10)]);
        }
      });
    });
    Object.keys(given).forEach(function (q) {
      var v = given[q];
      if (Array.isArray(v) && v.length && Array.isArray(v[0])) {
        given[q] = v.sort(function (a, b) { return a[0] - b[0]; }).map(function (p) { return p[1]; });
      }
    });
    return given;
  }

  function photos() {
    var input = field("photo");
    var files = input && input.files ? Array.prototype.slice.call(input.files, 0, 3) : [];
    return Promise.all(files.map(function (f) {
      return new Promise(function (resolve, reject) {
        var reader = new FileReader();
        reader.onload = function () { resolve(String(reader.result).replace(/^data:[^,]*,/, "")); };
        reader.onerror = function () { reject(reader.error); };
        reader.readAsDataURL(f);
      });
    }));
  }

  var current = null;
  function open(a) {
    current = a;
    form.reset();
    field("household_id").value = a.getAttribute("data-id");
    field("client_id").value = uuid();
    document.getElementById("visit-household").textContent = a.getAttribute("data-label");
    var members = document.getElementById("visit-members");
    Array.prototype.slice.call(members.querySelectorAll("label")).forEach(function (l) { l.remove(); });
    (a.getAttribute("data-members") || "").split("|").forEach(function (pair) {
      var at = pair.indexOf(":");
      if (at < 0) return;
      var label = document.createElement("label"), box = document.createElement("input");
      box.type = "checkbox"; box.name = "members"; box.value = pair.slice(0, at);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + pair.slice(at + 1)));
      members.appendChild(label);
    });
    doors.hidden = true;
    form.hidden = false;
    window.scrollTo(0, 0);
  }
  function close() {
    form.hidden = true;
    doors.hidden = false;
  }

  doors.addEventListener("click", function (e) {
    var a = e.target.closest("a.door");
    if (!a) return;
    e.preventDefault();
    open(a);
  });
  document.getElementById("visit-back").addEventListener("click", function (e) {
    e.preventDefault();
    close();
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var outcome = e.submitter ? e.submitter.value : "met";
    var talked = outcome === "met" || outcome === "refused";
    var description = field("concern_description").value.trim();
    photos().then(function (pictures) {
      var body = {
        client_id: field("client_id").value,
        household_id: parseInt(field("household_id").value, 10),
        visited_at: new Date().toISOString(),
        outcome: outcome,
        answers: outcome === "met" ? answers() : {},
        note: field("note").value,
        members: talked ? Array.prototype.map.call(form.querySelectorAll("input[name=members]:checked"), function (b) { return parseInt(b.value, 10); }) : [],
        concerns: talked && description ? [{ category: field("concern_category").value, description: description }] : [],
        photos: pictures
      };
      var label = document.getElementById("visit-household").textContent;
      // The door is marked only once the visit is kept on the phone.
      return store("readwrite", function (s) { s.add({ campaign: campaign, label: label, body: body }); });
    }).then(function () {
      close();
      // The door is marked done here and the walk goes on from the next one.
      if (current) {
        current.querySelector(".recorded").hidden = false;
        current.classList.add("recorded");
        var next = current.parentNode.nextElementSibling;
        (next || current).scrollIntoView({ block: "center" });
      }
      return refresh();
    }).then(flush);
  });

  window.addEventListener("online", flush);
  setInterval(flush, 20000);
  refresh().then(flush);
})();
