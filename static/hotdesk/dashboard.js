// Real Time Dashboard: fetch the live part of the page again every few seconds, and ask
// before a Log out. Without JavaScript the page still works; it just does not refresh.
(function () {
  "use strict";

  var box = document.getElementById("dashboard-live");
  if (!box) {
    return;
  }
  var url = box.dataset.refreshUrl;
  var seconds = parseInt(box.dataset.refreshSeconds, 10) || 5;
  var timer = null;
  var busy = false;
  var stopped = false;

  function showRefreshing() {
    var note = box.querySelector("[data-role=refresh-note]");
    if (note) {
      note.classList.remove("d-none");
    }
  }

  function stop(why) {
    stopped = true;
    window.clearTimeout(timer);
    var status = box.querySelector("[data-role=status]");
    if (status) {
      status.textContent = why;
      status.classList.add("text-danger");
    }
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) {
      timer = window.setTimeout(refresh, seconds * 1000);
    }
  }

  function refresh() {
    if (busy || stopped) {
      return;
    }
    busy = true;
    // The page's own query (the history page) goes along.
    fetch(url + window.location.search, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        // A redirect means the login has run out: never put the login page into this one.
        if (response.redirected || !response.ok) {
          stop("Stopped refreshing (the portal answered " + response.status +
            "): reload the page.");
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html !== null) {
          box.innerHTML = html;
          showRefreshing();
        }
      })
      .catch(function () {
        // A network hiccup: keep the last view and try again at the next tick.
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  box.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // No refresh may replace the form while it is being sent, and no second click sends it again.
    stopped = true;
    window.clearTimeout(timer);
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      window.clearTimeout(timer);
    } else if (!stopped) {
      refresh();
    }
  });

  showRefreshing();
  schedule();
})();
