// The Users tab (templates/users/pbxuser_list.html): "select all on this page", the count of
// ticked rows beside the bulk action, and a confirmation before the actions that log people
// out. A file, not an inline script: the Content-Security-Policy allows scripts from 'self'
// only. Without JavaScript the boxes and the action form work all the same.
(function () {
  "use strict";

  var form = document.getElementById("bulk-form");
  var all = document.getElementById("select-all");
  var count = document.getElementById("selected-count");
  if (!form || !all || !count) {
    return;
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.select-user"));

  function ticked() {
    return boxes.filter(function (box) { return box.checked; }).length;
  }

  function update() {
    var n = ticked();
    count.textContent = n + " selected";
    all.checked = boxes.length > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  }

  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    update();
  });
  boxes.forEach(function (box) { box.addEventListener("change", update); });

  form.addEventListener("submit", function (event) {
    var n = ticked();
    var warnings = {
      revoke: "Revoke Hot Desk Access of " + n + " user(s)? Anyone of them logged in at a " +
        "hot desk is logged out now.",
      new_pins: "Generate new PINs for " + n + " user(s)? Their current PINs stop working " +
        "and anyone of them logged in at a hot desk is logged out now."
    };
    var warning = warnings[form.elements.action.value];
    if (n > 0 && warning && !window.confirm(warning)) {
      event.preventDefault();
    }
  });

  update();
})();
