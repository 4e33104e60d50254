// A send's progress, kept current without reloading the page (organiser/messages/send.html).
// Polls the send's JSON every 2 s and writes the counts into the aria-live region; stops once
// nothing is queued. Without JavaScript the page shows the counts of its own load and an
// "Uppdatera" link.
(function () {
  "use strict";
  var region = document.getElementById("send-progress");
  if (!region || !window.fetch) {
    return;
  }
  var url = region.getAttribute("data-json");
  var FIELDS = ["queued", "sent", "failed", "skipped", "total"];

  function field(name) {
    return region.querySelector('[data-field="' + name + '"]');
  }

  function show(progress) {
    FIELDS.forEach(function (name) {
      var node = field(name);
      var value = String(progress[name]);
      // Only what changed is written, so a screen reader hears nothing while nothing moves.
      if (node && node.textContent !== value) {
        node.textContent = value;
      }
    });
    var state = field("state");
    var text = region.getAttribute(progress.done ? "data-done-text" : "data-running-text");
    if (state && state.textContent !== text) {
      state.textContent = text;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (!progress.done) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        // Signed out or offline: the "Uppdatera" link still works; try again a little later.
        window.setTimeout(poll, 10000);
      });
  }

  if (field("queued") && field("queued").textContent !== "0") {
    window.setTimeout(poll, 2000);
  }
})();
