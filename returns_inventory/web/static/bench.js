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

// A scan replaces what was in the field (an RMA nothing matched) instead of being typed next
// to it: a wedge scanner only types, it never clears the field first.
(function () {
  "use strict";

  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
    if (document.activeElement === input) input.select();
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

// A scan that lands in a one-line field of a form (a parcel's count, with the focus left there
// after the RMA was found) is not typed into it: keys coming mostly a few milliseconds apart,
// ending in Enter, are taken back out of that field and opened as a scan, as on the station.
// A busy tablet may hold a key back now and then, so one slow gap does not make it a person;
// a pause of a second does. Lists meant for scanning (the textarea of items not on the return)
// keep their scans.
(function () {
  "use strict";

  var BURST_MS = 50;   // a scanner's keys come under ~20 ms apart; a person's, 100 ms or more
  var PAUSE_MS = 1000; // after this long, what follows is typed afresh
  var ENTER_MS = 300;  // a scanner's Enter follows its last key at once
  var MIN_BURST = 3;   // fewer keys before Enter are a person
  var target = document.querySelector("input[data-scan-target]");
  if (!target || !target.form) return;
  var typed = null;

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (field === target || field.tagName !== "INPUT" || field.form === target.form ||
        event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var now = event.timeStamp;
    var same = typed && typed.field === field;
    if (event.key === "Enter") {
      var scanned = same && now - typed.at < ENTER_MS && typed.text.length >= MIN_BURST &&
        typed.fast * 3 >= (typed.text.length - 1) * 2 ? typed : null;
      typed = null;
      if (!scanned) return;
      event.preventDefault();
      field.value = scanned.before;
      target.value = scanned.text;
      target.form.requestSubmit();
    } else if (event.key.length !== 1) {
      typed = null;
    } else if (same && now - typed.at < PAUSE_MS) {
      if (now - typed.at < BURST_MS) typed.fast += 1;
      typed.text += event.key;
      typed.at = now;
    } else {
      typed = { field: field, before: field.value, text: event.key, at: now, fast: 0 };
    }
  }, true);
})();
