// Pledgeflow pages: countdowns kept current, forms sent once, final actions confirmed, and the
// pledge item editor's rows added, moved and removed. Every page works without this script.
(function () {
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-due")) - Date.now();
      var s = Math.floor(Math.abs(ms) / 1000), days = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600);
      el.textContent = (ms >= 0 ? "还剩 " : "已逾期 ") + days + " 天 " + hours + " 小时";
      el.classList.toggle("late", ms < 0);
    });
  }

  // A form asks before a final action (data-confirm), and its buttons are disabled once it is sent.
  document.addEventListener("submit", function (e) {
    var form = e.target, question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { e.preventDefault(); return; }
    setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  function renumber(list) {
    Array.prototype.forEach.call(list.children, function (row, n) {
      var first = row.querySelector("label");
      if (first) first.textContent = "第" + (n + 1) + "项 承诺内容";
      row.querySelectorAll("[id]").forEach(function (el) {
        var label = row.querySelector("label[for='" + el.id + "']"), id = el.id.replace(/-\d+$/, "-" + (n + 1));
        el.id = id; if (label) label.setAttribute("for", id);
      });
    });
  }

  function clear(row) {
    row.querySelectorAll("input, textarea").forEach(function (el) { el.value = ""; });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button") : null, list = document.getElementById("rows");
    if (!button || !list) return;
    var row = button.closest(".row");
    if (button.id === "add-row") {
      var fresh = list.lastElementChild.cloneNode(true);
      clear(fresh); list.appendChild(fresh); renumber(list);
      fresh.querySelector("textarea").focus();
    } else if (row && button.hasAttribute("data-remove")) {
      if (list.children.length > 1) { row.remove(); } else { clear(row); }
      renumber(list);
    } else if (row && button.hasAttribute("data-move")) {
      var up = button.getAttribute("data-move") === "-1", other = up ? row.previousElementSibling : row.nextElementSibling;
      if (other) { list.insertBefore(up ? row : other, up ? other : row); renumber(list); button.focus(); }
    }
  });

  tick();
  setInterval(tick, 60000);
})();
