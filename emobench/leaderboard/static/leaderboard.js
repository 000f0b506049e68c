// emobench leaderboard: sortable/filterable tables, chart tooltips and legend toggles, the system picker,
// the synthetic-runs switch and the confusion-matrix picker. No dependencies, no network.
// Text from result files is only ever inserted with textContent, never as HTML.
(function () {
  "use strict";

  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return { missing: true, text: "" };
    var raw = cell.getAttribute("data-sort");
    if (raw !== null) {
      if (raw === "") return { missing: true, text: "" };
      var num = parseFloat(raw);
      if (!isNaN(num) && /^-?[\d.]+(e-?\d+)?$/i.test(raw.trim())) return { num: num };
      return { text: raw.toLowerCase() };
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
    each(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var keyed = Array.prototype.map.call(tbody.rows, function (r, i) { return { row: r, key: cellKey(r, index), i: i }; });
    keyed.sort(function (x, y) {
      var c = compare(x.key, y.key);
      if (x.key.missing || y.key.missing) return c || x.i - y.i;  // missing values always last
      return (ascending ? c : -c) || x.i - y.i;
    });
    keyed.forEach(function (k) { tbody.appendChild(k.row); });
    if (table.id) applyFilters(table.id);
  }

  function showSynthetic() { return document.body.classList.contains("show-synthetic"); }

  // Long tables show their first rows (data-page-size) and say how many more there are: never silently.
  function pager(table) {
    var size = parseInt(table.getAttribute("data-page-size") || "0", 10);
    if (!size) return null;
    var button = table.pagerButton;
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "show-all";
      button.addEventListener("click", function () {
        table.setAttribute("data-expanded", table.getAttribute("data-expanded") === "1" ? "0" : "1");
        applyFilters(table.id);
      });
      var wrap = table.closest(".table-wrap") || table;
      wrap.parentNode.insertBefore(button, wrap.nextSibling);
      table.pagerButton = button;
    }
    return { size: size, expanded: table.getAttribute("data-expanded") === "1", button: button };
  }

  function applyFilters(tableId) {
    var table = document.getElementById(tableId);
    if (!table || !table.tBodies[0]) return;
    var page = pager(table);
    var selects = document.querySelectorAll('select[data-table="' + tableId + '"]');
    var search = document.querySelector('input[data-search][data-table="' + tableId + '"]');
    var query = search ? search.value.trim().toLowerCase().split(/\s+/).filter(Boolean) : [];
    var shown = 0, total = 0;
    each(table.tBodies[0].rows, function (row) {
      var synthetic = row.classList.contains("synthetic-only");
      if (synthetic && !showSynthetic()) { row.hidden = false; return; }  // hidden by the stylesheet instead
      total += 1;
      var ok = true;
      each(selects, function (sel) {
        if (!ok || !sel.value) return;
        var values = (row.getAttribute("data-" + sel.getAttribute("data-filter")) || "").split("|");
        ok = values.indexOf(sel.value) >= 0;
      });
      if (ok && query.length) {
        var text = row.textContent.toLowerCase();
        ok = query.every(function (q) { return text.indexOf(q) >= 0; });
      }
      if (ok) shown += 1;
      row.hidden = !ok || (page !== null && !page.expanded && shown > page.size);
    });
    var visible = page && !page.expanded ? Math.min(shown, page.size) : shown;
    if (page) {
      page.button.hidden = shown <= page.size;
      page.button.textContent = page.expanded ? "Show the first " + page.size + " rows only"
        : "Show all " + shown + " rows (" + (shown - visible) + " more)";
    }
    var out = document.querySelector('[data-count="' + tableId + '"]');
    if (out) out.textContent = (visible < shown ? "showing " + visible + " of " : "") + shown + " of " + total + " rows";
  }

  function refilterAll() {
    document.querySelectorAll("table[id]").forEach(function (t) { applyFilters(t.id); });
  }

  function initTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      if (!table.tHead) return;
      each(table.tHead.rows[0].cells, function (th, index) {
        var button = th.querySelector("button");
        if (button) button.addEventListener("click", function () { sortTable(table, index, th); });
      });
    });
    document.querySelectorAll("select[data-table]").forEach(function (sel) {
      sel.addEventListener("change", function () { applyFilters(sel.getAttribute("data-table")); });
    });
    document.querySelectorAll("input[data-search]").forEach(function (input) {
      input.addEventListener("input", function () { applyFilters(input.getAttribute("data-table")); });
    });
    refilterAll();
  }

  function initPlots() {
    var tip = document.querySelector(".tooltip");
    function show(ev) {
      var el = ev.target;
      if (!tip || !el.getAttribute || !el.getAttribute("data-tip")) return;
      tip.textContent = el.getAttribute("data-tip");
      tip.hidden = false;
      var box = el.getBoundingClientRect();
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
    });
    document.querySelectorAll(".legend-item").forEach(function (button) {
      button.addEventListener("click", function () {
        var fig = button.closest("figure");
        var attr = button.getAttribute("data-attr"), value = button.getAttribute("data-value");
        var on = button.getAttribute("aria-pressed") !== "false";
        button.setAttribute("aria-pressed", on ? "false" : "true");
        fig.querySelectorAll("svg [data-" + attr + "]").forEach(function (g) {
          if (g.getAttribute("data-" + attr) === value) g.classList.toggle("off-" + attr, on);
        });
      });
    });
  }

  function initPicker() {
    document.querySelectorAll("[data-picker]").forEach(function (picker) {
      var boxes = picker.querySelectorAll('input[type="checkbox"]');
      var count = picker.querySelector("[data-pick-count]");
      function apply() {
        var n = 0;
        each(boxes, function (box) {
          var panel = document.getElementById(box.value);
          if (panel) panel.hidden = !box.checked;
          if (box.checked) n += 1;
        });
        if (count) count.textContent = n + " of " + boxes.length + " shown";
      }
      each(boxes, function (box) { box.addEventListener("change", apply); });
      picker.querySelectorAll("[data-pick]").forEach(function (button) {
        button.addEventListener("click", function () {
          var all = button.getAttribute("data-pick") === "all";
          each(boxes, function (box) {
            var synthetic = box.closest(".synthetic-only");
            box.checked = all && (!synthetic || showSynthetic());
          });
          apply();
        });
      });
      apply();
    });
  }

  function initSynthetic() {
    var toggle = document.querySelector("[data-synthetic-toggle]");
    if (!toggle) return;
    var stored = null;
    try { stored = window.sessionStorage.getItem("emobench-show-synthetic"); } catch (e) { stored = null; }
    var on = stored === null ? document.body.getAttribute("data-default-synthetic") === "1" : stored === "1";
    toggle.checked = on;
    document.body.classList.toggle("show-synthetic", on);
    toggle.addEventListener("change", function () {
      document.body.classList.toggle("show-synthetic", toggle.checked);
      try { window.sessionStorage.setItem("emobench-show-synthetic", toggle.checked ? "1" : "0"); } catch (e) { /* private mode */ }
      refilterAll();
    });
  }

  function initBlocks() {
    document.querySelectorAll("select[data-block-picker]").forEach(function (sel) {
      var scope = sel.closest("section") || document;
      function apply() {
        scope.querySelectorAll("[data-block]").forEach(function (div) {
          div.hidden = sel.value !== "all" && div.getAttribute("data-block") !== sel.value;
        });
      }
      sel.addEventListener("change", apply);
      apply();
    });
  }

  function initConfusion() {
    var sel = document.querySelector("select[data-confusion]");
    if (!sel) return;
    function apply() {
      document.querySelectorAll("[data-confusion-index]").forEach(function (div) {
        div.hidden = div.getAttribute("data-confusion-index") !== sel.value;
      });
    }
    sel.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    initSynthetic(); initTables(); initPlots(); initPicker(); initBlocks(); initConfusion();
  });
})();
