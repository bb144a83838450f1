// Tells the parent page the embed's height and, when live, keeps the chart current.
// The chart itself is drawn by the server as plain HTML, so it shows before any script runs.
(function () {
  "use strict";
  var script = document.currentScript;
  var live = script.getAttribute("data-live") === "true";
  var refreshMs = 1000 * Number(script.getAttribute("data-refresh-seconds") || 60);

  var lastHeight = 0;
  function tellHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight && window.parent !== window) {
      lastHeight = height;
      window.parent.postMessage({type: "survey-embed-height", height: height}, "*");
    }
  }

  // Swaps in a newer rendering of this page, keeping the text alternative's element (a live
  // region) so that screen readers announce the new numbers.
  function show(next) {
    var current = document.querySelector("main");
    var description = document.getElementById("chart-description");
    Array.prototype.slice.call(current.children).forEach(function (child) {
      if (child !== description) { child.remove(); }
    });
    Array.prototype.slice.call(next.children).forEach(function (child) {
      if (child.id === "chart-description") {
        description.textContent = child.textContent;
        current.appendChild(description);
      } else {
        current.appendChild(document.importNode(child, true));
      }
    });
    current.setAttribute("data-version", next.getAttribute("data-version"));
    tellHeight();
  }

  function refresh() {
    fetch(location.href, {cache: "no-cache", credentials: "omit"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var next = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        var current = document.querySelector("main");
        if (next && next.getAttribute("data-version") !== current.getAttribute("data-version")) {
          show(next);
        }
      })
      .catch(function () { /* keep showing the last figures */ });
  }

  tellHeight();
  if (window.ResizeObserver) { new ResizeObserver(tellHeight).observe(document.body); }
  window.addEventListener("load", tellHeight);
  if (live) { setInterval(refresh, refreshMs); }
}());
