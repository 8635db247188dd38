// Conveniences only: every form works without this file.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) return;
  var boxes = document.querySelectorAll("input[name=ids][form=bulk]");
  if (!boxes.length) return;
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
})();
