// emobench leaderboard: sortable/filterable tables, plot tooltips and legend toggles. No dependencies.
// Text from result files is only ever inserted with textContent, never as HTML.
(function () {
  "use strict";

  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return { missing: true, text: "" };
    var raw = cell.getAttribute("data-sort");
    if (raw !== null) {
      if (raw === "") return { missing: true, text: "" };
      var num = parseFloat(raw);
      if (!isNaN(num)) return { num: num };
    }
    return { text: cell.textContent.trim().toLowerCase() };
  }

  function compare(a, b) {
    if (a.missing || b.missing) return a.missing === b.missing ? 0 : a.missing ? 1 : -1;
    if (a.num !== undefined && b.num !== undefined) return a.num - b.num;
    return String(a.text).localeCompare(String(b.text), undefined, { numeric: true });
  }

  function sortTable(table, index, th) {
    var tbody = table.tBodies[0];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(tbody.rows);
    var keyed = rows.map(function (r, i) { return { row: r, key: cellKey(r, index), i: i }; });
    keyed.sort(function (x, y) {
      var c = compare(x.key, y.key);
      if (x.key.missing || y.key.missing) return c || x.i - y.i;  // missing values always last
      return (ascending ? c : -c) || x.i - y.i;
    });
    keyed.forEach(function (k) { tbody.appendChild(k.row); });
  }

  function applyFilters(tableId) {
    var table = document.getElementById(tableId);
    if (!table) return;
    var selects = document.querySelectorAll('select[data-table="' + tableId + '"]');
    var search = document.querySelector('input[data-search][data-table="' + tableId + '"]');
    var query = search ? search.value.trim().toLowerCase().split(/\s+/).filter(Boolean) : [];
    var shown = 0, rows = table.tBodies[0].rows;
    Array.prototype.forEach.call(rows, function (row) {
      var ok = true;
      Array.prototype.forEach.call(selects, function (sel) {
        if (!ok || !sel.value) return;
        var values = (row.getAttribute("data-" + sel.getAttribute("data-filter")) || "").split("|");
        ok = values.indexOf(sel.value) >= 0;
      });
      if (ok && query.length) {
        var text = row.textContent.toLowerCase();
        ok = query.every(function (q) { return text.indexOf(q) >= 0; });
      }
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    var out = document.querySelector('[data-count="' + tableId + '"]');
    if (out) out.textContent = shown + " of " + rows.length + " rows";
  }

  function initTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      if (!table.tHead) return;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        var button = th.querySelector("button");
        if (button) button.addEventListener("click", function () { sortTable(table, index, th); });
      });
      applyFilters(table.id);
    });
    document.querySelectorAll("select[data-table]").forEach(function (sel) {
      sel.addEventListener("change", function () { applyFilters(sel.getAttribute("data-table")); });
    });
    document.querySelectorAll("input[data-search]").forEach(function (input) {
      input.addEventListener("input", function () { applyFilters(input.getAttribute("data-table")); });
    });
  }

  function initPlots() {
    var tip = document.querySelector(".tooltip");
    function show(ev) {
      var pt = ev.target;
      if (!tip || !pt.classList || !pt.classList.contains("pt")) return;
      tip.textContent = pt.getAttribute("data-tip");
      tip.hidden = false;
      var box = pt.getBoundingClientRect();
      var x = Math.min(box.right + 8, window.innerWidth - tip.offsetWidth - 8);
      tip.style.left = Math.max(x, 4) + "px";
      tip.style.top = Math.max(box.top - tip.offsetHeight - 6, 4) + "px";
    }
    function hide() { if (tip) tip.hidden = true; }
    document.querySelectorAll("figure.plot svg.chart").forEach(function (svg) {
      svg.addEventListener("mouseover", show);
      svg.addEventListener("focusin", show);
      svg.addEventListener("mouseout", hide);
      svg.addEventListener("focusout", hide);
      // the SVG <title> is a fallback for readers without JavaScript; with it, the styled tooltip is enough
      svg.querySelectorAll(".pt title").forEach(function (t) { t.remove(); });
    });
    document.querySelectorAll(".legend-item").forEach(function (button) {
      button.addEventListener("click", function () {
        var fig = button.closest("figure");
        var group = fig.querySelector('g.series[data-series="' + button.getAttribute("data-series") + '"]');
        var on = button.getAttribute("aria-pressed") !== "false";
        button.setAttribute("aria-pressed", on ? "false" : "true");
        if (group) group.classList.toggle("off", on);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { initTables(); initPlots(); });
})();
