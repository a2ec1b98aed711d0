/* A little JavaScript, only where it helps: following a background job's progress, and
   sorting tables by a column. Everything works without it (the progress page reloads itself
   with a <noscript> refresh, tables stay in the server's order). */
(function () {
  "use strict";

  // --- progress: <div data-progress-url="..."> polls its JSON until the job has finished
  function follow(box) {
    var url = box.getAttribute("data-progress-url");
    var fill = box.querySelector(".fill");
    var label = box.querySelector(".label");
    var status = document.querySelector("[data-progress-status]");
    function show(data) {
      fill.style.width = data.percent + "%";
      box.setAttribute("aria-valuenow", String(data.percent));
      label.textContent = data.total ? data.percent + "%（" + data.done + " / " + data.total + "）" : data.percent + "%";
      if (status) { status.textContent = data.status_label; }
    }
    function poll() {
      var request = new XMLHttpRequest();
      request.open("GET", url);
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        if (request.status !== 200) { window.setTimeout(poll, 3000); return; }
        var data = JSON.parse(request.responseText);
        show(data);
        if (data.finished) {
          window.setTimeout(function () { window.location.reload(); }, 600);
        } else {
          window.setTimeout(poll, 1000);
        }
      };
      request.onerror = function () { window.setTimeout(poll, 3000); };
      request.send();
    }
    poll();
  }

  // --- sortable tables: click a header; cells may carry data-sort="value"
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.getAttribute("data-sort");
    return raw !== null ? raw : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && /^-?[\d.]+%?$/.test(a) && /^-?[\d.]+%?$/.test(b)) { return x - y; }
    return a.localeCompare(b, "zh-Hans-CN");
  }
  function sortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      th.setAttribute("tabindex", "0");
      function sort() {
        var descending = th.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var result = compare(cellValue(r1, index), cellValue(r2, index));
          return descending ? -result : result;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sort(); } });
    });
  }

  // --- a <select data-autosubmit> submits its form when changed
  function autosubmit(select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }

  // --- a <button data-print> prints the page (the record page's A4 print stylesheet)
  function printer(button) {
    button.addEventListener("click", function () { window.print(); });
  }

  // --- <img data-refresh-seconds="30">: the rotating QR code, reloaded just after each period
  // starts (the new picture is loaded before it replaces the old one, so the screen never blanks)
  function rotating(img) {
    var period = parseInt(img.getAttribute("data-refresh-seconds"), 10) * 1000;
    var base = img.getAttribute("src");
    function next() {
      var fresh = new Image();
      fresh.onload = function () { img.src = fresh.src; schedule(); };
      fresh.onerror = function () { window.setTimeout(next, 3000); };
      fresh.src = base + (base.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
    }
    function schedule() { window.setTimeout(next, period - (Date.now() % period) + 300); }
    if (period > 0) { schedule(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("img[data-refresh-seconds]"), rotating);
    Array.prototype.forEach.call(document.querySelectorAll("[data-progress-url]"), follow);
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
    Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), autosubmit);
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), printer);
  });
})();
