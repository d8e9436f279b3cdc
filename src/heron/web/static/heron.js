// Heron web UI: small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "Select all" checkbox of the alert queue.
  document.querySelectorAll("input.select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      var form = box.closest("form");
      form.querySelectorAll('input[name="ids"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });
  // Range pickers apply as soon as a range is chosen.
  document.querySelectorAll("select.autosubmit").forEach(function (select) {
    select.addEventListener("change", function () {
      var form = select.form;
      form.querySelectorAll('input[name="from"], input[name="to"]').forEach(function (input) {
        input.value = "";
      });
      form.submit();
    });
  });
  // Bulk actions need a selection; closing needs a disposition.
  var bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", function (event) {
      var chosen = bulk.querySelectorAll('input[name="ids"]:checked').length;
      var action = event.submitter ? event.submitter.value : "";
      if (!chosen) {
        event.preventDefault();
        window.alert("Select at least one alert first.");
      } else if (action === "close" && !bulk.querySelector('select[name="disposition"]').value) {
        event.preventDefault();
        window.alert("Choose a disposition to close alerts.");
      }
    });
  }
  // Ctrl/Cmd+Enter runs the search.
  document.querySelectorAll("form.search textarea").forEach(function (area) {
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        area.form.submit();
      }
    });
  });
});
