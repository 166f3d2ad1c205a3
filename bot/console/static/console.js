// Families Connect staff console: keep a live chat's transcript and the queue up to date.
// Served from the console itself (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  var transcript = document.getElementById("transcript");
  if (transcript && transcript.dataset.refreshUrl) {
    var url = transcript.dataset.refreshUrl;
    setInterval(function () {
      fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "manual" })
        .then(function (reply) {
          // The session ended (idle or 12-hour limit): go to the login page, never draw it in the panel.
          if (reply.status === 401 || reply.type === "opaqueredirect") {
            window.location.assign("/login");
            return null;
          }
          return reply.ok ? reply.text() : null;
        })
        .then(function (html) {
          if (html === null) { return; }
          var list = transcript.querySelector(".transcript");
          var atBottom = !list || list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
          // The server escaped everything the person and workers wrote.
          transcript.innerHTML = html;
          list = transcript.querySelector(".transcript");
          if (list && atBottom) { list.scrollTop = list.scrollHeight; }
        })
        .catch(function () {});
    }, 5000);
    var first = transcript.querySelector(".transcript");
    if (first) { first.scrollTop = first.scrollHeight; }
  }
  var head = document.querySelector("[data-autorefresh]");
  if (head) {
    var seconds = parseInt(head.dataset.autorefresh, 10) || 30;
    setInterval(function () {
      var active = document.activeElement;
      var busy = active && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(active.tagName);
      if (!busy && !document.hidden) {
        // ?auto=1: an automatic refresh does not count as the worker being active (idle timeout).
        var next = new URL(window.location.href);
        next.searchParams.set("auto", "1");
        window.location.replace(next.toString());
      }
    }, seconds * 1000);
  }
})();
