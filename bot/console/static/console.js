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
  var alerts = document.getElementById("queue-alerts");
  if (alerts && alerts.dataset.updatesUrl) { watchUrgent(alerts); }
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

  // The queue: every 5 seconds ask for urgent cases waiting; announce each new one (a banner with
  // a link, role="alert"), put it at the top of the list, and keep the count in the title. Only
  // references, priorities and reasons come back: never a name, number or what anyone typed.
  function watchUrgent(box) {
    var known = {};
    box.dataset.known.split(/\s+/).forEach(function (ref) { if (ref) { known[ref] = true; } });
    document.querySelectorAll("#queue-table a[href^='/cases/']").forEach(function (link) { known[link.textContent] = true; });
    var since = box.dataset.since;
    var baseTitle = document.title.replace(/^\(\d+ urgent\) /, "");
    setInterval(function () {
      var url = box.dataset.updatesUrl + (since ? "?since=" + encodeURIComponent(since) : "");
      fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "manual" })
        .then(function (reply) {
          if (reply.status === 401 || reply.type === "opaqueredirect") {
            window.location.assign("/login");
            return null;
          }
          return reply.ok ? reply.json() : null;
        })
        .then(function (data) {
          if (!data) { return; }
          since = data.cursor;
          document.title = (data.urgent_waiting ? "(" + data.urgent_waiting + " urgent) " : "") + baseTitle;
          var count = document.getElementById("urgent-count");
          if (count) { count.textContent = data.urgent_waiting + " urgent case" + (data.urgent_waiting === 1 ? "" : "s") + " waiting"; }
          data.cases.forEach(function (item) {
            if (known[item.reference]) { return; }
            known[item.reference] = true;
            announce(box, item);
            addRow(box, item);
          });
        })
        .catch(function () {});
    }, 5000);
  }

  function text(tag, words, className) {
    var node = document.createElement(tag);
    node.textContent = words;
    if (className) { node.className = className; }
    return node;
  }

  function link(item) {
    var a = text("a", item.reference);
    a.href = "/cases/" + item.id;
    return a;
  }

  function kindWords(kind) { return kind === "live" ? "live chat" : "callback"; }

  function announce(box, item) {
    var banner = text("p", "", "message error new-urgent");
    banner.setAttribute("role", "alert");
    banner.appendChild(text("strong", "New urgent case: "));
    banner.appendChild(link(item));
    banner.appendChild(document.createTextNode(" (" + kindWords(item.kind) + (item.reason_words ? ", " + item.reason_words : "") + "). Open it now."));
    box.insertBefore(banner, box.firstChild);
  }

  // Into the list, after the urgent cases already there (urgent first, then oldest first), if
  // the list's filters would show it (a new case, nobody's yet).
  function addRow(box, item) {
    var body = document.querySelector("#queue-table tbody");
    if (!body || (box.dataset.status && box.dataset.status !== "new") || (box.dataset.kind && box.dataset.kind !== item.kind) ||
        box.dataset.who === "mine") { return; }
    var row = document.createElement("tr");
    row.className = item.kind + " new" + (item.kind === "live" ? " waiting" : "") + " urgent";
    var first = document.createElement("td");
    first.appendChild(link(item));
    first.appendChild(document.createTextNode(" "));
    first.appendChild(text("strong", "Urgent", "badge urgent"));
    if (item.reason_words) {
      first.appendChild(document.createTextNode(" "));
      first.appendChild(text("span", item.reason_words, "reason"));
    }
    row.appendChild(first);
    var kind = document.createElement("td");
    kind.appendChild(item.kind === "live" ? text("span", "live chat", "badge live") : document.createTextNode("callback"));
    row.appendChild(kind);
    ["new", "", "", "just now", "not yet", box.dataset.urgentTarget || "", ""].forEach(function (words) { row.appendChild(text("td", words)); });
    var after = body.querySelector("tr:not(.urgent)");
    body.insertBefore(row, after);
    var empty = document.getElementById("queue-empty");
    if (empty) { empty.hidden = true; }
  }
})();
