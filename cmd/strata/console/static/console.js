// strata console: the "branch moved" notice (Server-Sent Events from
// /-/events), confirmations and keyboard shortcuts. Pages work without it.
"use strict";
(function () {
  var body = document.body;
  var branch = body.dataset.branch, head = body.dataset.head;
  var live = document.getElementById("live");

  function notice(newHead) {
    live.textContent = "";
    var msg = document.createElement("span");
    msg.textContent = newHead
      ? "Branch " + branch + " moved to " + newHead.slice(0, 12) + " — "
      : "Branch " + branch + " was deleted — ";
    var a = document.createElement("a");
    a.href = location.href;
    a.textContent = "reload";
    a.id = "reload";
    live.appendChild(msg);
    live.appendChild(a);
    live.hidden = false;
    body.classList.add("moved");
  }

  if (branch && head && window.EventSource) {
    var es = new EventSource("/-/events?branch=" + encodeURIComponent(branch));
    var check = function (e) {
      var d = JSON.parse(e.data);
      var now = e.type === "move" ? d.new : d.head;
      if (now !== head) {
        notice(now);
        es.close();
      }
    };
    es.addEventListener("head", check);
    es.addEventListener("move", check);
    es.addEventListener("open", function () { body.dataset.live = "on"; });
  }

  document.querySelectorAll("form.confirm").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  // Keyboard: j/k move between rows of a list, Enter follows the row's
  // first link, g then b|c goes to branches|compare, / focuses a field.
  var rows = [], at = -1, g = false;
  function collect() {
    rows = Array.prototype.slice.call(document.querySelectorAll("table.list tbody tr, table.log tbody tr"))
      .filter(function (r) { return r.querySelector("a"); });
  }
  function select(i) {
    if (!rows.length) return;
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r) { r.classList.remove("sel"); });
    rows[at].classList.add("sel");
    rows[at].querySelector("a").focus();
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target.tagName;
    if (e.ctrlKey || e.metaKey || e.altKey || t === "INPUT" || t === "TEXTAREA" || t === "SELECT") return;
    if (g) {
      g = false;
      if (e.key === "b") location.href = "/branches";
      if (e.key === "c") location.href = "/compare";
      return;
    }
    switch (e.key) {
      case "j": collect(); select(at + 1); break;
      case "k": collect(); select(at - 1); break;
      case "g": g = true; break;
      case "/":
        var f = document.querySelector("main input:not([type=hidden])");
        if (f) { e.preventDefault(); f.focus(); }
        break;
    }
  });
})();
