// gcwb report: click a column's header to sort a table.sortable by it (again to reverse).
// Cells sort by data-value (the exact value) else their text; empty cells last.
// Without JavaScript the tables stay in their files' order.
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-value");
    if (v !== null) return v;
    return cell.classList.contains("num") ? "" : cell.textContent.trim();
  }
  function sort(table, col, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (r) { return r.cells[col] ? key(r.cells[col]) : ""; });
    var numeric = keys.every(function (k) { return k === "" || !isNaN(Number(k)); });
    var order = rows.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x === "" || y === "") return x === y ? a - b : (x === "" ? 1 : -1);
      var d = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return (ascending ? d : -d) || a - b;
    });
    order.forEach(function (i) { body.appendChild(rows[i]); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var head = table.tHead.rows[table.tHead.rows.length - 1];
    Array.prototype.forEach.call(head.cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sort(table, col, th); });
    });
  });
})();
