// The bench pages (receiving, bench.js; grading, station.js) are used with a keyboard-wedge
// scanner: it types a label as a burst of keys a few milliseconds apart, then Enter, into
// whatever field has the focus. Both pages load this first, so a scan is told from a person's
// typing in one place.
var scanner = (function () {
  "use strict";

  var BURST_MS = 50;   // a scanner's keys come under ~20 ms apart; a person's, 100 ms or more
  var PAUSE_MS = 1000; // after this long, what follows is typed afresh
  var ENTER_MS = 300;  // a scanner's Enter follows its last key at once
  var MIN_BURST = 3;   // fewer keys before Enter are a person

  // A scan replaces what was in the scan field (a label nothing matched) instead of being
  // typed next to it: a wedge scanner only types, it never clears the field first.
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
    if (document.activeElement === input) input.select();
  });

  // Where the scan begins among keys typed into one field: the fast run that ends them,
  // across a key a busy tablet held back (one slow gap with fast keys on both sides of it),
  // never across a person's typing (slow gaps in a row). -1 when they end in no scan.
  function burstStart(keys) {
    var start = keys.length - 1;
    var gaps = 0;
    var fast = 0;
    for (var i = keys.length - 1; i > 0; i--) {
      var quick = keys[i].at - keys[i - 1].at < BURST_MS;
      var held = !quick && i > 1 && keys[i - 1].at - keys[i - 2].at < BURST_MS &&
        fast * 3 >= (gaps + 1) * 2;
      if (!quick && !held) break;
      gaps += 1;
      if (quick) fast += 1;
      start = i - 1;
    }
    return keys.length - start >= MIN_BURST ? start : -1;
  }

  function isTextField(el) {
    return el.matches("input:not([type]), input[type=text], input[type=search], " +
      "input[type=number], textarea");
  }

  // A scan that lands in a text field of another form than the scan field's (a parcel's
  // count, with the focus left there after the RMA was found; the grading note) is taken back
  // out of it. Lists meant for scanning (data-keeps-scans) keep theirs. Returns a function the
  // page calls with each keydown (in the capture phase, before a focused button acts on it):
  // on the Enter that ends a scan it puts back what the field held, stops the Enter and
  // returns the scanned text; otherwise null.
  function takenOutOfFields(scanField) {
    var typed = null;  // the field typed into, and its keys since the last pause

    return function (event) {
      var field = event.target;
      if (!field.matches || !isTextField(field) || field === scanField ||
          (scanField && field.form && field.form === scanField.form) ||
          field.hasAttribute("data-keeps-scans") ||
          event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return null;
      if (event.key === "Shift") return null;  // a scanner shifts for capitals
      var now = event.timeStamp;
      var keys = typed && typed.field === field ? typed.keys : [];
      var last = keys[keys.length - 1];
      if (event.key === "Enter") {
        typed = null;
        var start = last && now - last.at < ENTER_MS ? burstStart(keys) : -1;
        if (start < 0) return null;
        event.preventDefault();
        field.value = keys[start].before;
        return keys.slice(start).map(function (k) { return k.key; }).join("");
      }
      if (event.key.length !== 1) {
        typed = null;
      } else {
        if (!last || now - last.at >= PAUSE_MS) keys = [];
        keys.push({ key: event.key, at: now, before: field.value });
        typed = { field: field, keys: keys };
      }
      return null;
    };
  }

  return { BURST_MS: BURST_MS, takenOutOfFields: takenOutOfFields };
})();
