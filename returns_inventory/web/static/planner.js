// Conveniences only: every form works without this file.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var boxes = document.querySelectorAll("input[name=ids][form=bulk]");
  if (all && boxes.length) {
    all.hidden = false; // a tick-all box that does nothing without JS would mislead
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        var ticked = Array.prototype.filter.call(boxes, function (b) { return b.checked; });
        all.checked = ticked.length === boxes.length;
        all.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
      });
    });
  }
})();

// Keys for a planner deciding many lines: j/k move, a approve, e edit, r reject, o open.
// On one suggestion's page, j/k go to the next/previous suggestion of the same table.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.suggestions tbody tr[id^=s-]"));
  var detail = document.querySelector(".decide-here");
  if (!rows.length && !detail) return;
  var current = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  function select(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) rows[current].classList.remove("current");
    current = index;
    rows[current].classList.add("current");
    rows[current].setAttribute("tabindex", "-1");
    rows[current].focus({ preventScroll: true });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  function scope() { return detail || (current >= 0 ? rows[current] : null); }
  function press(selector) {
    var place = scope();
    var button = place && place.querySelector(selector);
    if (button) button.click();
  }
  function edit() {
    var place = scope();
    var box = place && place.querySelector("details.edit");
    if (!box) return;
    box.open = true;
    var input = box.querySelector("input[name=quantity]");
    if (input) { input.focus(); input.select(); }
  }
  function follow(id) {
    var link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }
  var fromHash = rows.findIndex(function (r) { return "#" + r.id === window.location.hash; });
  if (fromHash >= 0) select(fromHash);

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var key = event.key;
    if (key === "j") { if (detail) follow("next-suggestion"); else select(current + 1); }
    else if (key === "k") { if (detail) follow("previous-suggestion"); else select(current - 1); }
    else if (key === "a") press("button[value=approve]");
    else if (key === "r") press("button[value=reject]");
    else if (key === "e") edit();
    else if (key === "o" && !detail && current >= 0) {
      var open = rows[current].querySelector("a.open");
      if (open) window.location.href = open.href;
    } else return;
    event.preventDefault();
  });
})();
