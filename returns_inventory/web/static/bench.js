// The blind-receipt form: once a SKU is typed, its sizes in the item master are offered to
// pick from (the size field's list), read from the API with the bench's own session.
(function () {
  "use strict";

  var sku = document.getElementById("sku");
  var sizes = document.getElementById("sizes");
  var hint = document.getElementById("sku-sizes");
  if (!sku || !sizes || !hint) return;

  sku.addEventListener("change", function () {
    var wanted = sku.value.trim();
    sizes.textContent = "";
    hint.textContent = "";
    if (!wanted) return;
    fetch("/api/v1/items?limit=100&sku=" + encodeURIComponent(wanted), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (answer) {
      return answer.ok ? answer.json() : { data: [] };
    }).then(function (page) {
      if (sku.value.trim() !== wanted) return;  // typed on since: a newer answer follows
      var found = page.data.map(function (item) { return item.size; });
      found.forEach(function (size) {
        var option = document.createElement("option");
        option.value = size;
        sizes.appendChild(option);
      });
      hint.textContent = found.length ? "Sizes of " + wanted + ": " + found.join(", ")
        : "No item " + wanted + " in the item master. Check the SKU, or scan the GTIN.";
    });
  });
})();

// A page whose buttons hold the focus (Print labels after receiving) still takes the next
// scan: a character typed outside any field goes to the page's scan field instead of being
// lost, and Enter on a button still presses it.
(function () {
  "use strict";

  var target = document.querySelector("input[data-scan-target]");
  if (!target) return;
  document.addEventListener("keydown", function (event) {
    var at = document.activeElement;
    var typing = at && (at.tagName === "INPUT" || at.tagName === "TEXTAREA" ||
      at.tagName === "SELECT" || at.isContentEditable);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key.length !== 1 || event.key === " ") return;
    target.value = "";
    target.focus();  // the key's character is typed into the field that now has the focus
  });
})();

// A scan that lands in a parcel's count (the focus is left there after the RMA was found)
// opens that parcel instead of being typed into the count (scanner.js tells it from typing).
(function () {
  "use strict";

  var target = document.querySelector("input[data-scan-target]");
  if (!target || !target.form) return;
  var scanIn = scanner.takenOutOfFields(target);
  document.addEventListener("keydown", function (event) {
    var text = scanIn(event);
    if (text === null) return;
    target.value = text;
    target.form.requestSubmit();
  }, true);
})();
