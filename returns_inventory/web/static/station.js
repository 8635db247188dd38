// The grading bench is used with a keyboard-wedge scanner and a keyboard. A scanner types a
// label as a burst of keys a few milliseconds apart, then Enter. Unit labels and RMAs contain
// the letters A-D, so a scan must never be read as grade keys: wherever it lands, it goes to
// the scan field and opens what was scanned. Grade keys only choose; the Grade button grades;
// a grade that writes the unit off shows its value and waits for an explicit confirm.
(function () {
  "use strict";

  var BURST_MS = scanner.BURST_MS;  // scanner.js: a scanner's keys come this close or closer
  var TEXT_MS = 1000;  // a key this soon after a grade key makes both the start of typed text
  var MIN_BURST = 3;   // fewer fast keys after a grade letter are a person, not a scan

  var scanForm = document.querySelector("form.scan");
  var scanBox = scanForm && scanForm.querySelector("input[name=code]");
  var form = document.getElementById("grade-form");
  var bench = form ? gradeForm(form) : null;
  var leaving = false;  // a scan is opening another page: nothing may grade from here now
  // A grade letter, a pause, then more keys: a person typing, or a choice and then a scan.
  // Which one, the keys that follow in the scan field tell: a scan's come in a burst.
  var lead = null;

  if (scanForm) {
    scanForm.addEventListener("submit", function () {
      if (lead && !lead.slow && lead.fast >= MIN_BURST &&
          lead.fast * 3 >= (lead.fast + lead.held) * 2 && scanBox.value[0] === lead.letter) {
        scanBox.value = scanBox.value.slice(1);  // the letter was a choice, the burst the scan
      }
      lead = null;
      leaving = true;
    });
    scanBox.addEventListener("blur", function () { lead = null; });
  }

  function isTextField(el) {
    return el.matches && el.matches("input[type=text], input[type=search], input:not([type]), " +
      "input[type=password], textarea, select");
  }

  function scan(text, submit) {
    if (!scanBox) return;
    if (bench) bench.closeConfirm(false);
    scanBox.focus();  // selects what was there: a scan replaces it
    scanBox.value = text;
    if (submit) scanForm.requestSubmit();
  }

  // Keys typed outside any text field. A grade letter chooses at once, but if more keys follow
  // it (a scan, or a person typing a label), the choice is undone and all of it is a scan.
  var typed = { text: "", at: -Infinity, undo: null };

  function onCharacter(key, now) {
    var gap = now - typed.at;
    var following = typed.text && gap < TEXT_MS;
    var grade = bench && bench.button(key);
    // A person changing their mind (B, then C a moment later) is choosing again, not typing.
    var chooseAgain = grade && typed.text.length === 1 && bench.button(typed.text) &&
      gap >= BURST_MS;
    if (following && !chooseAgain) {
      var text = typed.text + key;
      if (bench) bench.choose(typed.undo);
      typed = { text: "", at: -Infinity, undo: null };
      scan(text, false);
      lead = gap >= BURST_MS
        ? { letter: text[0], at: now, fast: 0, held: 0, lastSlow: false, slow: false } : null;
      return;
    }
    if (grade) {
      var undo = following ? typed.undo : bench.chosen();
      bench.choose(key);
      grade.focus();
      typed = { text: key, at: now, undo: undo };
      return;
    }
    typed = { text: "", at: -Infinity, undo: null };
    scan(key, false);
  }

  function onEnterOutsideFields(event) {
    // Every longer scan was moved to the scan field by its second key; a lone grade letter
    // then Enter is a person choosing, and that Enter only moves on to the Grade button.
    typed = { text: "", at: -Infinity, undo: null };
    if (bench) bench.enter(event);
  }

  // Keys typed into a text field other than the scan field (the note): a scan that landed
  // there is taken back out and opened (scanner.js); Enter that is no scan moves on.
  var scanIn = scanner.takenOutOfFields(scanBox);

  function inField(event, now) {
    var field = event.target;
    if (field === scanBox) {  // Enter there is the scan itself
      if (lead && event.key.length === 1) {
        // A busy tablet may hand one of a scan's keys on late (scanner.js allows it too);
        // two slow gaps in a row are a person typing.
        var quick = now - lead.at < BURST_MS;
        if (quick) lead.fast += 1;
        else if (lead.lastSlow) lead.slow = true;
        else lead.held += 1;
        lead.lastSlow = !quick;
        lead.at = now;
      }
      return;
    }
    var scanned = scanIn(event);
    if (scanned !== null) {
      scan(scanned, true);
    } else if (event.key === "Enter" && bench && form.contains(field)) {
      event.preventDefault();  // Enter in the note never grades; it goes to the Grade button
      bench.toSubmit();
    }
  }

  // Capture: the page sees each key before a focused button acts on it.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var now = event.timeStamp;
    if (isTextField(event.target)) return inField(event, now);
    if (event.key === "Enter") return onEnterOutsideFields(event);
    if (event.key.length !== 1 || event.key === " ") return;  // Space ticks and presses
    event.preventDefault();
    onCharacter(event.key, now);
  }, true);

  function gradeForm(form) {
    var input = form.querySelector("input[name=grade]");
    var buttons = Array.prototype.slice.call(form.querySelectorAll("button.grade"));
    var submit = document.getElementById("grade-submit");
    var chosenLabel = document.getElementById("grade-chosen");
    var status = document.getElementById("grade-status");
    var dialog = document.getElementById("write-off-confirm");
    var confirmButton = dialog.querySelector("button[name=confirm_write_off]");
    var customer = document.getElementById("customer-gets");
    var asking = false;  // waiting to hear what the chosen grade would do
    var foreseen = false;  // it was asked, and it writes nothing off: the grade may go

    function button(key) {
      key = (key || "").toUpperCase();
      return buttons.filter(function (b) { return b.dataset.key === key; })[0] || null;
    }

    function choose(code) {
      var picked = button(code);
      input.value = picked ? picked.dataset.key : "";
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === picked));
        b.tabIndex = b === (picked || buttons[0]) ? 0 : -1;
      });
      chosenLabel.textContent = picked
        ? "Grade " + picked.dataset.key + ": " + picked.dataset.label : "Grade unit";
      status.innerHTML = picked
        ? "Press <kbd>Enter</kbd> on this button to grade." : "Choose a grade first.";
      closeConfirm(false);
      tellCustomer();
    }

    // What the customer gets for this grade and these defects, shown before anything grades.
    function customerWords(ahead) {
      var c = ahead && ahead.customer;
      if (!c) return "";
      if (c.outcome === "refuse") {
        return "Customer: refused (" + c.rule + "): send back to customer, no refund";
      }
      var words = "Customer: refund " + c.amount;
      if (c.outcome === "deduct") {
        words += " after deducting " + c.deductions.map(function (d) {
          return d.label + " " + d.amount;
        }).join(", ");
      } else {
        words += " in full";
      }
      return words;
    }

    var told = 0;  // answers may arrive out of order: only the latest question's counts
    function tellCustomer() {
      if (!customer) return;
      if (!input.value) { customer.hidden = true; return; }
      var asked = ++told;
      outcome().then(function (ahead) {
        if (asked !== told) return;
        var words = customerWords(ahead);
        customer.textContent = words;
        customer.className = "customer-gets " + (ahead && ahead.customer ? ahead.customer.outcome : "");
        customer.hidden = !words;
      });
    }
    form.querySelectorAll("input[name=defects]").forEach(function (d) {
      d.addEventListener("change", tellCustomer);
    });

    function toSubmit() {
      submit.focus();
      if (!input.value) status.textContent = "Choose a grade first: press A, B, C or D.";
    }

    // Enter moves on to the Grade button; only Enter on the Grade button (or on an unchosen
    // grade, which chooses it) acts. Two deliberate presses grade; a stray one does not.
    function enter(event) {
      var target = event.target;
      if (!form.contains(target) || target === submit || dialog.contains(target)) return;
      var chosenGrade = target.matches("button.grade") &&
        target.getAttribute("aria-pressed") === "true";
      if (chosenGrade || target.matches("input[type=checkbox]")) {
        event.preventDefault();
        toSubmit();
      }
    }

    buttons.forEach(function (b, i) {
      b.addEventListener("click", function () { choose(b.dataset.key); });
      b.addEventListener("keydown", function (event) {
        var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        buttons[(i + step + buttons.length) % buttons.length].focus();
      });
    });

    function askToConfirm(ahead) {
      dialog.querySelectorAll("[data-fill=value]").forEach(function (el) {
        el.textContent = ahead.write_off_value;
      });
      dialog.querySelector("[data-fill=grade]").textContent = input.value;
      dialog.querySelector("[data-fill=customer]").textContent = customerWords(ahead);
      dialog.querySelector("[data-when=posted]").hidden = ahead.awaiting_approval;
      dialog.querySelector("[data-when=awaiting]").hidden = !ahead.awaiting_approval;
      confirmButton.value = ahead.write_off_value;
      if (dialog.open) dialog.close();
      dialog.showModal();  // the rest of the page waits; focus starts on "Choose another grade"
    }

    function closeConfirm(refocus) {
      if (dialog.open) dialog.close();
      if (refocus) (button(input.value) || buttons[0]).focus();
    }

    dialog.addEventListener("cancel", function (event) {  // Escape
      event.preventDefault();
      closeConfirm(true);
    });
    dialog.querySelector("[data-cancel]").addEventListener("click", function (event) {
      event.preventDefault();
      closeConfirm(true);
    });

    function outcome() {
      var query = new URLSearchParams({ grade: input.value });
      form.querySelectorAll("input[name=defects]:checked").forEach(function (d) {
        query.append("defects", d.value);
      });
      return fetch(form.dataset.outcome + "?" + query.toString(), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      }).then(function (r) { return r.ok ? r.json() : null; }, function () { return null; });
    }

    form.addEventListener("submit", function (event) {
      if (form.dataset.sent || asking || leaving) {
        event.preventDefault();
        return;
      }
      if (!input.value) {
        event.preventDefault();
        status.textContent = "Choose a grade first: press A, B, C or D.";
        buttons[0].focus();
        return;
      }
      var confirming = event.submitter === confirmButton;
      if (!confirming && !foreseen) {
        // Ask what this grade would do. Should that fail, the form goes anyway: the server
        // answers an unconfirmed write-off with this same confirm step, never by grading.
        event.preventDefault();
        asking = true;
        outcome().then(function (ahead) {
          asking = false;
          if (leaving) return;
          if (ahead && ahead.write_off_value) return askToConfirm(ahead);
          foreseen = true;
          form.requestSubmit(submit);
        });
        return;
      }
      foreseen = false;
      form.dataset.sent = "1";
      if (confirming) confirmButton.textContent = "Writing off…";
      else chosenLabel.textContent = submit.dataset.busyLabel;
      // After this event the browser collects the fields, the pressed button's value among
      // them; a button disabled before then would drop the confirmation.
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });

    // Coming back with the Back button shows the page from cache with the buttons still off.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        delete form.dataset.sent;
        leaving = false;
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
        choose(input.value);
      }
    });

    // The server asked for a confirmation (the page's own check did not run): focus it.
    if (dialog.open) dialog.querySelector("[data-cancel]").focus();
    if (input.value) tellCustomer();  // a page shown again with a grade chosen

    return {
      button: button, choose: choose, enter: enter, toSubmit: toSubmit,
      closeConfirm: closeConfirm, chosen: function () { return input.value; },
    };
  }
})();
