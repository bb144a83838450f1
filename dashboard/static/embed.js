// Draws an embedded chart, tells the parent page its height, and (when live) keeps it current.
(function () {
  "use strict";
  var script = document.currentScript;
  var live = script.getAttribute("data-live") === "true";
  var refreshMs = 1000 * Number(script.getAttribute("data-refresh-seconds") || 60);
  var payload = JSON.parse(document.getElementById("chart-payload").textContent);
  var chart = document.getElementById("chart");
  var config = {responsive: true, displaylogo: false, displayModeBar: false};

  function layoutOf(figure) {
    var layout = figure.layout || {};
    layout.autosize = true;
    delete layout.width;
    return layout;
  }

  function draw() {
    return Plotly.react(chart, payload.figure.data || [], layoutOf(payload.figure), config);
  }

  var lastHeight = 0;
  function tellHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight && window.parent !== window) {
      lastHeight = height;
      window.parent.postMessage({type: "survey-embed-height", height: height}, "*");
    }
  }

  function show(next) {
    payload = next;
    document.getElementById("chart-description").textContent = next.description;
    document.getElementById("chart-filters").textContent = next.filters_text;
    document.getElementById("chart-n").textContent =
      next.n === null ? "n not shown (too few responses)" : "n = " + next.n.toLocaleString("en-GB");
    var asOf = document.getElementById("chart-as-of");
    asOf.setAttribute("datetime", next.as_of);
    asOf.textContent = next.as_of.slice(0, 16).replace("T", " ") + " UTC";
    draw().then(tellHeight);
  }

  function refresh() {
    var url = location.pathname + ".json" + location.search;
    fetch(url, {cache: "no-cache", credentials: "omit"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (next) { if (next && next.version !== payload.version) { show(next); } })
      .catch(function () { /* keep showing the last figures */ });
  }

  draw().then(tellHeight);
  if (window.ResizeObserver) { new ResizeObserver(tellHeight).observe(document.body); }
  window.addEventListener("load", tellHeight);
  if (live) { setInterval(refresh, refreshMs); }
}());
