// The grading bench is used with a scanner and a keyboard: one key per grade, Enter grades,
// and a second press of Enter (or a double click) cannot send the form twice.
(function () {
  "use strict";

  function typing(target) {
    return target.matches("input[type=text], input:not([type]), input[type=password], textarea, select");
  }

  var form = document.getElementById("grade-form");
  if (form) {
    var button = form.querySelector("button[type=submit]");

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var key = event.key.length === 1 ? event.key.toUpperCase() : "";
      var radio = key && form.querySelector("input[name=grade][data-key='" + key + "']");
      if (radio) {
        radio.checked = true;
        radio.focus();
        event.preventDefault();
      } else if (event.key === "Enter" && event.target.matches("input[type=radio], input[type=checkbox]")) {
        // Browsers do not all submit from a radio or checkbox; at the bench Enter always grades.
        event.preventDefault();
        form.requestSubmit();
      }
    });

    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      button.disabled = true;
      button.textContent = button.dataset.busyLabel;
    });

    // Coming back with the Back button shows the page from cache with the button still off.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        delete form.dataset.sent;
        button.disabled = false;
      }
    });
  }

  // A scan replaces what was in the field instead of being appended to it.
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
    if (document.activeElement === input) input.select();
  });
})();
