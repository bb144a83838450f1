/* Meeting mode (dashboard/pages/present.py): show or hide the presentation as the link says, move
   between slides, and the keys and full screen. Dash loads this file on every page; it does nothing
   unless the presentation is shown. */
(function () {
  "use strict";

  function params(search) {
    return new URLSearchParams((search || "").replace(/^\?/, ""));
  }

  function presenting(search) {
    return params(search).get("present") === "1";
  }

  function chartCount() {
    var view = document.getElementById("present-view");
    var n = view ? parseInt(view.getAttribute("data-charts") || "", 10) : NaN;
    return isNaN(n) ? 1 : n;
  }

  function currentSlide(search) {
    var n = parseInt(params(search).get("slide") || "1", 10);
    if (isNaN(n)) { n = 1; }
    return Math.min(Math.max(n, 1), chartCount());
  }

  function withSlide(search, slide) {
    var p = params(search);
    p.set("present", "1");
    p.set("slide", String(slide));
    return "?" + p.toString();
  }

  function step(search, by) {
    var target = Math.min(Math.max(currentSlide(search) + by, 1), chartCount());
    var updated = withSlide(search, target);
    return updated === search ? window.dash_clientside.no_update : updated;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.present = {
    mode: function (search, pathname) {
      var on = presenting(search);
      return [on ? "shell presenting" : "shell", !on,
              on ? {search: search, pathname: pathname} : window.dash_clientside.no_update];
    },
    previous: function (_clicks, search) { return step(search, -1); },
    next: function (_clicks, search) { return step(search, 1); }
  };

  function shown() {
    var view = document.getElementById("present-view");
    return !!view && !view.hidden;
  }

  // Keys that belong to the control that has them are left to it. Arrows: any form field, radio
  // or checkbox, or widget that moves with arrows. Page Up, Page Down and Esc: only fields one
  // types in or picks from, so that a presenter's remote still works after ticking a filter.
  var TYPING = "textarea, select, [contenteditable=''], [contenteditable='true'], " +
    "input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit])" +
    ":not([type=reset]), [role=listbox], [role=option], [role=slider], [role=spinbutton], " +
    "[role=combobox], [role=grid], [role=menu], [role=textbox]";
  var ARROWS = TYPING + ", input, [role=radiogroup], [role=radio], [role=checkbox], " +
    "[role=tablist], [role=tab], [role=tree], [role=menubar]";
  var ACTIONS = {ArrowRight: "present-next", PageDown: "present-next",
                 ArrowLeft: "present-previous", PageUp: "present-previous",
                 Escape: "present-exit"};

  function click(id) {
    var element = document.getElementById(id);
    if (element) { element.click(); }
  }

  document.addEventListener("keydown", function (event) {
    var action = ACTIONS[event.key];
    if (!action || !shown() || event.defaultPrevented || event.altKey || event.ctrlKey ||
        event.metaKey || event.shiftKey || event.isComposing) {
      return;
    }
    var target = event.target;
    var owned = event.key.indexOf("Arrow") === 0 ? ARROWS : TYPING;
    if (target && target.closest && target.closest(owned)) { return; }
    event.preventDefault();
    click(action);
  });

  function fullscreenElement() {
    return document.fullscreenElement || document.webkitFullscreenElement || null;
  }

  function leaveFullscreen() {
    if (!fullscreenElement()) { return; }
    var leave = document.exitFullscreen || document.webkitExitFullscreen;
    var done = leave && leave.call(document);
    if (done && done.catch) { done.catch(function () {}); }
  }

  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target : null;
    if (!target) { return; }
    if (target.closest("#present-fullscreen")) {
      if (fullscreenElement()) {
        leaveFullscreen();
        return;
      }
      var root = document.documentElement;
      var enter = root.requestFullscreen || root.webkitRequestFullscreen;
      var entered = enter && enter.call(root);
      if (entered && entered.catch) { entered.catch(function () {}); }
    } else if (target.closest("#present-exit")) {
      leaveFullscreen();
    }
  });

  function markFullscreen() {
    var button = document.getElementById("present-fullscreen");
    if (button) {
      button.setAttribute("aria-pressed", fullscreenElement() ? "true" : "false");
    }
  }
  document.addEventListener("fullscreenchange", markFullscreen);
  document.addEventListener("webkitfullscreenchange", markFullscreen);
})();
