// Loaded on every portal page (base.html). Small behaviours that would otherwise be inline
// scripts, which the Content-Security-Policy (script-src 'self') refuses.
(function () {
  "use strict";

  // On a narrow screen the install's tab row scrolls sideways (portal.css): show the open tab
  // rather than leaving it out of sight at the row's end.
  var tabs = document.querySelector(".install-tabs");
  var open = tabs && tabs.querySelector(".nav-link.active");
  if (open && tabs.scrollWidth > tabs.clientWidth) {
    var item = open.parentElement;
    tabs.scrollLeft = item.offsetLeft - (tabs.clientWidth - item.offsetWidth) / 2;
  }

  // <button data-copy-from="ID">: copy the text of element ID to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copyFrom);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = "Copied";
      });
    }
  });
})();
