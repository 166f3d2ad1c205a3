// Families Connect staff console: "Find a saved reply" in a live chat (templates/_reply_picker.html).
// As the worker types, matching saved replies are listed; choosing one puts its text (with
// {worker} already filled by the server) into the reply box at the cursor, to edit before sending.
// Served from the console itself (the Content-Security-Policy allows no inline script); every
// title and text is set as text, never as markup.
(function () {
  "use strict";
  var picker = document.querySelector(".reply-picker");
  if (!picker) { return; }
  var form = picker.querySelector("form");
  var input = picker.querySelector("input[type=search]");
  var list = picker.querySelector(".picker-matches");
  var status = picker.querySelector(".picker-status");
  var target = document.getElementById(picker.dataset.target);
  var url = picker.dataset.searchUrl;
  if (!form || !input || !list || !target || !url) { return; }
  var timer = null;
  var asked = 0;
  // Until the worker has been in the reply box, a saved reply goes after what is there.
  var placed = false;
  target.addEventListener("focus", function () { placed = true; });

  function say(words) { status.textContent = words; }

  function clear() {
    list.replaceChildren();
    list.hidden = true;
  }

  function use(reply) {
    var start = placed ? target.selectionStart : target.value.length;
    var end = placed ? target.selectionEnd : target.value.length;
    var before = target.value.slice(0, start);
    var text = reply.text;
    // Keep a space between what the worker wrote and the saved reply.
    if (before && !/\s$/.test(before)) { text = " " + text; }
    target.setRangeText(text, start, end, "end");
    target.dispatchEvent(new Event("input", { bubbles: true }));
    clear();
    input.value = "";
    say("\u201c" + reply.title + "\u201d is in your reply: change it as you need, then send it.");
    target.focus();
  }

  function show(replies) {
    clear();
    if (!replies.length) {
      say("No saved reply matches those words.");
      return;
    }
    replies.forEach(function (reply) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "picker-choice";
      var title = document.createElement("strong");
      title.textContent = reply.title;
      var text = document.createElement("span");
      text.className = "picker-text";
      text.textContent = reply.text;
      button.append(title, text);
      button.addEventListener("click", function () { use(reply); });
      item.append(button);
      list.append(item);
    });
    list.hidden = false;
    say(replies.length === 1 ? "1 saved reply matches: choose it to use it." : replies.length + " saved replies match: choose one to use it.");
  }

  function find() {
    var words = input.value.trim();
    var mine = ++asked;
    if (!words) { clear(); say(""); return; }
    fetch(url + "?q=" + encodeURIComponent(words), { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (reply) {
        // The session ended: go to the login page, as the transcript refresh does.
        if (reply.status === 401 || reply.type === "opaqueredirect") {
          window.location.assign("/login");
          return null;
        }
        return reply.ok ? reply.json() : null;
      })
      .then(function (found) {
        if (found === null || mine !== asked) { return; }  // an older search answering late
        show(found.replies || []);
      })
      .catch(function () { say("Saved replies could not be searched just now: try again."); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(find, 250);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && !list.hidden) {
      event.preventDefault();
      var first = list.querySelector("button");
      if (first) { first.focus(); }
    } else if (event.key === "Escape") {
      clear();
    }
  });
  list.addEventListener("keydown", function (event) {
    var buttons = Array.prototype.slice.call(list.querySelectorAll("button"));
    var at = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < buttons.length - 1) { event.preventDefault(); buttons[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? buttons[at - 1] : input).focus(); }
    if (event.key === "Escape") { clear(); input.focus(); }
  });
  // With script the Find button searches here instead of opening the library in a new tab.
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    find();
  });
})();
