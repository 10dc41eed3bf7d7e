// The service worker of the campaigns' phone pages: it keeps each walk page a cadre opens, and
// the assets it needs, so the page reloads where there is no signal. Pages come from the network
// when it answers (the list is then fresh) and from the copy kept when it does not. Visits are
// not its business: the page keeps them in IndexedDB and sends them itself.
"use strict";
var CACHE = "yongxin-walk-v1";
var ASSETS = ["/static/app.css", "/static/app.js", "/static/walk.js"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function walkPage(url) {
  return /^\/campaigns\/\d+\/walk$/.test(url.pathname) && !url.search;
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (walkPage(url)) {
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
