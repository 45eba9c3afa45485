// Keeps every deadline countdown current; the server already wrote the first value.
(function () {
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-due")) - Date.now();
      var s = Math.floor(Math.abs(ms) / 1000), days = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600);
      el.textContent = (ms >= 0 ? "还剩 " : "已逾期 ") + days + " 天 " + hours + " 小时";
      el.classList.toggle("late", ms < 0);
    });
  }
  tick();
  setInterval(tick, 60000);
})();
